"""Exactly-once publication with real processes racing (RELIABILITY.md D1, D3)."""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from marketplace.editions.models import Edition

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Each process sets up what a worker's publication needs (the database and settings,
# not every page), sleeps until the common start time, then publishes.
RACER = """
import json, sys, time
from datetime import datetime
from flask import Flask
from marketplace import db
from marketplace.editions import jobs, schedule
url, start, mode, now = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
app = Flask("racer")
app.config.update(DATABASE_URL=url, MARKETPLACE_TIMEZONE="Asia/Shanghai",
                  EDITIONS_DIRECTORY=sys.argv[5])
db.init_app(app)
moment = datetime.fromisoformat(now)
time.sleep(max(0.0, start - time.time()))
if mode == "scheduled":
    ids = schedule.publish_due(app.extensions["db"]["sessionmaker"], now=moment,
                               timezone="Asia/Shanghai")
else:
    edition = jobs.publish_now(app, "scenes", requested_at=moment)
    ids = [edition.id] if edition else []
print(json.dumps(ids))
"""


def race(database_url: str, processes: int, mode: str, now: datetime, tmp_path) -> list:
    start = time.time() + 4 + processes * 0.25
    environment = {**os.environ, "PYTHONPATH": ROOT}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                RACER,
                database_url,
                str(start),
                mode,
                now.isoformat(),
                str(tmp_path / "editions"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for _ in range(processes)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert "Traceback" not in err, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def racers(db) -> int:
    return 8 if db.get_bind().dialect.name == "sqlite" else 16


def test_racing_scheduled_ticks_publish_one_edition(
    db, make_scene, database_url, tmp_path, monthly_schedule
):
    make_scene()
    now = datetime(2026, 12, 1, 1, 0, 30, tzinfo=UTC)  # 09:00:30 in Shanghai
    results = race(database_url, racers(db), "scheduled", now, tmp_path)
    db.rollback()
    editions = db.scalars(sa.select(Edition).where(Edition.list_kind == "scenes")).all()
    assert len(editions) == 1
    assert editions[0].period_key == "2026-12-01T09:00:00+08:00"
    assert sorted(len(r) for r in results) == [0] * (len(results) - 1) + [1]


def test_racing_publish_now_clicks_publish_one_edition(
    db, make_scene, database_url, tmp_path
):
    make_scene()
    now = datetime.now(UTC)
    results = race(database_url, racers(db), "now", now, tmp_path)
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Edition)) == 1
    assert sum(len(r) for r in results) == 1
