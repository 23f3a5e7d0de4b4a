"""Matchmaking events: the event itself, its participants and their invitations.

Pairing, scheduling and outcomes build on these in `pairing`, `scheduling` and
`outcomes`.

Views, API and tests all call these functions; they take the session, the actor and
plain values, raise domain errors and never commit (the edge commits).
"""

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.capabilities.models import Capability
from marketplace.capabilities.services import CAPABILITIES
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.events.models import (
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
from marketplace.integers import is_id, parse_int
from marketplace.items.fields import Field, parse_fields
from marketplace.items.services import can_view
from marketplace.notifications import workflow as notices
from marketplace.organizations.models import Organization
from marketplace.policy import require
from marketplace.scenes.models import Scene
from marketplace.scenes.services import SCENES
from marketplace.taxonomy import Taxonomy

# Items that may take part: published, or already in talks with someone.
JOINABLE_STATUSES = ("published", "matched")
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
    if "schedule_unconfirmed" in payload:
        flag = payload["schedule_unconfirmed"]
        if isinstance(flag, str):
            flag = {
                "1": True,
                "true": True,
                "on": True,
                "0": False,
                "false": False,
            }.get(flag.strip().lower(), flag)
        if isinstance(flag, bool):
            values["schedule_unconfirmed"] = flag
        else:
            problems["schedule_unconfirmed"] = "应为是或否（true 或 false）"
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


def sees_all_events(actor: Any) -> bool:
    """The center and admins, and reviewers, who read everything without acting."""
    return actor is not None and actor.role in ("center", "admin", "reviewer")


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
    if sees_all_events(actor):
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
    if not sees_all_events(actor):
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
    session: orm.Session, actor: Any, model: Any, ids: Sequence[Any], label: str
) -> tuple[list[Any], list[str]]:
    problems = []
    if not isinstance(ids, list) or not all(is_id(i) for i in ids):
        return [], [f"{label}编号应为整数列表"]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    if duplicates:
        problems.append(f"{label} #{duplicates[0]} 在请求中出现了两次")
    rows = {
        row.id: row
        for row in session.scalars(sa.select(model).where(model.id.in_(set(ids))))
    }
    # What the officer may not see (a draft) is missing, as on the item's own page:
    # naming it here would show its title (issue 12, finding 3).
    rows = {i: row for i, row in rows.items() if can_view(actor, row)}
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
    scenes, scene_problems = _load_joinable(session, actor, Scene, scene_ids, "场景")
    capabilities, capability_problems = _load_joinable(
        session, actor, Capability, capability_ids, "能力"
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
    notices.notify_invited(session, event, added, now=now)
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
    session: orm.Session,
    actor: Any,
    event_id: int,
    participant_id: int,
    *,
    for_update: bool = False,
    reading: bool = False,
) -> EventParticipant:
    """A participant of the event that the actor may act on (the center, or its own
    organization) or, `reading`, only read (also reviewers)."""
    query = sa.select(EventParticipant).where(
        EventParticipant.id == participant_id, EventParticipant.event_id == event_id
    )
    if for_update:
        query = query.with_for_update(of=EventParticipant)
    participant = session.scalar(query)
    allowed = sees_all_events(actor) if reading else can_manage(actor)
    if participant is None or not (
        allowed
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
    held = {
        tuple(row)
        for row in session.execute(
            sa.select(EventMeeting.scene_id, EventMeeting.capability_id).where(
                EventMeeting.event_id == participant.event_id,
                column_m == participant.item_id,
                EventMeeting.outcome.is_not(None),
            )
        )
    }
    pairings = [
        p
        for p in session.scalars(
            sa.select(EventPairing).where(
                EventPairing.event_id == participant.event_id,
                column_p == participant.item_id,
                EventPairing.status != "removed",
            )
        )
        # A meeting that took place keeps its pairing.
        if (p.scene_id, p.capability_id) not in held
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
    session: orm.Session,
    actor: Any,
    event_id: int,
    participant_id: int,
    *,
    now: datetime,
) -> None:
    require(actor, "event.manage")
    get_event(session, actor, event_id, for_update=True)
    participant = get_participant(
        session, actor, event_id, participant_id, for_update=True
    )
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
    event_id: int,
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
    event = get_event(session, actor, event_id, for_update=True)
    participant = get_participant(
        session, actor, event_id, participant_id, for_update=True
    )
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
    event_id: int,
    participant_id: int,
    availability: Any,
    *,
    now: datetime,
) -> EventParticipant:
    event = get_event(session, actor, event_id)
    participant = get_participant(
        session, actor, event_id, participant_id, for_update=True
    )
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


# -- delegations: the people an organization sends -------------------------------
def people_sent(event: Event, organization_id: int) -> int:
    """How many people the organization sends (1 unless the center allowed more)."""
    return int(event.delegates.get(str(organization_id), 1))


def organization_parties(event: Event) -> tuple[dict[int, int], dict[int, int]]:
    """Scene id -> organization id and capability id -> organization id."""
    scene_party = {
        p.scene_id: p.organization_id for p in event.participants if p.scene_id
    }
    capability_party = {
        p.capability_id: p.organization_id
        for p in event.participants
        if p.capability_id
    }
    return scene_party, capability_party


