"""Two officers scheduling the same event at once (RELIABILITY.md D5), as real
processes: one schedule, nobody double-booked, no error surfaced."""

import json
import os
import subprocess
import sys
import time

import sqlalchemy as sa

from marketplace.events.models import EventMeeting

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RACER = """
import json, sys, time
from flask import Flask
from marketplace import db
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.events import scheduling
url, start = sys.argv[1], float(sys.argv[2])
event_id, user_id = int(sys.argv[3]), int(sys.argv[4])
app = Flask("racer")
app.config.update(DATABASE_URL=url, MARKETPLACE_TIMEZONE="Asia/Shanghai")
db.init_app(app)
session = app.extensions["db"]["sessionmaker"]()
actor = session.get(User, user_id)
session.commit()
time.sleep(max(0.0, start - time.time()))
event, result = scheduling.schedule_event(session, actor, event_id, now=utcnow())
session.commit()
placed = [[m.scene_id, m.capability_id, m.slot, m.table] for m in result.meetings]
print(json.dumps(sorted(placed)))
"""


def test_concurrent_scheduling_yields_one_consistent_schedule(
    api, scheduled, center, database_url, db
):
    event_id = scheduled["id"]
    before = {
        (m["scene_id"], m["capability_id"]): (m["slot"], m["table"])
        for m in scheduled["meetings"]
    }
    # A late change, so the racers have something to place.
    pairings = api.get(f"/events/{event_id}").get_json()["pairings"]
    api.post(f"/events/{event_id}/pairings/{pairings[0]['id']}", {"action": "remove"})
    processes = 6
    start = time.time() + 3 + processes * 0.3
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                RACER,
                database_url,
                str(start),
                str(event_id),
                str(center.id),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
        for _ in range(processes)
    ]
    answers = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert "Traceback" not in err, err
        answers.append(json.loads(out.strip().splitlines()[-1]))
    assert all(answer == answers[0] for answer in answers)
    db.commit()
    stored = db.execute(
        sa.select(
            EventMeeting.scene_id,
            EventMeeting.capability_id,
            EventMeeting.slot,
            EventMeeting.table_number,
        ).where(EventMeeting.event_id == event_id)
    ).all()
    assert sorted(list(row) for row in stored) == answers[0]
    for column in (3, 0, 1):
        keys = [(row[2], row[column]) for row in stored]
        assert len(keys) == len(set(keys))
    for scene_id, capability_id, slot, table in stored:
        if (scene_id, capability_id) in before:
            assert before[(scene_id, capability_id)] == (slot, table)
