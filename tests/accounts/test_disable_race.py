"""RELIABILITY D7: an admin disables a vendor while five processes keep sending the
vendor's requests. Every request that starts after the disable commits gets 401,
and no session of the vendor is left."""

import json
import subprocess
import sys
import time

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import UserSession
from marketplace.db import session_scope, utcnow

CALLER = """
import json, sys, time
from pathlib import Path
from marketplace import create_app

app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "test-secret",
                  "MARKETPLACE_SCHEDULER": "off", "TESTING": True})
client = app.test_client()
headers = {"Authorization": "Bearer " + sys.argv[2]}
stop, ready, calls = Path(sys.argv[3]), Path(sys.argv[4]), []
while not stop.exists():
    started = time.time()
    status = client.get("/api/v1/auth/me", headers=headers).status_code
    calls.append((started, status))
    if len(calls) == 1:
        ready.touch()
print(json.dumps(calls))
"""
CALLERS = 5


def test_requests_starting_after_the_disable_commits_are_refused(
    app, make_user, token_for, database_url, tmp_path, finish_child
):
    vendor, admin = make_user("vendor"), make_user("admin")
    token = token_for(vendor)["Authorization"].removeprefix("Bearer ")
    stop = tmp_path / "stop"
    callers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CALLER,
                database_url,
                token,
                str(stop),
                str(tmp_path / f"ready{n}"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(CALLERS)
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            (tmp_path / f"ready{n}").exists() for n in range(CALLERS)
        ):
            time.sleep(0.05)
        assert all((tmp_path / f"ready{n}").exists() for n in range(CALLERS))
        time.sleep(0.3)  # let every caller have requests in flight
        with session_scope(app) as session:
            accounts.set_user_active(
                session,
                session.get(type(admin), admin.id),
                vendor.id,
                False,
                now=utcnow(),
            )
        committed = time.time()
        time.sleep(0.5)
    finally:
        stop.touch()
        outputs = [finish_child(caller) for caller in callers]
    calls = [call for output in outputs for call in json.loads(output)]
    before = [status for started, status in calls if started < committed]
    after = [status for started, status in calls if started > committed]
    assert before and after, "the callers did not run on both sides of the disable"
    assert set(before) <= {200, 401} and 200 in before
    assert set(after) == {401}, sorted(set(after))
    with session_scope(app) as session:
        remaining = session.scalar(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == vendor.id)
        )
    assert remaining == 0