def delegation_parties(
    event: Event, pairs: list[tuple[int, int]]
) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """Item -> (organization id, person) for the timetable.

    An organization sending one person holds all its items' meetings one at a time.
    One sending n spreads its items over n people, the items with most meetings
    first, each to the person with fewest so far: each item stays with one person
    (its meetings never overlap) and the people's loads differ as little as whole
    items allow.
    """
    scene_org, capability_org = organization_parties(event)
    meetings: Counter[tuple[str, int]] = Counter()
    for scene, capability in pairs:
        meetings["scene", scene] += 1
        meetings["capability", capability] += 1
    result: dict[str, dict[int, tuple[int, int]]] = {"scene": {}, "capability": {}}
    for side, owner in (("scene", scene_org), ("capability", capability_org)):
        by_org: dict[int, list[int]] = defaultdict(list)
        for item, organization in owner.items():
            by_org[organization].append(item)
        for organization, items in by_org.items():
            people = people_sent(event, organization)
            load = [0] * people
            for item in sorted(items, key=lambda i: (-meetings[side, i], i)):
                person = min(range(people), key=lambda k: (load[k], k))
                load[person] += meetings[side, item]
                result[side][item] = (organization, person)
    return result["scene"], result["capability"]


def set_delegation(
    session: orm.Session,
    actor: Any,
    event_id: int,
    organization_id: int,
    people: Any,
    *,
    now: datetime,
) -> Event:
    """Let an organization send `people` people (an integer, 1 to the number of
    items it brings): it can then be in that many meetings at once."""
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    if event.status == "closed":
        raise Conflict("活动已结束", code="event_closed")
    items = [p for p in event.participants if p.organization_id == organization_id]
    if not items:
        raise NotFound("该单位不是本次活动的参会方", code="organization_not_found")
    try:
        count = parse_int(people)
    except ValueError as reason:
        raise Invalid("代表人数有误", fields={"people": str(reason)}) from None
    if not 1 <= count <= len(items):
        raise Invalid(
            "代表人数有误",
            fields={"people": f"应为1到{len(items)}之间的整数（该单位参会的条目数）"},
        )
    delegates = {k: v for k, v in event.delegates.items() if k != str(organization_id)}
    if count > 1:
        delegates[str(organization_id)] = count
    event.delegates = delegates
    event.updated_at = now
    audit.record(
        session,
        actor,
        "event.delegation",
        "event",
        event.id,
        at=now,
        details={"organization_id": organization_id, "people": count},
    )
    return event


@dataclass(frozen=True)
class Delegation:
    """An organization at an event: its items there and the people it sends."""

    organization_id: int
    name: str
    items: int
    people: int


def delegations(event: Event) -> list[Delegation]:
    """Every organization taking part (declined items left out), by name."""
    items: Counter[int] = Counter()
    names: dict[int, str] = {}
    for participant in event.participants:
        if participant.status == "declined":
            continue
        items[participant.organization_id] += 1
        names[participant.organization_id] = participant.item.organization.name
    return sorted(
        (
            Delegation(org, names[org], count, people_sent(event, org))
            for org, count in items.items()
        ),
        key=lambda d: d.name,
    )


FINDER_LIMIT = 50


@dataclass(frozen=True)
class Finder:
    """What the center looks for to invite: scenes or capabilities, by words in the
    title or the organization's name, a domain and a district."""

    kind: str = "scene"
    words: str = ""
    domain: str = ""
    district: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "Finder":
        kind = args.get("find", "scene")
        return cls(
            kind=kind if kind in ("scene", "capability") else "scene",
            words=args.get("words", "").strip()[:100],
            domain=args.get("domain", "").strip(),
            district=args.get("district", "").strip(),
        )


def find_invitable(
    session: orm.Session, event: Event, finder: Finder, limit: int = FINDER_LIMIT
) -> tuple[list[Any], int]:
    """Published items not yet taking part that match `finder`, newest first, at
    most `limit` of them, and how many match in all."""
    kind = SCENES if finder.kind == "scene" else CAPABILITIES
    model: Any = kind.model
    taking_part = {p.item_id for p in event.participants if p.kind == finder.kind}
    statement = (
        sa.select(model)
        .join(Organization, Organization.id == model.organization_id)
        .where(model.status == "published")
    )
    if taking_part:
        statement = statement.where(model.id.not_in(taking_part))
    for word in finder.words.split():
        statement = statement.where(
            sa.or_(
                model.title.contains(word, autoescape=True),
                Organization.name.contains(word, autoescape=True),
            )
        )
    # The list pages' own filters: a scene's columns, a capability's tags.
    statement = kind.filters(
        statement, {"domain": finder.domain, "district": finder.district}
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    items = session.scalars(
        statement.order_by(model.published_at.desc(), model.id.desc()).limit(limit)
    ).all()
    return list(items), int(total or 0)


def unconfirmed(event: Event) -> list[EventParticipant]:
    """Invited participants who have neither accepted nor declined."""
    return [p for p in event.participants if p.status == "invited"]


def available_slots(event: Event) -> dict[tuple[str, int], frozenset[int]]:
    slots = event_slots(event)
    return {
        (p.kind, p.item_id): slots_within(slots, p.availability)
        for p in event.participants
        if p.availability is not None
    }


def get_agenda_participant(
    session: orm.Session, actor: Any, event_id: int, participant_id: int
) -> tuple[Event, EventParticipant]:
    """A participant whose agenda the actor may read."""
    event = get_event(session, actor, event_id)
    return event, get_participant(
        session, actor, event_id, participant_id, reading=True
    )


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
