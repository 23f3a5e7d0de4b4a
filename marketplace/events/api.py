"""JSON endpoints for matchmaking events (CONTRACT.md: events)."""

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import orm

from marketplace.accounts.auth import current_actor
from marketplace.api import json_body
from marketplace.clock import local_today, utcnow
from marketplace.db import get_session
from marketplace.errors import Invalid
from marketplace.events import outcomes, pairing, scheduling, services
from marketplace.events.models import Event
from marketplace.matches.index import get_indexes
from marketplace.matches.vectors import vector_model
from marketplace.policy import SIGNED_IN, access
from marketplace.taxonomy import get_taxonomy

bp = Blueprint("events", __name__, url_prefix="/events")
MANAGERS = ("center", "admin")


@bp.get("")
@access(SIGNED_IN)
def index() -> Any:
    session, actor = get_session(), current_actor()
    events = [
        event_json(session, e, actor) for e in services.list_events(session, actor)
    ]
    return jsonify(
        {"items": events, "total": len(events), "page": 1, "per_page": len(events)}
    )


@bp.post("")
@access(*MANAGERS)
def create() -> Any:
    session, actor = get_session(), current_actor()
    event = services.create_event(
        session,
        actor,
        json_body(),
        get_taxonomy(session),
        now=utcnow(),
        today=local_today(),
    )
    session.commit()
    return jsonify(event_json(session, event, actor)), 201


