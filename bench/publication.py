"""Publishing an edition with its XLSX, CSV and JSON files, at growing sizes.

    .venv/bin/python bench/publication.py [--sizes 2500 5000 10000] [--backend sqlite]

For each size, a fresh database is filled with that many published scenes (texts
recombined from the demo data), then one process publishes an edition and writes its
three files. Printed: seconds for the publishing transaction, for the files, in all,
and the process's peak resident memory above what it used just before publishing
(the kernel's high-water mark, reset first), so you can see that memory does not grow
with the edition: items are streamed through a spool file and the files are streamed.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_bench_publish"


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> float:
    """Reset the kernel's high-water mark to the current size; returns that size."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def fill(url: str, count: int) -> None:
    from marketplace.db import make_engine, utcnow
    from marketplace.organizations.credit_code import check_character
    from marketplace.organizations.models import Organization
    from marketplace.scenes.models import Scene, SceneIndustry
    from marketplace.schema import upgrade_database

    upgrade_database(url)
    demo = json.loads((ROOT / "seed_data/demo/scenes.json").read_text("utf-8"))
    engine = make_engine(url)
    rng = random.Random(7)
    now = utcnow()
    with engine.begin() as connection:
        code = "91320214B00000001"
        connection.execute(
            sa.insert(Organization.__table__),
            [
                {
                    "id": 1,
                    "name": "基准测试单位",
                    "kind": "政府部门",
                    "district": "梁溪区",
                    "credit_code": code + check_character(code),
                    "contact_name": "",
                    "contact_phone": "",
                    "contact_email": "",
                    "created_at": now,
                }
            ],
        )
        scenes, industries = [], []
        for i in range(1, count + 1):
            source = demo[rng.randrange(len(demo))]
            other = demo[rng.randrange(len(demo))]
            scenes.append(
                {
                    "id": i,
                    "title": f"{source['title']}（{i}）",
                    "description": source["description"] + other["description"][:80],
                    "status": "published",
                    "organization_id": 1,
                    "category": "政务类",
                    "domain": source["domain"],
                    "kind": source["kind"],
                    "district": source["district"],
                    "budget": Decimal(source["budget"]) if source["budget"] else None,
                    "funding_source": source["funding_source"],
                    "deadline": date.today() + timedelta(days=90),
                    "contact_name": "王工",
                    "contact_phone": "0510-80000000",
                    "contact_email": "",
                    "contact_public": bool(i % 2),
                    "search_tokens": "",
                    "created_at": now,
                    "updated_at": now,
                    "published_at": now,
                    "created_by_id": None,
                }
            )
            industries += [
                {"scene_id": i, "name": n, "position": p}
                for p, n in enumerate(source["industries"])
            ]
        connection.execute(sa.insert(Scene.__table__), scenes)
        connection.execute(sa.insert(SceneIndustry.__table__), industries)
    engine.dispose()


def child(url: str, directory: str) -> None:
    """Publish once in this process and print figures as JSON."""
    from marketplace import create_app
    from marketplace.db import session_scope, utcnow
    from marketplace.editions.jobs import write_files
    from marketplace.editions.services import publish_edition

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "x",
            "TESTING": True,
            "MARKETPLACE_SCHEDULER": "off",
            "EDITIONS_DIRECTORY": directory,
        }
    )
    before = reset_peak_rss()
    started = time.perf_counter()
    with session_scope(app) as session:
        edition = publish_edition(session, "scenes", now=utcnow(), year=2026)
    published = time.perf_counter()
    write_files(app, edition.id)
    finished = time.perf_counter()
    sizes = {p.suffix: p.stat().st_size for p in Path(directory).rglob("*.*")}
    print(
        json.dumps(
            {
                "items": edition.item_count,
                "publish_s": published - started,
                "files_s": finished - published,
                "total_s": finished - started,
                "peak_rss_growth_mb": peak_rss_mb() - before,
                "sizes": sizes,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--child", nargs=2, metavar=("URL", "DIR"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"cores: {os.cpu_count()}, backend: {args.backend}")
    print(
        f"{'items':>7} {'publish s':>10} {'files s':>8} {'total s':>8} "
        f"{'peak RSS +MB':>13} {'xlsx MB':>8}"
    )
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as work:
            if args.backend == "sqlite":
                url = f"sqlite:///{work}/bench.sqlite"
            else:
                url = PG_URL
                admin = sa.create_engine(
                    PG_URL.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT"
                )
                with admin.connect() as connection:
                    connection.exec_driver_sql(
                        "DROP DATABASE IF EXISTS marketplace_bench_publish"
                    )
                    connection.exec_driver_sql(
                        "CREATE DATABASE marketplace_bench_publish"
                    )
                admin.dispose()
            fill(url, size)
            out = subprocess.run(
                [sys.executable, __file__, "--child", url, f"{work}/editions"],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{r['items']:>7} {r['publish_s']:>10.2f} {r['files_s']:>8.2f} "
                f"{r['total_s']:>8.2f} {r['peak_rss_growth_mb']:>13.1f} "
                f"{r['sizes'].get('.xlsx', 0) / 1e6:>8.2f}"
            )


if __name__ == "__main__":
    main()
