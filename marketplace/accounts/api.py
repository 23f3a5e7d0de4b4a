"""API tokens: exchange a username and password for a bearer token, or revoke it."""

from typing import Any

from flask import Blueprint, jsonify, request

from marketplace.accounts import services
from marketplace.accounts.auth import current_actor
from marketplace.api import json_body
from marketplace.db import get_session, utcnow
from marketplace.errors import Invalid, Unauthorized
from marketplace.policy import PUBLIC, SIGNED_IN, access
from marketplace.security import client_address

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/token")
@access(PUBLIC)
def token() -> Any:
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise Invalid(
            "请提供用户名和密码", fields={"username": "必填", "password": "必填"}
        )
    session = get_session()
    now = utcnow()
    user = services.authenticate(session, username, password, client_address(), now=now)
    if user is None:
        session.commit()
        raise Unauthorized("用户名或密码错误", code="bad_credentials")
    secret = services.open_session(
        session, user, "api", now=now, lifetime=services.API_TOKEN_LIFETIME
    )
    session.commit()
    expires = now + services.API_TOKEN_LIFETIME
    return jsonify(
        {
            "token": secret,
            "expires_at": expires.isoformat(),
            "user": {
                "id": user.id,
                "username": user.username,
                "role": user.role,
                "organization_id": user.organization_id,
            },
        }
    ), 201


@bp.delete("/token")
@access(SIGNED_IN)
def revoke() -> Any:
    _, _, secret = request.headers.get("Authorization", "").partition(" ")
    session = get_session()
    services.close_session(session, secret.strip(), now=utcnow())
    session.commit()
    return "", 204


@bp.get("/me")
@access(SIGNED_IN)
def me() -> Any:
    user = current_actor()
    assert user is not None
    return jsonify(
        {
            "id": user.id,
            "username": user.username,
            "role": user.role,
            "organization_id": user.organization_id,
        }
    )
