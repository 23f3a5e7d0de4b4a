"""Who is making this request: a browser session or a bearer token, both revocable."""

from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g, request, session

from marketplace.accounts import services
from marketplace.accounts.models import User
from marketplace.db import get_session, utcnow
from marketplace.errors import Unauthorized
from marketplace.policy import check_endpoint_access

SESSION_KEY = "sid"


def current_actor() -> User | None:
    return g.get("actor")


# The API's page for people is a page: the signed-in header, HTML error pages.
API_PAGES = frozenset({"/api/docs"})


def is_api_request() -> bool:
    return request.path.startswith("/api/") and request.path not in API_PAGES


def _load_actor() -> None:
    now = utcnow()
    db = get_session()
    actor: User | None = None
    header = request.headers.get("Authorization", "")
    if is_api_request():
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(
                    "认证头格式应为 Authorization: Bearer TOKEN", code="bad_token"
                )
            actor = services.find_session_user(db, token.strip(), "api", now=now)
            if actor is None:
                raise Unauthorized("令牌无效或已过期", code="bad_token")
    elif SESSION_KEY in session:
        actor = services.find_session_user(db, session[SESSION_KEY], "web", now=now)
        if actor is None:
            session.pop(SESSION_KEY, None)
    g.actor = actor


def _authorize() -> None:
    """Load the actor and check the endpoint's declared access before any view runs."""
    if request.endpoint is None or request.endpoint == "static":
        return
    _load_actor()
    view = current_app.view_functions.get(request.endpoint)
    check_endpoint_access(view, current_actor())


def start_browser_session(user: User) -> None:
    """Log a user in with a fresh session id: a cookie planted earlier is useless."""
    hours = current_app.config["SESSION_LIFETIME_HOURS"]
    secret = services.open_session(
        get_session(), user, "web", now=utcnow(), lifetime=timedelta(hours=hours)
    )
    session.clear()
    session[SESSION_KEY] = secret


def end_browser_session() -> None:
    secret = session.pop(SESSION_KEY, None)
    if secret:
        services.close_session(get_session(), secret, now=utcnow())
    session.clear()


def init_app(app: Flask) -> None:
    app.before_request(_authorize)

    @app.context_processor
    def inject_actor() -> dict[str, Any]:
        return {"actor": g.get("actor")}
