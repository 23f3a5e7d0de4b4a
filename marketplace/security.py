"""CSRF tokens for forms and the security headers of every response."""

import hmac
import ipaddress
import secrets

from flask import Flask, Response, current_app, g, request, session

from marketplace.errors import BadRequest, Invalid

CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token() -> str:
    """The token to embed in forms; one per browser session."""
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return str(session[CSRF_KEY])


def _check_csrf() -> None:
    """Refuse a form post without this session's token.

    The JSON API is exempt: it authenticates with bearer tokens, which a browser never
    sends on its own, so a cross-site request cannot use them.
    """
    if request.method not in UNSAFE_METHODS or request.path.startswith("/api/"):
        return
    if current_app.config.get("CSRF_DISABLED"):
        return
    sent = request.form.get(CSRF_FIELD, "") or request.headers.get("X-CSRF-Token", "")
    expected = session.get(CSRF_KEY, "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise BadRequest(
            "页面已过期或请求来源不明，请刷新页面后重试", code="csrf_failed"
        )


def client_address() -> str:
    """The address a request came from, as sign-in throttling and the audit log see it.

    Behind a reverse proxy every request arrives from the proxy, so each would share
    one throttle; but X-Forwarded-For is written by the client unless a proxy
    overwrote it. So the header is read only when the connection comes from a
    configured proxy (TRUSTED_PROXIES), right to left, skipping further trusted
    proxies: the first address that is not one is the client.
    """
    peer = request.remote_addr or ""
    trusted = current_app.config.get("TRUSTED_PROXIES", ())
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for value in request.headers.getlist("X-Forwarded-For")
        for hop in value.split(",")
    ]
    client = peer
    for hop in reversed(hops):
        if not _is_address(hop):
            break  # a client's own junk: keep the last address a proxy vouched for
        client = hop
        if not _is_trusted(hop, trusted):
            break
    return client


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in trusted)


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("PRODUCTION"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if g.get("actor") is not None or request.path.startswith("/api/v1/auth"):
        headers["Cache-Control"] = "no-store"
    return response


NUL_MESSAGE = "不能含有空字符（NUL）"


def _refuse_nul_characters() -> None:
    """A NUL in a query string or form: refused with 422 naming the parameter.

    PostgreSQL text cannot hold NUL, so one in a search box reached the driver and
    came back as a 500 (SQLite would have stored it). JSON bodies are caught where
    their values reach the database (`db._refuse_nul_text`): an unknown key is
    ignored, not refused.
    """
    where = [
        name
        for source in (request.args, request.form)
        for name, value in source.items(multi=True)
        if "\x00" in name or "\x00" in value
    ]
    if where:
        raise Invalid("请求中含有空字符", fields={name: NUL_MESSAGE for name in where})


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul_characters)
    app.before_request(_check_csrf)
    app.after_request(_set_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
