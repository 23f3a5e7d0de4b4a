"""Real processes running the notification jobs at the same instant (RELIABILITY C5,
D1): one notice per dedupe key, one e-mail per user and period."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.db import session_scope, utcnow
from marketplace.notifications import services
from marketplace.notifications.models import Digest, Notification
from marketplace.notifications.store import Notice, store_notices

MONDAY_9 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

# Each process builds what a worker needs (database and settings, no pages), then,
# at the common start time, runs one job.
SETUP = """
import json, sys
from datetime import datetime
from flask import Flask
from marketplace import db
from marketplace.notifications import jobs
url, job, now, port = sys.argv[1:5]
app = Flask("racer")
app.config.update(DATABASE_URL=url, MARKETPLACE_TIMEZONE="Asia/Shanghai",
                  SMTP_HOST="127.0.0.1", SMTP_PORT=int(port), SMTP_TIMEOUT=10,
                  MAIL_FROM="平台 <noreply@wuxi.example>")
db.init_app(app)
moment = datetime.fromisoformat(now)
"""
ACTION = """
if job == "digests":
    print(json.dumps(jobs.deliver_digests(app, moment)))
else:
    print(json.dumps(jobs.find_and_store_notices(app, moment)))
"""


def racers(db):
    return 6 if db.get_bind().dialect.name == "sqlite" else 8


def test_racing_digest_runs_send_one_email_per_user(
    app, db, make_user, database_url, smtp_server, run_racers
):
    users = [make_user("unit") for _ in range(5)]
    for number, user in enumerate(users):
        db.get(User, user.id).email = f"user{number}@wuxi.example"
    db.commit()
    with session_scope(app) as session:
        store_notices(
            session,
            [
                Notice(u.id, "saved_search", "scene", i, "search:1", f"第{i}条", "", "")
                for u in users
                for i in range(3)
            ],
            now=MONDAY_9 - timedelta(hours=1),
        )

    results = run_racers(
        SETUP,
        ACTION,
        [database_url, "digests", MONDAY_9.isoformat(), str(smtp_server.port)],
        racers(db),
    )

    recipients = sorted(m.recipients[0] for m in smtp_server.messages)
    assert recipients == sorted(f"user{n}@wuxi.example" for n in range(5))
    db.rollback()
    db.expire_all()
    rows = db.scalars(sa.select(Digest)).all()
    assert len(rows) == 5
    assert {(r.status, r.attempts, r.notice_count) for r in rows} == {("sent", 1, 3)}
    assert sum(int(r.split("新摘要 ")[1].split(" ")[0]) for r in results) == 5


def test_racing_notice_runs_store_each_notice_once(
    app, db, make_user, make_scene, database_url, run_racers
):
    unit = make_user("unit")
    searcher = make_user("vendor")
    with session_scope(app) as session:
        services.create_saved_search(
            session,
            session.get(User, searcher.id),
            {"list": "scenes", "domain": "城市治理"},
            now=utcnow() - timedelta(minutes=1),
        )
    make_scene(owner=unit, deadline=(date.today() + timedelta(days=3)).isoformat())

    run_racers(SETUP, ACTION, [database_url, "notices", utcnow().isoformat(), "0"], 4)

    db.rollback()

    db.expire_all()
    kinds = db.scalars(sa.select(Notification.kind).order_by(Notification.kind)).all()
    assert kinds == ["deadline_reminder", "saved_search"]
