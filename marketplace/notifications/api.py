"""JSON endpoints: the caller's notices and saved searches."""

from typing import Any

from flask import Blueprint, jsonify, request

from marketplace.accounts.auth import current_actor
from marketplace.api import json_body, page_json, positive_int_arg
from marketplace.db import get_session, utcnow
from marketplace.errors import Invalid
from marketplace.notifications import schemas, services
from marketplace.policy import SIGNED_IN, access

bp = Blueprint("notifications", __name__)

MAX_PER_PAGE = 100


@bp.get("/notifications")
@access(SIGNED_IN)
def index() -> Any:
    actor = current_actor()
    assert actor is not None
    session = get_session()
    unread = request.args.get("unread", "")
    if unread not in ("", "0", "1", "true", "false"):
        raise Invalid("查询参数有误", fields={"unread": "应为 true 或 false"})
    page = services.list_notifications(
        session,
        actor,
        unread_only=unread in ("1", "true"),
        page=positive_int_arg("page", 1),
        per_page=positive_int_arg("per_page", 20, MAX_PER_PAGE),
    )
    body = page_json(page, [schemas.notification_to_json(n) for n in page.items])
    body["unread"] = services.unread_count(session, actor.id)
    return jsonify(body)


@bp.post("/notifications/read")
@access(SIGNED_IN)
def read() -> Any:
    actor = current_actor()
    assert actor is not None
    session = get_session()
    ids = services.parse_read_request(json_body())
    updated = services.mark_read(session, actor, ids, now=utcnow())
    session.commit()
    return jsonify(
        {"updated": updated, "unread": services.unread_count(session, actor.id)}
    )


@bp.get("/saved-searches")
@access(SIGNED_IN)
def saved_searches() -> Any:
    searches = services.list_saved_searches(get_session(), current_actor())
    return jsonify(
        {
            "items": [schemas.saved_search_to_json(s) for s in searches],
            "total": len(searches),
        }
    )


@bp.post("/saved-searches")
@access(SIGNED_IN)
def saved_search_create() -> Any:
    session = get_session()
    search = services.create_saved_search(
        session, current_actor(), json_body(), now=utcnow()
    )
    session.commit()
    return jsonify(schemas.saved_search_to_json(search)), 201


@bp.delete("/saved-searches/<int:search_id>")
@access(SIGNED_IN)
def saved_search_delete(search_id: int) -> Any:
    session = get_session()
    services.delete_saved_search(session, current_actor(), search_id, now=utcnow())
    session.commit()
    return "", 204
