"""When and where: the timetable of an event's pairings, and agendas.

The colouring is `planner.schedule_meetings`; this module keeps announced meetings
and recorded outcomes in place and writes the result under the event's row lock.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.errors import Conflict, Invalid
from marketplace.events import planner
from marketplace.events.models import (
    Event,
    EventMeeting,
    EventPairing,
    EventParticipant,
)
from marketplace.events.services import (
    available_slots,
    delegation_parties,
    event_slots,
    get_event,
    meetings_of,
    pairings_of,
    unconfirmed,
)
from marketplace.events.timetable import (
    Slot,
)
from marketplace.notifications import workflow as notices
from marketplace.policy import require


# -- scheduling -------------------------------------------------------------------
def schedule_event(
    session: orm.Session, actor: Any, event_id: int, *, now: datetime
) -> tuple[Event, planner.Schedule]:
    """Give every active pairing a slot and a table; keep announced meetings put.

    The event row is locked first, so two officers scheduling at once run one after
    the other and the second keeps what the first placed.
    """
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    if event.status == "closed":
        raise Conflict("活动已结束", code="event_closed")
    pairings = pairings_of(session, event)
    if not pairings:
        raise Invalid(
            "还没有可排期的配对，请先生成配对建议或手动添加",
            fields={"pairings": "没有配对"},
        )
    slots = event_slots(event)
    available = available_slots(event)
    current = meetings_of(session, event)
    # A meeting with an outcome took place: it keeps its place whatever its pairing.
    held = [m for m in current if m.outcome is not None]
    waiting = _waiting_for_confirmation(event, pairings)
    active = {(p.scene_id, p.capability_id) for p in pairings} - waiting.keys()
    pairs = sorted(active | {(m.scene_id, m.capability_id) for m in held})
    scene_party, capability_party = delegation_parties(event, pairs)
    previous = {
        (m.scene_id, m.capability_id): (m.slot, m.table_number) for m in current
    }
    try:
        result = planner.schedule_meetings(
            pairs,
            slots=len(slots),
            tables=event.tables,
            scene_slots={
                item: found
                for (kind, item), found in available.items()
                if kind == "scene"
            },
            capability_slots={
                item: found
                for (kind, item), found in available.items()
                if kind == "capability"
            },
            previous=previous,
            scene_party=scene_party,
            capability_party=capability_party,
        )
    except planner.PlanningError as error:
        raise Invalid(str(error), fields={"schedule": str(error)}) from None
    _store_meetings(session, event, pairings, current, result)
    notices.notify_scheduled(session, event, result.meetings, previous, slots, now=now)
    event.status = "scheduled"
    event.schedule_report = {
        "meetings": len(result.meetings),
        "slots_used": result.slots_used,
        "minimum_slots": planner.minimum_slots(
            pairs,
            event.tables,
            scene_party=scene_party,
            capability_party=capability_party,
        ),
        "unscheduled": [
            {
                "scene_id": u.scene_id,
                "capability_id": u.capability_id,
                "reason": u.reason,
            }
            for u in result.unscheduled
        ]
        + [
            {"scene_id": scene, "capability_id": capability, "reason": reason}
            for (scene, capability), reason in sorted(waiting.items())
        ],
        "cancelled": [
            {"scene_id": m.scene_id, "capability_id": m.capability_id}
            for m in result.dropped
            if (m.scene_id, m.capability_id) not in active | waiting.keys()
        ],
        "moved": [
            {
                "scene_id": m.scene_id,
                "capability_id": m.capability_id,
                "from": {"slot": m.old_slot, "table": m.old_table},
                "to": {"slot": m.new_slot, "table": m.new_table},
            }
            for m in result.moved
        ],
        "at": now.isoformat(),
    }
    event.updated_at = now
    audit.record(
        session,
        actor,
        "event.schedule",
        "event",
        event.id,
        at=now,
        details={
            "meetings": len(result.meetings),
            "unscheduled": len(result.unscheduled),
            "moved": len(result.moved),
        },
    )
    return event, result


def _waiting_for_confirmation(
    event: Event, pairings: list[EventPairing]
) -> dict[tuple[int, int], str]:
    """Pairings left out because a side has not accepted its invitation, and why.

    A meeting is put in someone's day only once they said they will come, unless
    the center chose to schedule the unconfirmed too (`schedule_unconfirmed`).
    """
    if event.schedule_unconfirmed:
        return {}
    pending = {(p.kind, p.item_id) for p in unconfirmed(event)}
    waiting = {}
    for pairing in pairings:
        sides = [
            label
            for label, key in (
                ("场景方", ("scene", pairing.scene_id)),
                ("能力方", ("capability", pairing.capability_id)),
            )
            if key in pending
        ]
        if sides:
            waiting[pairing.scene_id, pairing.capability_id] = (
                f"{'和'.join(sides)}尚未确认参会（确认后重新排期即可安排）"
            )
    return waiting


def _store_meetings(
    session: orm.Session,
    event: Event,
    pairings: list[EventPairing],
    current: list[EventMeeting],
    result: planner.Schedule,
) -> None:
    """Write the new placements; outcomes already recorded stay with their meeting.

    Rows are deleted and re-inserted in one flush order (deletes first) so that two
    meetings swapping places never trip the unique (slot, table) key halfway.
    """
    kept = {
        (m.scene_id, m.capability_id): (
            m.outcome,
            m.amount,
            m.outcome_note,
            m.outcome_at,
        )
        for m in current
    }
    scores = {(p.scene_id, p.capability_id): p.score for p in pairings}
    for meeting in current:
        session.delete(meeting)
    session.flush()
    for placed in result.meetings:
        key = (placed.scene_id, placed.capability_id)
        outcome, amount, note, at = kept.get(key, (None, None, "", None))
        session.add(
            EventMeeting(
                event_id=event.id,
                scene_id=placed.scene_id,
                capability_id=placed.capability_id,
                slot=placed.slot,
                table_number=placed.table,
                score=scores.get(key, 0.0),
                outcome=outcome,
                amount=amount,
                outcome_note=note,
                outcome_at=at,
            )
        )
    session.flush()


def clear_schedule(
    session: orm.Session, actor: Any, event_id: int, *, now: datetime
) -> Event:
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    if session.scalar(
        sa.select(sa.func.count())
        .select_from(EventMeeting)
        .where(EventMeeting.event_id == event.id, EventMeeting.outcome.is_not(None))
    ):
        raise Conflict("已有洽谈结果，不能清空排期", code="event_has_outcomes")
    session.execute(sa.delete(EventMeeting).where(EventMeeting.event_id == event.id))
    event.status = "planning"
    event.schedule_report = {}
    event.updated_at = now
    audit.record(session, actor, "event.schedule_clear", "event", event.id, at=now)
    return event


def schedule_json(session: orm.Session, event: Event) -> dict[str, Any]:
    """The schedule in the CONTRACT.md shape."""
    slots = event_slots(event)
    return {
        "meetings": [
            {
                "id": m.id,
                "scene_id": m.scene_id,
                "capability_id": m.capability_id,
                "slot": m.slot,
                "table": m.table_number,
                "start": slots[m.slot].start if m.slot < len(slots) else None,
                "end": slots[m.slot].end if m.slot < len(slots) else None,
                "score": m.score,
                "outcome": m.outcome,
            }
            for m in meetings_of(session, event)
        ],
        "unscheduled": list(event.schedule_report.get("unscheduled", [])),
        "moved": list(event.schedule_report.get("moved", [])),
        "cancelled": list(event.schedule_report.get("cancelled", [])),
        "slots_used": event.schedule_report.get("slots_used"),
        "minimum_slots": event.schedule_report.get("minimum_slots"),
    }


# -- agendas ----------------------------------------------------------------------
@dataclass(frozen=True)
class AgendaLine:
    slot: Slot
    table: int
    own: Any  # the organization's Scene or Capability in this meeting
    counterpart: Any  # the Scene or Capability met
    meeting: EventMeeting


@dataclass(frozen=True)
class Agenda:
    """The day of one organization on one side: its people hold all its items'
    meetings, so the agenda is the organization's, in time order."""

    organization: Any
    side: str  # "scene" or "capability"
    items: list[Any]
    lines: list[AgendaLine]


