"""Dashboard (数据看板) latency and queries per page on a large catalogue.

A benchmark, not a test. It builds the database of bench/search_latency.py (by
default 10,000 scene opportunities and 100,000 capabilities posted over two years,
tokens cached in /tmp) plus a history of matchmaking events (``--events`` events of
``--meetings`` meetings each, with pairings, intentions, contracts and amounts), then
times the dashboard through the Flask app's test client, one request at a time, and
prints p50 / p99 / max and the number of SQL statements each request runs.

    .venv/bin/python bench/dashboard.py                       # both backends
    .venv/bin/python bench/dashboard.py --backend postgresql
    .venv/bin/python bench/dashboard.py --scenes 1000 --capabilities 10000 --queries 10

Cases: the public page (this year, another year, a domain, a district, an industry),
the internal page as a center officer, the XLSX of every table, and
``GET /api/v1/dashboard`` public and internal. "statements" counts every statement
the request sent to the database (the session lookup of a signed-in officer
included), from SQLAlchemy's ``before_cursor_execute``.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy import event, orm
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_latency as catalogue  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import User  # noqa: E402
from marketplace.accounts.services import open_session  # noqa: E402
from marketplace.db import get_engine, make_engine  # noqa: E402
from marketplace.events.models import (  # noqa: E402
    Event,
    EventMeeting,
    EventPairing,
    EventParticipant,
)

OUTCOMES = ("follow_up", "intent", "signed", None)


def add_events(url: str, n_events: int, meetings: int, seed: int) -> int:
    """Events over the past two years, each with `meetings` held meetings."""
    rng = random.Random(seed)
    engine = make_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    with engine.begin() as connection:
        scenes = connection.execute(
            sa.text("SELECT id, organization_id FROM scenes WHERE status = 'published'")
        ).all()
        capabilities = connection.execute(
            sa.text(
                "SELECT id, organization_id FROM capabilities "
                "WHERE status = 'published'"
            )
        ).all()
        events, participants, pairings, held = [], [], [], []
        for number in range(1, n_events + 1):
            day = (now - timedelta(days=rng.randint(0, 730))).date()
            events.append(
                {
                    "id": number,
                    "name": f"场景对接会第{number}场",
                    "domain": "城市治理",
                    "date": day,
                    "venue": "无锡市民中心",
                    "sessions": [{"start": "09:00", "end": "17:00"}],
                    "meeting_minutes": 20,
                    "tables": 10,
                    "max_meetings_per_scene": 3,
                    "max_meetings_per_capability": 3,
                    "min_score": 0.1,
                    "status": "completed",
                    "schedule_unconfirmed": False,
                    "delegates": {},
                    "proposal_summary": {},
                    "schedule_report": {},
                    "created_at": now,
                    "updated_at": now,
                }
            )
            at = datetime.combine(day, datetime.min.time(), UTC)
            chosen_scenes = rng.sample(scenes, meetings)
            chosen_capabilities = rng.sample(capabilities, meetings)
            for kind, rows in (
                ("scene_id", chosen_scenes),
                ("capability_id", chosen_capabilities),
            ):
                participants += [
                    {
                        "event_id": number,
                        "scene_id": None,
                        "capability_id": None,
                        kind: item_id,
                        "organization_id": organization_id,
                        "status": "accepted",
                        "created_at": at,
                    }
                    for item_id, organization_id in rows
                ]
            for index, ((scene, _), (capability, _)) in enumerate(
                zip(chosen_scenes, chosen_capabilities, strict=True)
            ):
                pair = {
                    "event_id": number,
                    "scene_id": scene,
                    "capability_id": capability,
                }
                pairings.append(
                    {**pair, "score": 0.5, "status": "accepted", "created_at": at}
                )
                outcome = rng.choice(OUTCOMES)
                held.append(
                    {
                        **pair,
                        "slot": index // 10,
                        "table_number": index % 10 + 1,
                        "score": 0.5,
                        "outcome": outcome,
                        "amount": Decimal(rng.randint(10, 500))
                        if outcome == "signed"
                        else None,
                        "outcome_note": "",
                        "outcome_at": at if outcome else None,
                    }
                )
        for table, rows in (
            (Event.__table__, events),
            (EventParticipant.__table__, participants),
            (EventPairing.__table__, pairings),
            (EventMeeting.__table__, held),
        ):
            for chunk in catalogue.chunks(rows, catalogue.INSERT_CHUNK):
                connection.execute(sa.insert(table), chunk)
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('events', 'id'), "
                "(SELECT max(id) FROM events))"
            )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return len(held)


def center_officer(url: str) -> tuple[str, str]:
    """A center account's browser session secret and API token."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with orm.Session(engine) as session:
        user = User(
            username="bench_center",
            password_hash=generate_password_hash("bench-center-password-2026"),
            role="center",
            display_name="推进中心",
            created_at=now,
        )
        session.add(user)
        session.flush()
        lifetime = timedelta(hours=8)
        web = open_session(session, user, "web", now=now, lifetime=lifetime)
        api = open_session(session, user, "api", now=now, lifetime=lifetime)
        session.commit()
    engine.dispose()
    return web, api


class StatementCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.count += 1


def cases(data: catalogue.Dataset) -> list[tuple[str, str, str]]:
    """(label, path, who) for each request timed."""
    this_year = date.today().year
    domain = data.scenes[0]["domain"]
    district = data.scenes[0]["district"]
    industry = catalogue.seed_entries()["industries"][0]["name"]
    page = "/dashboard"
    api = "/api/v1/dashboard"
    return [
        ("page, public, this year", page, "public"),
        ("page, public, last year", f"{page}?year={this_year - 1}", "public"),
        (
            "page, public, one domain",
            f"{page}?{urlencode({'domain': domain})}",
            "public",
        ),
        (
            "page, public, one district",
            f"{page}?{urlencode({'district': district})}",
            "public",
        ),
        (
            "page, public, one industry",
            f"{page}?{urlencode({'industry': industry})}",
            "public",
        ),
        ("page, center (internal)", page, "center"),
        ("XLSX of every table, public", "/dashboard.xlsx", "public"),
        ("API, public", api, "public"),
        (
            "API, public, domain + district",
            f"{api}?{urlencode({'domain': domain, 'district': district})}",
            "public",
        ),
        ("API, center (internal)", api, "center-api"),
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_backend(
    backend: str, args: argparse.Namespace, data: Any, tokens: list[str]
) -> None:
    sqlite_file: Path | None = None
    if backend == "sqlite":
        handle, name = tempfile.mkstemp(prefix="marketplace_dash_", suffix=".sqlite")
        os.close(handle)
        os.unlink(name)
        sqlite_file = Path(name)
        url = f"sqlite:///{sqlite_file}"
    else:
        url = args.pg_url
        catalogue.reset_postgresql(url)
    print(f"\n=== {backend}: {catalogue.server_version(url)} ===", flush=True)
    try:
        started = time.perf_counter()
        catalogue.load(url, data, tokens, analyze_sqlite=False)
        meetings = add_events(url, args.events, args.meetings, args.seed)
        web_secret, api_token = center_officer(url)
        print(
            f"loaded in {time.perf_counter() - started:.0f} s "
            f"({args.events} events, {meetings:,} meetings)",
            flush=True,
        )
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "SECRET_KEY": "x",
                "MARKETPLACE_SCHEDULER": "off",
            }
        )
        public = app.test_client()
        center = app.test_client()
        with center.session_transaction() as browser_session:
            browser_session["sid"] = web_secret
        counter = StatementCounter(get_engine(app))
        header = (
            f"{'case':<34} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
            f"{'statements':>11}"
        )
        print(header)
        print("-" * len(header))
        for label, path, who in cases(data):
            client = center if who == "center" else public
            headers = (
                {"Authorization": f"Bearer {api_token}"} if who == "center-api" else {}
            )
            timings, statements = [], set()
            for index in range(args.warmup + args.queries):
                before = counter.count
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path} as {who}: {response.status_code}")
                if index >= args.warmup:
                    timings.append(elapsed)
                    statements.add(counter.count - before)
            print(
                f"{label:<34} {len(timings):>4} {statistics.median(timings):>8.1f} "
                f"{percentile(timings, 99):>8.1f} {max(timings):>8.1f} "
                f"{'/'.join(str(s) for s in sorted(statements)):>11}",
                flush=True,
            )
        get_engine(app).dispose()
    finally:
        if sqlite_file is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="both"
    )
    parser.add_argument("--scenes", type=int, default=10_000)
    parser.add_argument("--capabilities", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--meetings", type=int, default=40, help="per event")
    parser.add_argument(
        "--queries", type=int, default=30, help="timed requests per case"
    )
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pg-url", default=catalogue.DEFAULT_PG_URL)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench")
    print("dashboard benchmark")
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}")
    print(
        f"items: {args.scenes:,} scenes, {args.capabilities:,} capabilities, "
        f"{args.events} events x {args.meetings} meetings"
    )
    data = catalogue.generate(args.scenes, args.capabilities, args.seed)
    tokens, seconds, how = catalogue.tokenise(data.texts, args.jobs, use_cache=True)
    print(f"tokenised in {seconds:.1f} s ({how})", flush=True)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run_backend(backend, args, data, tokens)


if __name__ == "__main__":
    main()
