"""Subsidy endpoints (CONTRACT.md: subsidies): quotes, awards, the published rules."""

from typing import Any

from flask import Blueprint, jsonify

from marketplace.accounts.auth import current_actor
from marketplace.api import json_body
from marketplace.db import get_session, utcnow
from marketplace.errors import Invalid
from marketplace.policy import PUBLIC, access
from marketplace.subsidies import services

bp = Blueprint("subsidies", __name__)


@bp.post("/subsidies/quote")
@access(PUBLIC)
def quote() -> Any:
    session = get_session()
    result, stored = services.make_quote(
        session, current_actor(), json_body(), now=utcnow()
    )
    session.commit()
    return jsonify(services.public_quote_json(result, stored))


@bp.get("/subsidies/quotes")
@access("unit", "vendor", "reviewer", "center", "admin")
def quotes() -> Any:
    session = get_session()
    return jsonify(
        {
            "items": [
                services.public_quote_json(q.result, q)
                for q in services.list_quotes(session, current_actor())
            ]
        }
    )


@bp.get("/subsidies/quotes/<int:quote_id>")
@access("unit", "vendor", "reviewer", "center", "admin")
def quote_show(quote_id: int) -> Any:
    stored = services.get_quote(get_session(), current_actor(), quote_id)
    return jsonify(services.public_quote_json(stored.result, stored))


@bp.post("/subsidies/quotes/<int:quote_id>/award")
@access("reviewer")
def award(quote_id: int) -> Any:
    body = json_body()
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        raise Invalid("审定意见有误", fields={"comment": "应为文字"})
    session = get_session()
    stored = services.approve_quote(
        session, current_actor(), quote_id, comment=comment, now=utcnow()
    )
    session.commit()
    return jsonify(services.public_quote_json(stored.result, stored))


@bp.get("/subsidies/rules")
@access(PUBLIC)
def rules() -> Any:
    book = services.rulebook(get_session())
    return jsonify(
        {
            "rules": services.rule_json(book),
            "exclusion_groups": book.exclusion_groups,
            "rounding": book.rounding,
        }
    )


@bp.put("/subsidies/rules/<rule_id>/tiers")
@access("admin")
def set_tiers(rule_id: str) -> Any:
    body = json_body()
    tiers, note = body.get("tiers"), body.get("note", "")
    if not isinstance(tiers, list) or not all(isinstance(t, dict) for t in tiers):
        raise Invalid("档位有误", fields={"tiers": "应为档位对象的列表"})
    if not isinstance(note, str):
        raise Invalid("说明有误", fields={"note": "应为文字"})
    session = get_session()
    services.set_tiers(
        session, current_actor(), rule_id, tiers, note=note, now=utcnow()
    )
    session.commit()
    book = services.rulebook(session)
    return jsonify(next(r for r in services.rule_json(book) if r["id"] == rule_id))
