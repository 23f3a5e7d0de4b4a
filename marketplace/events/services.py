"""Matchmaking events: planning, pairing, scheduling and outcomes.

Views, API and tests all call these functions; they take the session, the actor and
plain values, raise domain errors and never commit (the edge commits).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.capabilities.models import Capability
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.events import planner
from marketplace.events.models import (
    OUTCOMES,
    Event,
    EventMeeting,
    EventPairing,
    EventParticipant,
)
from marketplace.events.timetable import (
    Slot,
    check_sessions,
    check_within_sessions,
    parse_windows,
    slots_of,
    slots_within,
)
from marketplace.items.fields import Field, parse_fields
from marketplace.items.services import apply_transition
from marketplace.matches.index import (
    LiveIndex,
    capability_item,
    current_weights,
    scene_item,
)
from marketplace.matches.models import MatchFeedback
from marketplace.policy import require
from marketplace.scenes.models import Scene
from marketplace.scenes.services import SCENES
from marketplace.search import get_tokenizer
from marketplace.taxonomy import Taxonomy
from matching import Item, Matcher

# Items that may take part: published, or already in talks with someone.
JOINABLE_STATUSES = ("published", "matched")
# Outcomes that say the pairing was worth proposing (feedback for the matcher).
RELEVANT_OUTCOMES = frozenset({"follow_up", "intent", "signed"})
MAX_EVENT_DAYS_AHEAD = 366 * 2

EVENT_FIELDS: tuple[Field, ...] = (
    Field("name", "活动名称", "text", min_length=4, max_length=200),
    Field("domain", "领域", "choice", vocabulary="domains"),
    Field("date", "举办日期", "date"),
    Field("venue", "地点", "text", min_length=2, max_length=200),
)


@dataclass(frozen=True)
class NumberRule:
    name: str
    label: str
    low: float
    high: float
    integer: bool = True


NUMBER_RULES = (
    NumberRule("meeting_minutes", "每场洽谈时长（分钟）", 5, 240),
    NumberRule("tables", "洽谈桌数", 1, 500),
    NumberRule("max_meetings_per_scene", "每个场景最多洽谈场数", 1, 100),
    NumberRule("max_meetings_per_capability", "每项能力最多洽谈场数", 1, 100),
    NumberRule("min_score", "最低匹配度", 0.0, 1.0, integer=False),
)
TIMING_FIELDS = frozenset({"date", "sessions", "meeting_minutes", "tables"})


def _number(value: Any, rule: NumberRule) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError("应为数字")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if rule.integer else float(text)
        except ValueError:
            raise ValueError("应为数字") from None
    if not isinstance(value, (int, float)) or value != value:
        raise ValueError("应为数字")
    if rule.integer and (isinstance(value, float) and not value.is_integer()):
        raise ValueError("应为整数")
    if not rule.low <= value <= rule.high:
        raise ValueError(f"应在{rule.low:g}到{rule.high:g}之间")
    return int(value) if rule.integer else float(value)


def parse_event(
    payload: Any,
    taxonomy: Taxonomy,
    *,
    today: date,
    current: Event | None = None,
) -> dict[str, Any]:
    """Validate an event's fields; every problem is named, nothing is half applied.

    With `current`, only the keys present are changed (PATCH) and the result is
    checked as a whole with the current values.
    """
    partial = current is not None
    problems: dict[str, str] = {}
    try:
        values = parse_fields(EVENT_FIELDS, payload, taxonomy, partial=partial)
    except Invalid as error:
        values, problems = {}, dict(error.fields)
    for rule in NUMBER_RULES:
        if rule.name not in payload:
            if not partial:
                problems[rule.name] = f"{rule.label}：必填"
            continue
        try:
            values[rule.name] = _number(payload[rule.name], rule)
        except ValueError as exc:
            problems[rule.name] = f"{rule.label}：{exc}"
    if "sessions" in payload or not partial:
        try:
            values["sessions"] = parse_windows(payload.get("sessions"), "场次")
        except ValueError as exc:
            problems["sessions"] = f"场次：{exc}"
    if problems:
        raise Invalid("提交的内容有误，请按提示修改", fields=problems)

    merged = {
        name: values.get(name, getattr(current, name, None))
        for name in ("date", "sessions", "meeting_minutes", "tables")
        + ("max_meetings_per_scene", "max_meetings_per_capability")
    }
    if "date" in values and values["date"] < today:
        problems["date"] = "举办日期不能早于今天"
    elif "date" in values and (values["date"] - today).days > MAX_EVENT_DAYS_AHEAD:
        problems["date"] = "举办日期不能晚于两年后"
    try:
        check_sessions(merged["sessions"], merged["meeting_minutes"])
    except ValueError as exc:
        problems["sessions"] = str(exc)
    else:
        slots = len(slots_of(merged["sessions"], merged["meeting_minutes"]))
        for name, who in (
            ("max_meetings_per_scene", "每个场景"),
            ("max_meetings_per_capability", "每项能力"),
        ):
            if merged[name] > slots:
                problems[name] = (
                    f"{who}最多洽谈{merged[name]}场，但活动只有{slots}个时段，"
                    "同一方不能同时参加两场洽谈"
                )
    if problems:
        raise Invalid("活动的时段容纳不下设定的洽谈安排", fields=problems)
    return values


# -- reading ----------------------------------------------------------------------
def can_manage(actor: Any) -> bool:
    return actor is not None and actor.role in ("center", "admin")


def get_event(
    session: orm.Session, actor: Any, event_id: int, *, for_update: bool = False
) -> Event:
    """The event, if the actor may see it: the center, reviewers, or a participant."""
    query = sa.select(Event).where(Event.id == event_id)
    if for_update:
        query = query.with_for_update()
    event = session.scalar(query)
    if event is None or not can_view_event(session, actor, event):
        raise NotFound("活动不存在或无权查看", code="event_not_found")
    return event


def can_view_event(session: orm.Session, actor: Any, event: Event) -> bool:
    if actor is None:
        return False
    if actor.role in ("center", "admin", "reviewer"):
        return True
    return actor.organization_id is not None and bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(EventParticipant)
            .where(
                EventParticipant.event_id == event.id,
                EventParticipant.organization_id == actor.organization_id,
            )
        )
    )


def list_events(session: orm.Session, actor: Any) -> list[Event]:
    query = sa.select(Event).order_by(Event.date.desc(), Event.id.desc())
    if actor.role not in ("center", "admin", "reviewer"):
        query = query.where(
            Event.id.in_(
                sa.select(EventParticipant.event_id).where(
                    EventParticipant.organization_id == actor.organization_id
                )
            )
        )
    return list(session.scalars(query))


def event_slots(event: Event) -> list[Slot]:
    return slots_of(event.sessions, event.meeting_minutes)


def participants_of(event: Event, kind: str | None = None) -> list[EventParticipant]:
    return [p for p in event.participants if kind is None or p.kind == kind]


def pairings_of(
    session: orm.Session, event: Event, *, active: bool = True
) -> list[EventPairing]:
    query = sa.select(EventPairing).where(EventPairing.event_id == event.id)
    if active:
        query = query.where(EventPairing.status != "removed")
    return list(
        session.scalars(
            query.order_by(EventPairing.scene_id, EventPairing.capability_id)
        )
    )


def meetings_of(session: orm.Session, event: Event) -> list[EventMeeting]:
    return list(
        session.scalars(
            sa.select(EventMeeting)
            .where(EventMeeting.event_id == event.id)
            .order_by(EventMeeting.slot, EventMeeting.table_number)
        )
    )


# -- planning ---------------------------------------------------------------------
def create_event(
    session: orm.Session,
    actor: Any,
    payload: Any,
    taxonomy: Taxonomy,
    *,
    now: datetime,
    today: date,
) -> Event:
    require(actor, "event.manage")
    values = parse_event(payload, taxonomy, today=today)
    event = Event(
        **values,
        status="planning",
        proposal_summary={},
        schedule_report={},
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    session.flush()
    audit.record(session, actor, "event.create", "event", event.id, at=now)
    return event


def update_event(
    session: orm.Session,
    actor: Any,
    event_id: int,
    payload: Any,
    taxonomy: Taxonomy,
    *,
    now: datetime,
    today: date,
) -> Event:
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    if not isinstance(payload, Mapping):
        raise Invalid("请求内容应为对象", code="invalid_body")
    values = parse_event(payload, taxonomy, today=today, current=event)
    changed = {k: v for k, v in values.items() if getattr(event, k) != v}
    if changed.keys() & TIMING_FIELDS and meetings_of(session, event):
        raise Conflict(
            "活动已排期，不能再改日期、场次、时长或桌数；请先清空排期",
            code="event_scheduled",
        )
    for name, value in changed.items():
        setattr(event, name, value)
    event.updated_at = now
    audit.record(
        session,
        actor,
        "event.update",
        "event",
        event.id,
        at=now,
        details={"fields": sorted(changed)},
    )
    return event


def _load_joinable(
    session: orm.Session, model: Any, ids: Sequence[Any], label: str
) -> tuple[list[Any], list[str]]:
    problems = []
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        return [], [f"{label}编号应为整数列表"]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    if duplicates:
        problems.append(f"{label} #{duplicates[0]} 在请求中出现了两次")
    rows = {
        row.id: row
        for row in session.scalars(sa.select(model).where(model.id.in_(set(ids))))
    }
    for item_id in dict.fromkeys(ids):
        row = rows.get(item_id)
        if row is None:
            problems.append(f"{label} #{item_id} 不存在")
        elif row.status not in JOINABLE_STATUSES:
            problems.append(f"{label} #{item_id}“{row.title[:30]}”尚未发布，不能参会")
    return [rows[i] for i in dict.fromkeys(ids) if i in rows], problems


def add_participants(
    session: orm.Session,
    actor: Any,
    event_id: int,
    scene_ids: Any,
    capability_ids: Any,
    *,
    now: datetime,
) -> list[EventParticipant]:
    """Invite scenes and capabilities; all or none (a repeat names the item)."""
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    scene_ids = [] if scene_ids is None else scene_ids
    capability_ids = [] if capability_ids is None else capability_ids
    scenes, scene_problems = _load_joinable(session, Scene, scene_ids, "场景")
    capabilities, capability_problems = _load_joinable(
        session, Capability, capability_ids, "能力"
    )
    present_scenes = {p.scene_id for p in event.participants}
    present_capabilities = {p.capability_id for p in event.participants}
    scene_problems += [
        f"场景 #{s.id}“{s.title[:30]}”已是本次活动的参会方"
        for s in scenes
        if s.id in present_scenes
    ]
    capability_problems += [
        f"能力 #{c.id}“{c.title[:30]}”已是本次活动的参会方"
        for c in capabilities
        if c.id in present_capabilities
    ]
    problems = {}
    if scene_problems:
        problems["scene_ids"] = "；".join(scene_problems)
    if capability_problems:
        problems["capability_ids"] = "；".join(capability_problems)
    if problems:
        raise Invalid("参会方有误，未添加任何参会方", fields=problems)
    if not scenes and not capabilities:
        raise Invalid(
            "请至少选择一个场景或能力",
            fields={"scene_ids": "请至少选择一个场景或能力"},
        )
    added = [
        EventParticipant(
            scene_id=s.id, organization_id=s.organization_id, created_at=now
        )
        for s in scenes
    ] + [
        EventParticipant(
            capability_id=c.id, organization_id=c.organization_id, created_at=now
        )
        for c in capabilities
    ]
    event.participants.extend(added)
    event.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "event.participants_add",
        "event",
        event.id,
        at=now,
        details={
            "scene_ids": [s.id for s in scenes],
            "capability_ids": [c.id for c in capabilities],
        },
    )
    return added


def get_participant(
    session: orm.Session, actor: Any, participant_id: int, *, for_update: bool = False
) -> EventParticipant:
    """A participant row the actor may act on: the center, or its own organization."""
    query = sa.select(EventParticipant).where(EventParticipant.id == participant_id)
    if for_update:
        query = query.with_for_update(of=EventParticipant)
    participant = session.scalar(query)
    if participant is None or not (
        can_manage(actor)
        or (actor is not None and actor.organization_id == participant.organization_id)
    ):
        raise NotFound("参会邀请不存在或无权查看", code="participant_not_found")
    return participant


def _cancel_pairings_of(
    session: orm.Session, participant: EventParticipant
) -> list[tuple[int, int]]:
    """Remove the participant's pairings and free its meetings' slots."""
    column_p = (
        EventPairing.scene_id
        if participant.kind == "scene"
        else EventPairing.capability_id
    )
    column_m = (
        EventMeeting.scene_id
        if participant.kind == "scene"
        else EventMeeting.capability_id
    )
    pairings = session.scalars(
        sa.select(EventPairing).where(
            EventPairing.event_id == participant.event_id,
            column_p == participant.item_id,
            EventPairing.status != "removed",
        )
    ).all()
    pairings = [
        p for p in pairings if not _has_outcome(session, participant.event_id, p)
    ]
    for pairing in pairings:
        pairing.status = "removed"
    session.execute(
        sa.delete(EventMeeting).where(
            EventMeeting.event_id == participant.event_id,
            column_m == participant.item_id,
            EventMeeting.outcome.is_(None),
        )
    )
    return [(p.scene_id, p.capability_id) for p in pairings]


def remove_participant(
    session: orm.Session, actor: Any, participant_id: int, *, now: datetime
) -> None:
    require(actor, "event.manage")
    participant = get_participant(session, actor, participant_id, for_update=True)
    get_event(session, actor, participant.event_id, for_update=True)
    if session.scalar(
        sa.select(sa.func.count())
        .select_from(EventMeeting)
        .where(
            EventMeeting.event_id == participant.event_id,
            EventMeeting.outcome.is_not(None),
            (EventMeeting.scene_id == participant.scene_id)
            | (EventMeeting.capability_id == participant.capability_id),
        )
    ):
        raise Conflict(
            "该参会方已有洽谈结果，不能移除", code="participant_has_outcomes"
        )
    cancelled = _cancel_pairings_of(session, participant)
    session.execute(
        sa.delete(EventPairing).where(
            EventPairing.event_id == participant.event_id,
            (EventPairing.scene_id == participant.scene_id)
            | (EventPairing.capability_id == participant.capability_id),
        )
    )
    audit.record(
        session,
        actor,
        "event.participant_remove",
        "event",
        participant.event_id,
        at=now,
        details={
            "participant": participant.kind,
            "item_id": participant.item_id,
            "cancelled_pairings": cancelled,
        },
    )
    session.delete(participant)
    session.flush()


def respond_to_invitation(
    session: orm.Session,
    actor: Any,
    participant_id: int,
    *,
    accept: bool,
    availability: Any = None,
    now: datetime,
) -> EventParticipant:
    """The participant's organization (or the center for it) accepts or declines.

    Declining cancels the participant's pairings and frees its meeting slots; the
    next scheduling run reports the change.
    """
    participant = get_participant(session, actor, participant_id, for_update=True)
    event = get_event(session, actor, participant.event_id, for_update=True)
    if event.status == "closed":
        raise Conflict("活动已结束", code="event_closed")
    if availability is not None:
        participant.availability = parse_availability(availability, event)
    before = participant.status
    participant.status = "accepted" if accept else "declined"
    participant.responded_at = now
    cancelled = [] if accept else _cancel_pairings_of(session, participant)
    audit.record(
        session,
        actor,
        "event.invitation_" + ("accept" if accept else "decline"),
        "event_participant",
        participant.id,
        at=now,
        before=before,
        after=participant.status,
        details={"event_id": event.id, "cancelled_pairings": cancelled},
    )
    return participant


def parse_availability(value: Any, event: Event) -> list[dict[str, str]] | None:
    """None or [] means the whole event; windows must lie inside its sessions."""
    if value is None or value == []:
        return None
    try:
        windows = parse_windows(value, "可参会时间")
        check_within_sessions(windows, event.sessions)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"availability": str(exc)}) from None
    if not slots_within(event_slots(event), windows):
        message = "可参会时间内容纳不下一场完整的洽谈"
        raise Invalid(message, fields={"availability": message})
    return windows


def set_availability(
    session: orm.Session,
    actor: Any,
    participant_id: int,
    availability: Any,
    *,
    now: datetime,
) -> EventParticipant:
    participant = get_participant(session, actor, participant_id, for_update=True)
    event = get_event(session, actor, participant.event_id)
    before = participant.availability
    participant.availability = parse_availability(availability, event)
    audit.record(
        session,
        actor,
        "event.availability",
        "event_participant",
        participant.id,
        at=now,
        details={"before": before, "after": participant.availability},
    )
    return participant


# -- suggestions ------------------------------------------------------------------
@dataclass(frozen=True)
class Suggestion:
    item: Any
    score: float
    reasons: tuple[str, ...]  # titles of the participants it would serve


def suggest_invitations(
    session: orm.Session,
    event: Event,
    indexes: Mapping[str, LiveIndex],
    *,
    now: datetime,
    limit: int = 20,
) -> dict[str, list[Suggestion]]:
    """Vendors to invite for the event's scenes, and scenes for its vendors.

    Each participant asks the live match index (the one behind the match pages) for
    its best counterparts not yet taking part; a candidate keeps its best score and
    the participants it fits best.
    """
    taking_part = participants_of(event)
    scenes = [p.scene for p in taking_part if p.scene is not None]
    capabilities = [p.capability for p in taking_part if p.capability is not None]
    return {
        "capabilities": _best_for(
            session,
            indexes["capabilities"],
            Capability,
            [(s.title, scene_item(s)) for s in scenes],
            {str(c.id) for c in capabilities},
            now,
            limit,
        ),
        "scenes": _best_for(
            session,
            indexes["scenes"],
            Scene,
            [(c.title, capability_item(c)) for c in capabilities],
            {str(s.id) for s in scenes},
            now,
            limit,
        ),
    }


def _best_for(
    session: orm.Session,
    index: LiveIndex,
    model: Any,
    participants: list[tuple[str, Item]],
    present: set[str],
    now: datetime,
    limit: int,
) -> list[Suggestion]:
    if not participants:
        return []
    index.refresh(session, now)
    fits: dict[int, list[tuple[float, str]]] = {}
    for title, item in participants:
        for match in index.rank(item, limit, exclude=frozenset(present)):
            fits.setdefault(int(match.supply_id), []).append((match.score, title))
    best = sorted(fits, key=lambda i: (-max(fits[i])[0], i))[:limit]
    rows = {
        row.id: row
        for row in session.scalars(
            sa.select(model).where(
                model.id.in_(best), model.status.in_(JOINABLE_STATUSES)
            )
        )
    }
    return [
        Suggestion(
            rows[i],
            round(max(fits[i])[0], 4),
            tuple(title for _, title in sorted(fits[i], reverse=True)[:3]),
        )
        for i in best
        if i in rows
    ]


def score_matrix(
    session: orm.Session,
    scenes: Sequence[Scene],
    capabilities: Sequence[Capability],
) -> np.ndarray:
    """Match scores, scenes × capabilities, by the matcher with the current weights.

    The matcher is fitted on these capabilities alone: an event is a closed room,
    and its scores then do not move when unrelated items are published.
    """
    _, weights = current_weights(session)
    matcher = Matcher(tokenizer=get_tokenizer(), weights=weights).fit(
        [capability_item(c) for c in capabilities]
    )
    return np.clip(matcher.score_all([scene_item(s) for s in scenes]), 0.0, None)


# -- pairing ----------------------------------------------------------------------
def _available_slots(event: Event) -> dict[tuple[str, int], frozenset[int]]:
    slots = event_slots(event)
    return {
        (p.kind, p.item_id): slots_within(slots, p.availability)
        for p in event.participants
        if p.availability is not None
    }


def propose_pairings(
    session: orm.Session, actor: Any, event_id: int, *, now: datetime
) -> tuple[Event, planner.Proposal]:
    """Replace the event's proposed pairings by the best set within every limit.

    Locked and hand-added pairings are kept and count against the limits; removed
    ones are never proposed again. Declined participants take no part.
    """
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    if event.status == "closed":
        raise Conflict("活动已结束", code="event_closed")
    present = [p for p in event.participants if p.status != "declined"]
    scenes = [p.scene for p in present if p.scene is not None]
    capabilities = [p.capability for p in present if p.capability is not None]
    if not scenes or not capabilities:
        raise Invalid(
            "请先添加至少一个场景和一项能力作为参会方",
            fields={"participants": "场景和能力都至少需要一个"},
        )
    scores = score_matrix(session, scenes, capabilities)
    candidates = [
        planner.Candidate(scene.id, capability.id, round(float(scores[i, j]), 4))
        for i, scene in enumerate(scenes)
        for j, capability in enumerate(capabilities)
    ]
    existing = pairings_of(session, event, active=False)
    locked = frozenset(
        (p.scene_id, p.capability_id) for p in existing if p.status == "locked"
    )
    excluded = frozenset(
        (p.scene_id, p.capability_id) for p in existing if p.status == "removed"
    )
    slots = event_slots(event)
    available = _available_slots(event)
    try:
        proposal = planner.propose_pairings(
            candidates,
            max_per_scene=event.max_meetings_per_scene,
            max_per_capability=event.max_meetings_per_capability,
            capacity=len(slots) * event.tables,
            min_score=event.min_score,
            slots_per_scene={
                item: len(found)
                for (kind, item), found in available.items()
                if kind == "scene"
            },
            slots_per_capability={
                item: len(found)
                for (kind, item), found in available.items()
                if kind == "capability"
            },
            locked=locked,
            excluded=excluded,
        )
    except planner.PlanningError as error:
        raise Invalid(str(error), fields={"pairings": str(error)}) from None
    for pairing in existing:
        if pairing.status == "proposed":
            session.delete(pairing)
    session.flush()
    by_pair = {(p.scene_id, p.capability_id): p for p in existing}
    for chosen in proposal.pairings:
        key = (chosen.scene_id, chosen.capability_id)
        if key in locked:
            by_pair[key].score = chosen.score
            continue
        session.add(
            EventPairing(
                event_id=event.id,
                scene_id=chosen.scene_id,
                capability_id=chosen.capability_id,
                score=chosen.score,
                status="proposed",
                source="matcher",
                created_at=now,
            )
        )
    event.proposal_summary = proposal_summary(proposal, now)
    event.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "event.propose",
        "event",
        event.id,
        at=now,
        details={
            k: event.proposal_summary[k]
            for k in ("pairings", "total_score", "optimality_gap")
        },
    )
    return event, proposal


def proposal_summary(proposal: planner.Proposal, now: datetime) -> dict[str, Any]:
    return {
        "pairings": len(proposal.pairings),
        "total_score": round(proposal.total_score, 4),
        "unconstrained_total": round(proposal.unconstrained_total, 4),
        "unconstrained_pairings": proposal.unconstrained_count,
        "best_within_capacity": round(proposal.best_within_capacity, 4),
        "binding": list(proposal.binding),
        "optimality_gap": proposal.optimality_gap,
        "at": now.isoformat(),
    }


def _pairing_for_change(
    session: orm.Session, actor: Any, event_id: int, pairing_id: int
) -> tuple[Event, EventPairing]:
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    pairing = session.get(EventPairing, pairing_id)
    if pairing is None or pairing.event_id != event.id:
        raise NotFound("配对不存在", code="pairing_not_found")
    return event, pairing


def change_pairing(
    session: orm.Session,
    actor: Any,
    event_id: int,
    pairing_id: int,
    action: str,
    *,
    now: datetime,
) -> EventPairing:
    """lock / unlock / remove / restore one pairing by hand."""
    event, pairing = _pairing_for_change(session, actor, event_id, pairing_id)
    targets = {
        "lock": ("proposed", "locked"),
        "unlock": ("locked", "proposed"),
        "remove": (None, "removed"),
        "restore": ("removed", "locked"),
    }
    if action not in targets:
        raise Invalid(
            f"未知操作“{action[:20]}”",
            fields={"action": "可选：lock、unlock、remove、restore"},
        )
    source, target = targets[action]
    if (source is not None and pairing.status != source) or pairing.status == target:
        raise Conflict(
            f"该配对当前为“{pairing.status_label}”，不能执行此操作",
            code="pairing_state",
        )
    if action == "restore":
        _check_limits_with(session, event, pairing.scene_id, pairing.capability_id)
    if action == "remove" and _has_outcome(session, event.id, pairing):
        raise Conflict("这场洽谈已有结果，不能移除", code="pairing_has_outcome")
    before = pairing.status
    pairing.status = target
    if target == "removed":
        session.execute(
            sa.delete(EventMeeting).where(
                EventMeeting.event_id == event.id,
                EventMeeting.scene_id == pairing.scene_id,
                EventMeeting.capability_id == pairing.capability_id,
                EventMeeting.outcome.is_(None),
            )
        )
    event.updated_at = now
    audit.record(
        session,
        actor,
        f"event.pairing_{action}",
        "event",
        event.id,
        at=now,
        before=before,
        after=target,
        details={"scene_id": pairing.scene_id, "capability_id": pairing.capability_id},
    )
    return pairing


def _has_outcome(session: orm.Session, event_id: int, pairing: EventPairing) -> bool:
    return bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(EventMeeting)
            .where(
                EventMeeting.event_id == event_id,
                EventMeeting.scene_id == pairing.scene_id,
                EventMeeting.capability_id == pairing.capability_id,
                EventMeeting.outcome.is_not(None),
            )
        )
    )


def _check_limits_with(
    session: orm.Session, event: Event, scene_id: int, capability_id: int
) -> None:
    active = pairings_of(session, event)
    per_scene = sum(1 for p in active if p.scene_id == scene_id)
    per_capability = sum(1 for p in active if p.capability_id == capability_id)
    capacity = len(event_slots(event)) * event.tables
    if per_scene >= event.max_meetings_per_scene:
        message = f"该场景已有{per_scene}场洽谈，达到每个场景的上限"
        raise Invalid(message, fields={"scene_id": message})
    if per_capability >= event.max_meetings_per_capability:
        message = f"该能力已有{per_capability}场洽谈，达到每项能力的上限"
        raise Invalid(message, fields={"capability_id": message})
    if len(active) >= capacity:
        message = f"活动共{capacity}个洽谈位（时段×桌数），已全部占用"
        raise Invalid(message, fields={"pairings": message})


def add_pairing(
    session: orm.Session,
    actor: Any,
    event_id: int,
    scene_id: Any,
    capability_id: Any,
    *,
    now: datetime,
) -> EventPairing:
    """A pairing added by hand: both sides must take part; it is locked."""
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    problems = {}
    for name, value in (("scene_id", scene_id), ("capability_id", capability_id)):
        if not isinstance(value, int) or isinstance(value, bool):
            problems[name] = "应为整数编号"
    if problems:
        raise Invalid("配对有误", fields=problems)
    present = {(p.kind, p.item_id): p for p in event.participants}
    scene_part = present.get(("scene", scene_id))
    capability_part = present.get(("capability", capability_id))
    if scene_part is None:
        problems["scene_id"] = f"场景 #{scene_id} 不是本次活动的参会方"
    elif scene_part.status == "declined":
        problems["scene_id"] = f"场景 #{scene_id} 已谢绝参会"
    if capability_part is None:
        problems["capability_id"] = f"能力 #{capability_id} 不是本次活动的参会方"
    elif capability_part.status == "declined":
        problems["capability_id"] = f"能力 #{capability_id} 已谢绝参会"
    if problems:
        raise Invalid("配对双方须都是本次活动的参会方", fields=problems)
    existing = session.scalar(
        sa.select(EventPairing).where(
            EventPairing.event_id == event.id,
            EventPairing.scene_id == scene_id,
            EventPairing.capability_id == capability_id,
        )
    )
    if existing is not None and existing.status != "removed":
        raise Conflict("这对场景和能力已经配对", code="pairing_exists")
    _check_limits_with(session, event, scene_id, capability_id)
    assert scene_part is not None and capability_part is not None
    score = float(
        score_matrix(session, [scene_part.scene], [capability_part.capability])[0, 0]
    )
    if existing is None:
        existing = EventPairing(
            event_id=event.id,
            scene_id=scene_id,
            capability_id=capability_id,
            created_at=now,
        )
        session.add(existing)
    existing.status, existing.source, existing.score = (
        "locked",
        "center",
        round(score, 4),
    )
    event.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "event.pairing_add",
        "event",
        event.id,
        at=now,
        details={"scene_id": scene_id, "capability_id": capability_id},
    )
    return existing


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
    available = _available_slots(event)
    current = meetings_of(session, event)
    # A meeting with an outcome took place: it keeps its place whatever its pairing.
    held = [m for m in current if m.outcome is not None]
    active = {(p.scene_id, p.capability_id) for p in pairings}
    pairs = sorted(active | {(m.scene_id, m.capability_id) for m in held})
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
        )
    except planner.PlanningError as error:
        raise Invalid(str(error), fields={"schedule": str(error)}) from None
    _store_meetings(session, event, pairings, current, result)
    event.status = "scheduled"
    event.schedule_report = {
        "meetings": len(result.meetings),
        "slots_used": result.slots_used,
        "minimum_slots": planner.minimum_slots(pairs, event.tables),
        "unscheduled": [
            {
                "scene_id": u.scene_id,
                "capability_id": u.capability_id,
                "reason": u.reason,
            }
            for u in result.unscheduled
        ],
        "cancelled": [
            {"scene_id": m.scene_id, "capability_id": m.capability_id}
            for m in result.dropped
            if (m.scene_id, m.capability_id) not in active
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
    counterpart: Any  # the Scene or Capability met
    meeting: EventMeeting


def agenda_for(
    session: orm.Session, event: Event, participant: EventParticipant
) -> list[AgendaLine]:
    slots = event_slots(event)
    column = (
        EventMeeting.scene_id
        if participant.kind == "scene"
        else EventMeeting.capability_id
    )
    meetings = session.scalars(
        sa.select(EventMeeting)
        .where(EventMeeting.event_id == event.id, column == participant.item_id)
        .order_by(EventMeeting.slot)
    ).all()
    return [
        AgendaLine(
            slots[m.slot],
            m.table_number,
            m.capability if participant.kind == "scene" else m.scene,
            m,
        )
        for m in meetings
    ]


def get_agenda_participant(
    session: orm.Session, actor: Any, event_id: int, participant_id: int
) -> tuple[Event, EventParticipant]:
    participant = get_participant(session, actor, participant_id)
    if participant.event_id != event_id:
        raise NotFound("参会邀请不存在或无权查看", code="participant_not_found")
    return get_event(session, actor, event_id), participant


def invitations_for(session: orm.Session, actor: Any) -> list[EventParticipant]:
    if actor is None or actor.organization_id is None:
        return []
    return list(
        session.scalars(
            sa.select(EventParticipant)
            .join(Event)
            .where(EventParticipant.organization_id == actor.organization_id)
            .order_by(Event.date.desc(), EventParticipant.id)
        )
    )


# -- outcomes ---------------------------------------------------------------------
def parse_amount(value: Any) -> Decimal:
    field = Field("amount", "签约金额", "money")
    return parse_fields((field,), {"amount": value}, Taxonomy({}))["amount"]


def record_outcome(
    session: orm.Session,
    actor: Any,
    event_id: int,
    meeting_id: int,
    outcome: Any,
    *,
    amount: Any = None,
    note: Any = "",
    now: datetime,
    today: date,
) -> EventMeeting:
    """Store a meeting's outcome, teach the matcher and move the scene along.

    达成意向 moves a published scene to 已对接; 签约 moves it on to 已签约. Each move is
    an ordinary audited workflow transition, made by the officer recording it.
    """
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    meeting = session.get(EventMeeting, meeting_id)
    if meeting is None or meeting.event_id != event.id:
        raise NotFound("洽谈不存在", code="meeting_not_found")
    if event.date > today:
        raise Conflict(
            "活动尚未举行，举办当天起才能记录洽谈结果", code="event_not_held"
        )
    if outcome not in OUTCOMES:
        raise Invalid(
            "请选择洽谈结果",
            fields={
                "outcome": "可选："
                + "、".join(f"{k}（{v}）" for k, v in OUTCOMES.items())
            },
        )
    if outcome == "signed":
        try:
            parsed_amount = parse_amount(amount)
        except Invalid as error:
            raise Invalid("签约须填写金额", fields=error.fields) from None
    else:
        parsed_amount = None
    if not isinstance(note, str) or len(note) > 2000:
        raise Invalid("备注应为不超过2000字的文本", fields={"note": "不超过2000字"})
    before = meeting.outcome
    meeting.outcome, meeting.amount = outcome, parsed_amount
    meeting.outcome_note, meeting.outcome_at = note.strip(), now
    _store_feedback(session, actor, meeting, now)
    _advance_scene(session, actor, meeting, now)
    audit.record(
        session,
        actor,
        "event.outcome",
        "event_meeting",
        meeting.id,
        at=now,
        before=before,
        after=outcome,
        details={
            "event_id": event.id,
            "scene_id": meeting.scene_id,
            "capability_id": meeting.capability_id,
            "amount": str(parsed_amount) if parsed_amount is not None else None,
        },
    )
    session.flush()
    return meeting


def _store_feedback(
    session: orm.Session, actor: Any, meeting: EventMeeting, now: datetime
) -> None:
    existing = session.scalar(
        sa.select(MatchFeedback).where(
            MatchFeedback.scene_id == meeting.scene_id,
            MatchFeedback.capability_id == meeting.capability_id,
            MatchFeedback.source == "event",
        )
    )
    if meeting.outcome == "no_show":
        # Nobody met, so the meeting says nothing about the pairing.
        if existing is not None:
            session.delete(existing)
        return
    if existing is None:
        existing = MatchFeedback(
            scene_id=meeting.scene_id,
            capability_id=meeting.capability_id,
            source="event",
        )
        session.add(existing)
    existing.relevant = meeting.outcome in RELEVANT_OUTCOMES
    existing.score = meeting.score
    existing.user_id = actor.id
    existing.at = now


def _advance_scene(
    session: orm.Session, actor: Any, meeting: EventMeeting, now: datetime
) -> None:
    steps = {"intent": ("matched",), "signed": ("matched", "contracted")}.get(
        meeting.outcome or "", ()
    )
    scene = session.get(Scene, meeting.scene_id, with_for_update=True)
    assert scene is not None
    comment = f"对接会洽谈结果：{OUTCOMES[meeting.outcome or '']}"
    for target in steps:
        if (scene.status, target) in (
            ("published", "matched"),
            ("matched", "contracted"),
        ):
            apply_transition(
                session, SCENES, actor, scene, target, comment=comment, now=now
            )


FUNNEL = (
    ("scheduled", "已安排洽谈"),
    ("held", "到场洽谈"),
    ("interested", "有意向（跟进及以上）"),
    ("intent", "达成意向"),
    ("signed", "签约"),
)


def funnel(session: orm.Session, event: Event) -> dict[str, Any]:
    """Counts of meetings at each stage, and the signed amount."""
    meetings = meetings_of(session, event)
    outcomes = Counter(m.outcome for m in meetings)
    recorded = sum(n for o, n in outcomes.items() if o is not None)
    stages = {
        "scheduled": len(meetings),
        "held": recorded - outcomes["no_show"],
        "interested": outcomes["follow_up"] + outcomes["intent"] + outcomes["signed"],
        "intent": outcomes["intent"] + outcomes["signed"],
        "signed": outcomes["signed"],
    }
    amount = sum(
        (m.amount or Decimal(0) for m in meetings if m.outcome == "signed"), Decimal(0)
    )
    return {
        "stages": [
            {"key": key, "label": label, "count": stages[key]} for key, label in FUNNEL
        ],
        "outcomes": {key: outcomes[key] for key in OUTCOMES},
        "recorded": recorded,
        "signed_amount": str(amount),
    }


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
        "slots": [
            {"slot": s.number, "start": s.start, "end": s.end}
            for s in event_slots(event)
        ],
    }
    visible = [
        p
        for p in event.participants
        if can_manage(actor)
        or actor.role == "reviewer"
        or p.organization_id == actor.organization_id
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
    if can_manage(actor) or actor.role == "reviewer":
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
            for p in pairings_of(session, event, active=False)
        ]
        body["funnel"] = funnel(session, event)
    return body
