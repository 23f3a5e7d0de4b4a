"""Two officers scheduling the same event at once (RELIABILITY.md D5), as real
processes: one schedule, nobody double-booked, no error surfaced."""

import sqlalchemy as sa

from marketplace.events.models import EventMeeting

SETUP = """
import json, sys
from flask import Flask
from marketplace import db
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.events import scheduling
url, event_id, user_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
app = Flask("racer")
app.config.update(DATABASE_URL=url, MARKETPLACE_TIMEZONE="Asia/Shanghai")
db.init_app(app)
session = app.extensions["db"]["sessionmaker"]()
actor = session.get(User, user_id)
session.commit()
"""
ACTION = """
event, result = scheduling.schedule_event(session, actor, event_id, now=utcnow())
session.commit()
placed = [[m.scene_id, m.capability_id, m.slot, m.table] for m in result.meetings]
print(json.dumps(sorted(placed)))
"""


def test_concurrent_scheduling_yields_one_consistent_schedule(
    api, scheduled, center, database_url, db, run_racers
):
    event_id = scheduled["id"]
    before = {
        (m["scene_id"], m["capability_id"]): (m["slot"], m["table"])
        for m in scheduled["meetings"]
    }
    # A late change, so the racers have something to place.
    pairings = api.get(f"/events/{event_id}").get_json()["pairings"]
    api.post(f"/events/{event_id}/pairings/{pairings[0]['id']}", {"action": "remove"})
    answers = run_racers(
        SETUP, ACTION, [database_url, str(event_id), str(center.id)], 6
    )
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
