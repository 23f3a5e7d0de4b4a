"""Exactly-once publication with real processes racing (RELIABILITY.md D1, D3)."""

from datetime import UTC, datetime

import sqlalchemy as sa

from marketplace.editions.models import Edition

# Each process sets up what a worker's publication needs (the database and settings,
# not every page), then, at the common start time, publishes.
SETUP = """
import json, sys
from datetime import datetime
from flask import Flask
from marketplace import db
from marketplace.editions import jobs, schedule
url, mode, now, directory = sys.argv[1:5]
app = Flask("racer")
app.config.update(DATABASE_URL=url, MARKETPLACE_TIMEZONE="Asia/Shanghai",
                  EDITIONS_DIRECTORY=directory, SECRET_KEY="test-secret")
db.init_app(app)
moment = datetime.fromisoformat(now)
"""
ACTION = """
if mode == "scheduled":
    ids = schedule.publish_due(app.extensions["db"]["sessionmaker"], now=moment,
                               timezone="Asia/Shanghai")
else:
    edition = jobs.publish_now(app, "scenes", requested_at=moment)
    ids = [edition.id] if edition else []
print(json.dumps(ids))
"""


def race(run_racers, database_url, processes, mode, now, tmp_path) -> list:
    arguments = [database_url, mode, now.isoformat(), str(tmp_path / "editions")]
    return run_racers(SETUP, ACTION, arguments, processes)


def racers(db) -> int:
    return 8 if db.get_bind().dialect.name == "sqlite" else 16


def test_racing_scheduled_ticks_publish_one_edition(
    db, make_scene, database_url, tmp_path, monthly_schedule, run_racers
):
    make_scene()
    now = datetime(2026, 12, 1, 1, 0, 30, tzinfo=UTC)  # 09:00:30 in Shanghai
    results = race(run_racers, database_url, racers(db), "scheduled", now, tmp_path)
    db.rollback()
    editions = db.scalars(sa.select(Edition).where(Edition.list_kind == "scenes")).all()
    assert len(editions) == 1
    assert editions[0].period_key == "2026-12-01T09:00:00+08:00"
    assert sorted(len(r) for r in results) == [0] * (len(results) - 1) + [1]


def test_racing_publish_now_clicks_publish_one_edition(
    db, make_scene, database_url, tmp_path, run_racers
):
    make_scene()
    now = datetime.now(UTC)
    results = race(run_racers, database_url, racers(db), "now", now, tmp_path)
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Edition)) == 1
    assert sum(len(r) for r in results) == 1
