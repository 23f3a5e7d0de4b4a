"""SQLite's write lock held by another process (RELIABILITY.md C4): writes wait up to
the busy timeout, then get a 503 with the error shape, never a 500; reads go on."""

import shutil
import subprocess
import sys

from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.db import session_scope, utcnow
from marketplace.taxonomy import load_seed_taxonomy

HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()  # holds the lock until the test says so
connection.rollback()
"""


def test_a_write_blocked_by_another_writer_is_a_503_then_succeeds(
    sqlite_template, tmp_path
):
    path = tmp_path / "locked.sqlite"
    shutil.copy(sqlite_template, path)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "test-secret",
            "MARKETPLACE_SCHEDULER": "off",
            "SQLITE_BUSY_SECONDS": 1,
            "EDITIONS_DIRECTORY": str(tmp_path / "editions"),
        }
    )
    with session_scope(app) as session:
        load_seed_taxonomy(session)
        accounts.create_user(
            session, "admin1", "correct-horse-9", "admin", now=utcnow()
        )
    client = app.test_client()
    credentials = {"username": "admin1", "password": "correct-horse-9"}

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        blocked = client.post("/api/v1/auth/token", json=credentials)
        assert blocked.status_code == 503
        assert blocked.headers["Retry-After"] == "5"
        error = blocked.get_json()["error"]
        assert error["code"] == "database_unavailable"
        assert error["message"] == "服务暂时不可用，请稍后再试"
        assert client.get("/api/v1/scenes").status_code == 200  # readers go on
    finally:
        holder.communicate("\n", timeout=30)
    assert client.post("/api/v1/auth/token", json=credentials).status_code == 201
    app.extensions["db"]["engine"].dispose()