def agenda_for(
    session: orm.Session, event: Event, participant: EventParticipant
) -> Agenda:
    """The agenda of the participant's organization (on the participant's side)."""
    side = participant.kind
    own = [
        p.item
        for p in event.participants
        if p.organization_id == participant.organization_id
        and p.kind == side
        and p.status != "declined"
    ] or [participant.item]
    column = EventMeeting.scene_id if side == "scene" else EventMeeting.capability_id
    slots = event_slots(event)
    meetings = session.scalars(
        sa.select(EventMeeting)
        .where(
            EventMeeting.event_id == event.id,
            column.in_([item.id for item in own]),
        )
        .order_by(EventMeeting.slot, EventMeeting.table_number)
    ).all()
    return Agenda(
        organization=participant.item.organization,
        side=side,
        items=own,
        lines=[
            AgendaLine(
                slots[m.slot],
                m.table_number,
                m.scene if side == "scene" else m.capability,
                m.capability if side == "scene" else m.scene,
                m,
            )
            for m in meetings
        ],
    )


def agendas_of(session: orm.Session, event: Event) -> list[Agenda]:
    """One agenda per organization and side taking part, by organization name."""
    first: dict[tuple[int, str], EventParticipant] = {}
    for participant in event.participants:
        if participant.status != "declined":
            first.setdefault(
                (participant.organization_id, participant.kind), participant
            )
    agendas = [agenda_for(session, event, p) for p in first.values()]
    return sorted(agendas, key=lambda a: (a.side != "scene", a.organization.name))
