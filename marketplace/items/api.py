"""The JSON endpoints of a listed item kind (scenes, capabilities), built once."""

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from marketplace.accounts.auth import current_actor
from marketplace.api import json_body, page_json
from marketplace.clock import local_today, utcnow
from marketplace.db import get_engine, get_session
from marketplace.errors import Invalid
from marketplace.items import services as items
from marketplace.matches.vectors import write_embedder
from marketplace.policy import PUBLIC, SIGNED_IN, access
from marketplace.taxonomy import get_taxonomy


def build_api_blueprint(kind: items.ItemKind) -> Blueprint:
    bp = Blueprint(kind.plural, __name__, url_prefix=f"/{kind.plural}")

    @bp.get("")
    @access(PUBLIC)
    def index() -> Any:
        session = get_session()
        actor = current_actor()
        query = items.parse_item_query(
            kind, request.args, get_taxonomy(session), blank_is_absent=False
        )
        page = items.list_items(
            session, kind, actor, query, get_engine(current_app).dialect.name
        )
        return jsonify(page_json(page, [kind.to_json(i, actor) for i in page.items]))

    @bp.post("")
    @access(kind.owner_role)
    def create() -> Any:
        session = get_session()
        item = items.create_item(
            session,
            kind,
            current_actor(),
            json_body(),
            now=utcnow(),
            today=local_today(),
            embedder=write_embedder(current_app.config),
        )
        session.commit()
        return jsonify(kind.to_json(item, current_actor())), 201

    @bp.get("/<int:item_id>")
    @access(PUBLIC)
    def detail(item_id: int) -> Any:
        actor = current_actor()
        item = items.get_visible_item(get_session(), kind, actor, item_id)
        body = kind.to_json(item, actor)
        body["history"] = [
            _entry_json(e) for e in items.item_history(get_session(), kind, actor, item)
        ]
        return jsonify(body)

    @bp.patch("/<int:item_id>")
    @access(kind.owner_role)
    def update(item_id: int) -> Any:
        session = get_session()
        item = items.update_item(
            session,
            kind,
            current_actor(),
            item_id,
            json_body(),
            now=utcnow(),
            today=local_today(),
            embedder=write_embedder(current_app.config),
        )
        session.commit()
        return jsonify(kind.to_json(item, current_actor()))

    @bp.delete("/<int:item_id>")
    @access(kind.owner_role)
    def delete(item_id: int) -> Any:
        session = get_session()
        items.delete_item(session, kind, current_actor(), item_id, now=utcnow())
        session.commit()
        return "", 204

    @bp.post("/<int:item_id>/transition")
    @access(SIGNED_IN)
    def transition(item_id: int) -> Any:
        body = json_body()
        session = get_session()
        target = body.get("to")
        comment = body.get("comment") or ""
        if not isinstance(target, str) or not isinstance(comment, str):
            raise Invalid(
                "“to”应为状态名，“comment”应为文本", fields={"to": "应为状态名"}
            )
        item = items.transition_item(
            session,
            kind,
            current_actor(),
            item_id,
            target,
            comment=comment,
            now=utcnow(),
        )
        session.commit()
        return jsonify(kind.to_json(item, current_actor()))

    return bp


def _entry_json(entry: items.HistoryEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "from": entry.before,
        "to": entry.after,
        "comment": entry.comment,
        "refused": entry.refused,
    }
