"""The production server as it is started (`gunicorn wsgi:app` from the project root,
which reads gunicorn.conf.py): a long request line reaches the application and gets
the JSON error shape, not gunicorn's own HTML 414 (issue 12, finding 13)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_a_10000_character_search_gets_the_json_error_shape(database_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "MARKETPLACE_SCHEDULER": "off",
        "MARKETPLACE_DENSE": "off",
        "MARKETPLACE_EDITIONS_DIR": str(tmp_path / "editions"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = _get(f"{base}/api/v1/scenes?per_page=1")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "gunicorn did not start in 60 s"
                time.sleep(0.3)
        assert status == 200
        query = urllib.parse.quote("智慧交通" * 2500)  # 10,000 characters, 90 KB
        status, content_type, body = _get(f"{base}/api/v1/scenes?q={query}")
        assert status == 422
        assert content_type.startswith("application/json")
        error = json.loads(body)["error"]
        assert error["code"] == "invalid" and "q" in error["fields"]
    finally:
        server.terminate()
        server.communicate(timeout=30)
