"""A publisher killed with SIGKILL at the worst moments (RELIABILITY.md C1, C2).

The child process is a real publisher; it kills itself (`kill -9`, no cleanup, no
rollback of its own) at one chosen point by wrapping the step that precedes it.
"""

import hashlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from marketplace.editions import jobs, schedule
from marketplace.editions.models import Edition, EditionFile, EditionItem
from marketplace.editions.services import verify_chain

ROOT = str(Path(__file__).resolve().parents[2])
PUBLISHER = """
import os, signal, sys
from datetime import datetime
from flask import Flask
from marketplace import db
from marketplace.editions import jobs, schedule, services
url, directory, now, crash_after = sys.argv[1:5]
app = Flask("publisher")
app.config.update(DATABASE_URL=url, MARKETPLACE_TIMEZONE="Asia/Shanghai",
                  EDITIONS_DIRECTORY=directory, SECRET_KEY="test-secret")
db.init_app(app)

def killed_after(module, name):
    step = getattr(module, name)
    def then_die(*args, **kwargs):
        step(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(module, name, then_die)

if crash_after == "items":  # C1: the items are inserted, nothing is committed
    killed_after(services, "_insert_items")
    schedule.publish_due(app.extensions["db"]["sessionmaker"],
                         now=datetime.fromisoformat(now), timezone="Asia/Shanghai")
else:  # C2: the edition is committed, its files are not written yet
    jobs.write_files = lambda app, edition_id: os.kill(os.getpid(), signal.SIGKILL)
    jobs.publish_now(app, "scenes")
print("not killed")
"""
NOW = datetime(2026, 12, 1, 1, 0, 30, tzinfo=UTC)  # 09:00:30 in Shanghai


def publish_and_die(app, database_url, crash_after):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PUBLISHER,
            database_url,
            app.config["EDITIONS_DIRECTORY"],
            NOW.isoformat(),
            crash_after,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


def count(db, model):
    db.rollback()  # a fresh snapshot
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_killed_before_commit_leaves_nothing_and_the_next_tick_publishes_once(
    app, db, make_scene, monthly_schedule, database_url
):
    make_scene()
    make_scene(title="第二个场景：园区物流无人机航线")
    publish_and_die(app, database_url, "items")
    assert count(db, Edition) == 0
    assert count(db, EditionItem) == 0

    factory = app.extensions["db"]["sessionmaker"]
    published = schedule.publish_due(factory, now=NOW, timezone="Asia/Shanghai")
    again = schedule.publish_due(factory, now=NOW, timezone="Asia/Shanghai")
    assert len(published) == 1 and again == []
    assert count(db, EditionItem) == 2
    assert verify_chain(db).ok


def test_killed_after_commit_the_next_tick_writes_and_records_the_files(
    app, db, client, make_scene, database_url
):
    make_scene()
    publish_and_die(app, database_url, "files")
    assert count(db, Edition) == 1
    assert count(db, EditionFile) == 0
    edition_id = db.scalar(sa.select(Edition.id))

    assert jobs.write_missing_files(app) == 1
    db.rollback()
    recorded = {
        f.format: f.sha256
        for f in db.scalars(
            sa.select(EditionFile).where(EditionFile.edition_id == edition_id)
        )
    }
    assert sorted(recorded) == ["csv", "json", "xlsx"]
    for fmt, sha256 in recorded.items():
        response = client.get(f"/api/v1/editions/{edition_id}/export.{fmt}")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == sha256
        response.close()
    assert jobs.write_missing_files(app) == 0
    assert verify_chain(db).ok
