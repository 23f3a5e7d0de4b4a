import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from marketplace.db import get_session
from marketplace.editions.services import edition_payloads, get_edition, list_editions
from marketplace.editions.views import send_edition_file
from marketplace.policy import PUBLIC, access

bp = Blueprint("editions", __name__, url_prefix="/editions")


def edition_json(edition: Any) -> dict[str, Any]:
    return {
        "id": edition.id,
        "list": edition.list_kind,
        "list_label": edition.list_label,
        "label": edition.label,
        "year": edition.year,
        "sequence": edition.sequence,
        "published_at": edition.published_at.isoformat(),
        "item_count": edition.item_count,
        "digest": edition.digest,
        "previous_digest": edition.previous_digest,
        "digest_version": edition.digest_version,
        "published_by": edition.published_by,
        "summary": edition.summary,
    }


@bp.get("")
@access(PUBLIC)
def index() -> Any:
    # `list=` with no value is refused (422) like any other name not in the enum.
    editions = list_editions(get_session(), request.args.get("list"))
    items = [edition_json(e) for e in editions]
    return jsonify(
        {"items": items, "total": len(items), "page": 1, "per_page": max(len(items), 1)}
    )


@bp.get("/<int:edition_id>")
@access(PUBLIC)
def detail(edition_id: int) -> Any:
    session = get_session()
    edition = get_edition(session, edition_id)
    body = edition_json(edition)
    body["items"] = [json.loads(line) for line in edition_payloads(session, edition)]
    return jsonify(body)


@bp.get("/<int:edition_id>/export.<fmt>")
@access(PUBLIC)
def export(edition_id: int, fmt: str) -> Response:
    return send_edition_file(edition_id, fmt)
