"""Log-in and log-out pages."""

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for

from marketplace.accounts import auth, services
from marketplace.db import get_session, utcnow
from marketplace.errors import TooManyRequests
from marketplace.policy import PUBLIC, SIGNED_IN, access
from marketplace.security import client_address

bp = Blueprint("accounts", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site paths: '//evil', 'https://evil', '/\\evil' all go home instead.

    So does any control character or space: CR/LF cannot go in a Location header
    (werkzeug raises, a 500), and browsers drop tabs and line breaks from URLs, so
    '/\\t/evil' would arrive as '//evil'.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("home.index")
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in target):
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("home.index")
    return target


@bp.get("/login")
@access(PUBLIC)
def login() -> Any:
    return render_template("accounts/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@access(PUBLIC)
def login_submit() -> Any:
    session = get_session()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    next_url = request.form.get("next", "")
    # Checked before the session starts: nothing about the target can fail after.
    target = safe_next(next_url)
    try:
        user = services.authenticate(
            session, username, password, client_address(), now=utcnow()
        )
    except TooManyRequests as error:
        page = render_template(
            "accounts/login.html", error=error.message, username=username, next=next_url
        )
        return page, 429, {"Retry-After": str(error.retry_after_seconds)}
    if user is None:
        session.commit()
        return render_template(
            "accounts/login.html",
            error="用户名或密码错误",
            username=username,
            next=next_url,
        ), 401
    auth.start_browser_session(user)
    session.commit()
    flash(f"欢迎，{user.display_label}", "success")
    return redirect(target)


@bp.post("/logout")
@access(SIGNED_IN)
def logout() -> Any:
    auth.end_browser_session()
    get_session().commit()
    flash("已退出登录", "success")
    return redirect(url_for("home.index"))
