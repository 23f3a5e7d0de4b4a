"""Domain errors and HTTP errors to the CONTRACT JSON shape or a Chinese page."""

import logging
from typing import Any

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from marketplace import audit
from marketplace.accounts.auth import is_api_request
from marketplace.accounts.models import User
from marketplace.db import close_session, get_session, utcnow
from marketplace.errors import DomainError, TransitionNotAllowed

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "页面或资源不存在",
    405: "不支持该请求方法",
    413: "提交的内容过大",
    415: "不支持的内容类型，请使用 application/json",
    429: "请求过于频繁",
    500: "服务器内部错误，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
}


def _wants_json() -> bool:
    return is_api_request()


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    *,
    retry_after: int | None = None,
) -> Any:
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if _wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status, headers
    template = "errors/error.html"
    page = render_template(
        template, status=status, message=message, fields=fields or {}
    )
    return page, status, headers


def _record_denial(error: TransitionNotAllowed) -> None:
    """The refused change was rolled back; write its audit row on its own."""
    session = get_session()
    session.rollback()
    denied = error.denied
    actor = None
    if denied.actor_id is not None:
        actor = session.get(User, denied.actor_id)
    audit.record(
        session,
        actor,
        denied.action,
        denied.object_type,
        denied.object_id,
        at=utcnow(),
        before=denied.details.get("from"),
        after=denied.details.get("to"),
        details=denied.details,
    )
    session.commit()


def handle_domain_error(error: DomainError) -> Any:
    if isinstance(error, TransitionNotAllowed):
        _record_denial(error)
    else:
        close_session()
    if error.status == 401 and not _wants_json():
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    response = error_response(
        error.status,
        error.code,
        error.message,
        error.fields,
        retry_after=error.retry_after_seconds,
    )
    if error.status == 401 and _wants_json():
        response[0].headers["WWW-Authenticate"] = "Bearer"
    return response


def handle_http_error(error: HTTPException) -> Any:
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    message = HTTP_MESSAGES.get(status, error.description or "请求有误")
    body, status, headers = error_response(status, code, message)
    # werkzeug's own headers (Allow on 405) belong to the answer; its HTML does not.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            headers[name] = value
    return body, status, headers


def _forget_session_objects() -> None:
    """After a failed flush the session's objects are expired and cannot reload, so
    the error page is drawn without the signed-in user."""
    close_session()
    g.actor = None


def handle_database_unavailable(error: sa_exc.OperationalError) -> Any:
    """SQLite locked past busy_timeout, or PostgreSQL down: ask to retry later."""
    log.warning("database unavailable: %s", error)
    _forget_session_objects()
    return error_response(
        503, "database_unavailable", HTTP_MESSAGES[503], retry_after=5
    )


def handle_unexpected(error: Exception) -> Any:
    log.exception("unhandled error on %s %s", request.method, request.path)
    _forget_session_objects()
    return error_response(500, "internal_error", HTTP_MESSAGES[500])


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa_exc.OperationalError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
