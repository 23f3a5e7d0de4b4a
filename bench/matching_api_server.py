"""A bare Flask app for the matches API benchmark: the ceiling of the server setup.

It answers the same URL as the real matches endpoint with a small fixed JSON body,
with no database, no session and no matcher, so running it under the same gunicorn
settings shows what gunicorn + Flask + wrk cost on this machine by themselves::

    .venv/bin/gunicorn -w 2 -b 127.0.0.1:8001 --pythonpath bench \\
        matching_api_server:app

`bench/matching_speed.py` starts it itself, next to the real app (``wsgi:app``).
"""

from typing import Any

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/api/v1/scenes/<int:scene_id>/matches")
def scene_matches(scene_id: int) -> Any:
    return jsonify({"items": [{"capability_id": scene_id, "score": 0.5}]})


@app.get("/")
def index() -> Any:
    return jsonify({"ok": True})