@bp.get("/<int:event_id>")
@access(SIGNED_IN)
def detail(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    event = services.get_event(session, actor, event_id)
    return jsonify(event_json(session, event, actor))


@bp.patch("/<int:event_id>")
@access(*MANAGERS)
def update(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    event = services.update_event(
        session,
        actor,
        event_id,
        json_body(),
        get_taxonomy(session),
        now=utcnow(),
        today=local_today(),
    )
    session.commit()
    return jsonify(event_json(session, event, actor))


@bp.post("/<int:event_id>/participants")
@access(*MANAGERS)
def add_participants(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    body = json_body()
    services.add_participants(
        session,
        actor,
        event_id,
        body.get("scene_ids"),
        body.get("capability_ids"),
        now=utcnow(),
    )
    session.commit()
    event = services.get_event(session, actor, event_id)
    return jsonify(event_json(session, event, actor)), 201


@bp.delete("/<int:event_id>/participants/<int:participant_id>")
@access(*MANAGERS)
def remove_participant(event_id: int, participant_id: int) -> Any:
    session, actor = get_session(), current_actor()
    services.remove_participant(session, actor, event_id, participant_id, now=utcnow())
    session.commit()
    return "", 204


@bp.post("/<int:event_id>/participants/<int:participant_id>/response")
@access(SIGNED_IN)
def respond(event_id: int, participant_id: int) -> Any:
    """The invited organization accepts or declines, optionally with availability."""
    session, actor = get_session(), current_actor()
    body = json_body()
    accept = body.get("accept")
    if not isinstance(accept, bool):
        raise Invalid("请说明是否参会", fields={"accept": "应为 true 或 false"})
    participant = services.respond_to_invitation(
        session,
        actor,
        event_id,
        participant_id,
        accept=accept,
        availability=body.get("availability"),
        now=utcnow(),
    )
    session.commit()
    return jsonify(_participant_json(participant))


@bp.put("/<int:event_id>/participants/<int:participant_id>/availability")
@access(SIGNED_IN)
def availability(event_id: int, participant_id: int) -> Any:
    session, actor = get_session(), current_actor()
    body = json_body()
    participant = services.set_availability(
        session,
        actor,
        event_id,
        participant_id,
        body.get("availability"),
        now=utcnow(),
    )
    session.commit()
    return jsonify(_participant_json(participant))


@bp.put("/<int:event_id>/delegations/<int:organization_id>")
@access(*MANAGERS)
def delegation(event_id: int, organization_id: int) -> Any:
    """How many people an organization sends (meetings it can hold at once)."""
    session = get_session()
    event = services.set_delegation(
        session,
        current_actor(),
        event_id,
        organization_id,
        json_body().get("people"),
        now=utcnow(),
    )
    session.commit()
    return jsonify(
        {
            "organization_id": organization_id,
            "people": services.people_sent(event, organization_id),
        }
    )


def _participant_json(participant: Any) -> dict[str, Any]:
    return {
        "id": participant.id,
        "status": participant.status,
        "availability": participant.availability,
    }


@bp.get("/<int:event_id>/suggestions")
@access(*MANAGERS)
def suggestions(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    event = services.get_event(session, actor, event_id)
    found = pairing.suggest_invitations(
        session, event, get_indexes(current_app), now=utcnow()
    )
    return jsonify(
        {
            side: [
                {
                    "id": s.item.id,
                    "title": s.item.title,
                    "score": s.score,
                    "fits": list(s.reasons),
                }
                for s in items
            ]
            for side, items in found.items()
        }
    )


@bp.post("/<int:event_id>/proposals")
@access(*MANAGERS)
def propose(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    _, proposal = pairing.propose_pairings(
        session,
        actor,
        event_id,
        now=utcnow(),
        vector_model=vector_model(current_app.config),
    )
    session.commit()
    return jsonify(
        {
            "pairings": [
                {
                    "scene_id": p.scene_id,
                    "capability_id": p.capability_id,
                    "score": p.score,
                }
                for p in proposal.pairings
            ],
            "total_score": round(proposal.total_score, 4),
            "optimality_gap": proposal.optimality_gap,
            "unconstrained_total": round(proposal.unconstrained_total, 4),
            "unconstrained_pairings": proposal.unconstrained_count,
        }
    )


@bp.post("/<int:event_id>/pairings")
@access(*MANAGERS)
def add_pairing(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    body = json_body()
    added = pairing.add_pairing(
        session,
        actor,
        event_id,
        body.get("scene_id"),
        body.get("capability_id"),
        now=utcnow(),
        vector_model=vector_model(current_app.config),
    )
    session.commit()
    return jsonify(_pairing_json(added)), 201


@bp.post("/<int:event_id>/pairings/<int:pairing_id>")
@access(*MANAGERS)
def change_pairing(event_id: int, pairing_id: int) -> Any:
    session, actor = get_session(), current_actor()
    action = json_body().get("action")
    if not isinstance(action, str):
        raise Invalid(
            "请指定操作", fields={"action": "可选：lock、unlock、remove、restore"}
        )
    changed = pairing.change_pairing(
        session, actor, event_id, pairing_id, action, now=utcnow()
    )
    session.commit()
    return jsonify(_pairing_json(changed))


def _pairing_json(pairing: Any) -> dict[str, Any]:
    return {
        "id": pairing.id,
        "scene_id": pairing.scene_id,
        "capability_id": pairing.capability_id,
        "score": pairing.score,
        "status": pairing.status,
        "source": pairing.source,
    }


@bp.post("/<int:event_id>/schedule")
@access(*MANAGERS)
def schedule(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    event, _ = scheduling.schedule_event(session, actor, event_id, now=utcnow())
    session.commit()
    return jsonify(scheduling.schedule_json(session, event))


@bp.get("/<int:event_id>/schedule")
@access(*MANAGERS, "reviewer")
def schedule_view(event_id: int) -> Any:
    session = get_session()
    event = services.get_event(session, current_actor(), event_id)
    return jsonify(scheduling.schedule_json(session, event))


@bp.post("/<int:event_id>/meetings/<int:meeting_id>/outcome")
@access(*MANAGERS)
def outcome(event_id: int, meeting_id: int) -> Any:
    session, actor = get_session(), current_actor()
    body = json_body()
    meeting = outcomes.record_outcome(
        session,
        actor,
        event_id,
        meeting_id,
        body.get("outcome"),
        amount=body.get("amount"),
        note=body.get("note", ""),
        now=utcnow(),
        today=local_today(),
    )
    session.commit()
    return jsonify(
        {
            "id": meeting.id,
            "outcome": meeting.outcome,
            "amount": str(meeting.amount) if meeting.amount is not None else None,
        }
    )


def event_json(session: orm.Session, event: Event, actor: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event.id,
        "name": event.name,
        "domain": event.domain,
        "date": event.date.isoformat(),
        "venue": event.venue,
        "sessions": event.sessions,
        "meeting_minutes": event.meeting_minutes,
        "tables": event.tables,
        "max_meetings_per_scene": event.max_meetings_per_scene,
        "max_meetings_per_capability": event.max_meetings_per_capability,
        "min_score": event.min_score,
        "status": event.status,
        "schedule_unconfirmed": event.schedule_unconfirmed,
        # Organization id -> people sent, where more than one.
        "delegates": dict(event.delegates),
        "slots": [
            {"slot": s.number, "start": s.start, "end": s.end}
            for s in services.event_slots(event)
        ],
    }
    visible = [
        p
        for p in event.participants
        if services.sees_all_events(actor) or p.organization_id == actor.organization_id
    ]
    body["participants"] = [
        {
            "id": p.id,
            "kind": p.kind,
            "scene_id": p.scene_id,
            "capability_id": p.capability_id,
            "title": p.item.title,
            "organization_id": p.organization_id,
            "status": p.status,
            "availability": p.availability,
        }
        for p in visible
    ]
    if services.sees_all_events(actor):
        body["proposal"] = event.proposal_summary or None
        body["pairings"] = [
            {
                "id": p.id,
                "scene_id": p.scene_id,
                "capability_id": p.capability_id,
                "score": p.score,
                "status": p.status,
                "source": p.source,
            }
            for p in services.pairings_of(session, event, active=False)
        ]
        body["funnel"] = outcomes.funnel(session, event)
    return body
