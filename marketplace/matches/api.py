"""Match endpoints: proposals for a scene or capability, center feedback, checks."""

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from marketplace import policy
from marketplace.accounts.auth import current_actor
from marketplace.api import json_body
from marketplace.capabilities.services import CAPABILITIES
from marketplace.db import get_session, utcnow
from marketplace.errors import Invalid
from marketplace.items.fields import parse_fields
from marketplace.items.services import ItemKind
from marketplace.matches import answers, services
from marketplace.matches.index import get_indexes
from marketplace.matches.vectors import write_embedder
from marketplace.policy import PUBLIC, access
from marketplace.scenes.services import SCENES
from marketplace.taxonomy import get_taxonomy

bp = Blueprint("matches", __name__)


def _answer(kind_name: str, item_id: int) -> Response:
    """Proposals for one item; public answers are reused while still valid."""
    session, actor = get_session(), current_actor()
    k = services.parse_k(request.args.get("k"))
    indexes = get_indexes(current_app)
    kind = answers.KINDS[kind_name]

    def compute(versions: dict[str, int] | None) -> bytes:
        return answers.answer_body(
            session,
            actor,
            kind,
            item_id,
            k,
            indexes,
            dumps=current_app.json.dumps,
            now=utcnow(),
            versions=versions,
        )

    body = answers.answer(
        answers.get_answer_cache(current_app),
        session,
        (kind_name, item_id, k),
        kind.model,
        indexes[kind.index_name],
        # The center's answers carry its own feedback marks.
        shareable=not policy.can(actor, "item.review"),
        compute=compute,
    )
    return Response(body, mimetype="application/json")


@bp.get("/scenes/<int:scene_id>/matches")
@access(PUBLIC)
def scene_matches(scene_id: int) -> Any:
    return _answer("scene", scene_id)


@bp.get("/capabilities/<int:capability_id>/matches")
@access(PUBLIC)
def capability_matches(capability_id: int) -> Any:
    return _answer("capability", capability_id)


@bp.post("/matches/feedback")
@access("center", "admin")
def feedback_create() -> Any:
    body = json_body()
    scene_id, capability_id = body.get("scene_id"), body.get("capability_id")
    relevant = body.get("relevant")
    problems = {}
    if not isinstance(scene_id, int) or isinstance(scene_id, bool):
        problems["scene_id"] = "应为场景编号（整数）"
    if not isinstance(capability_id, int) or isinstance(capability_id, bool):
        problems["capability_id"] = "应为能力编号（整数）"
    if not isinstance(relevant, bool):
        problems["relevant"] = "应为 true 或 false"
    if problems:
        raise Invalid("标注内容有误", fields=problems)
    session = get_session()
    mark = services.record_feedback(
        session,
        current_actor(),
        scene_id,
        capability_id,
        relevant,
        score=None,
        now=utcnow(),
    )
    session.commit()
    return jsonify(
        {
            "scene_id": mark.scene_id,
            "capability_id": mark.capability_id,
            "relevant": mark.relevant,
            "at": mark.at.isoformat(),
        }
    ), 201


@bp.get("/matches/feedback")
@access("center", "admin")
def feedback_index() -> Any:
    return jsonify({"items": services.feedback_records(get_session())})


def _check(kind: ItemKind) -> Any:
    body = json_body()
    session = get_session()
    fields = [f for f in kind.fields if f.name in ("title", "description")]
    values = parse_fields(tuple(fields), body, get_taxonomy(session))
    actor = current_actor()
    check = services.check_submission(
        session,
        kind,
        values["title"],
        values["description"],
        actor.organization_id if actor else None,
        get_indexes(current_app),
        own_id=body.get("id") if isinstance(body.get("id"), int) else None,
        now=utcnow(),
        embedder=write_embedder(current_app.config),
    )
    return jsonify(check.to_json())


@bp.post("/scenes/check")
@access("unit")
def scene_check() -> Any:
    """Quality flags and likely duplicates of a scene, without saving it."""
    return _check(SCENES)


@bp.post("/capabilities/check")
@access("vendor")
def capability_check() -> Any:
    """Quality flags and likely duplicates of a capability, without saving it."""
    return _check(CAPABILITIES)
