"""Who meets whom: invitation suggestions, match scores and the exact pairing.

The solver is `planner.propose_pairings`; this module feeds it the event's
participants, limits and hand-made decisions (locked, removed, added pairings).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.capabilities.models import Capability
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.events import planner
from marketplace.events.models import (
    Event,
    EventMeeting,
    EventPairing,
)
from marketplace.events.services import (
    JOINABLE_STATUSES,
    available_slots,
    event_slots,
    get_event,
    organization_parties,
    pairings_of,
    participants_of,
    people_sent,
)
from marketplace.integers import is_id
from marketplace.matches import vectors
from marketplace.matches.index import (
    LiveIndex,
    capability_item,
    current_weights,
    platform_matcher,
    scene_item,
)
from marketplace.notifications import workflow as notices
from marketplace.policy import require
from marketplace.scenes.models import Scene
from matching import Item


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
    its strong counterparts not yet taking part; a candidate keeps its best score and
    the participants it fits best. Weak matches are not suggested: an officer should
    not have to sift them.
    """
    taking_part = participants_of(event)
    scenes = [p.scene for p in taking_part if p.scene is not None]
    capabilities = [p.capability for p in taking_part if p.capability is not None]
    return {
        "capabilities": _best_for(
            session,
            indexes["capabilities"],
            Capability,
            [
                (
                    s.title,
                    scene_item(s),
                    indexes["capabilities"].demand_vector(session, "scene", s),
                )
                for s in scenes
            ],
            {str(c.id) for c in capabilities},
            now,
            limit,
        ),
        "scenes": _best_for(
            session,
            indexes["scenes"],
            Scene,
            [
                (
                    c.title,
                    capability_item(c),
                    indexes["scenes"].demand_vector(session, "capability", c),
                )
                for c in capabilities
            ],
            {str(s.id) for s in scenes},
            now,
            limit,
        ),
    }


def _best_for(
    session: orm.Session,
    index: LiveIndex,
    model: Any,
    participants: list[tuple[str, Item, np.ndarray | None]],
    present: set[str],
    now: datetime,
    limit: int,
) -> list[Suggestion]:
    if not participants:
        return []
    index.refresh(session, now)
    fits: dict[int, list[tuple[float, str]]] = {}
    for title, item, vector in participants:
        ranked = index.rank(
            item, limit, exclude=frozenset(present), explain=False, vector=vector
        )
        for match in ranked:
            if match.strong:
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
    *,
    vector_model: str | None = None,
) -> np.ndarray:
    """Calibrated match scores, scenes × capabilities, by the matcher with the
    current weights and, with `vector_model`, the stored vectors of that model.

    The matcher is fitted on these capabilities alone: an event is a closed room,
    and its scores then do not move when unrelated items are published.
    """
    model = current_weights(session).for_mode(vector_model is not None)
    supply_vectors = scene_vectors = None
    if vector_model is not None:
        supply_vectors = vectors.stored_vectors(
            session, "capability", capabilities, vector_model
        )[0]
        scene_vectors = vectors.stored_vectors(session, "scene", scenes, vector_model)[
            0
        ]
    matcher = platform_matcher(session, model).fit(
        [capability_item(c) for c in capabilities], vectors=supply_vectors
    )
    scores = matcher.score_all([scene_item(s) for s in scenes], vectors=scene_vectors)
    return np.clip(scores, 0.0, None)


# -- pairing ----------------------------------------------------------------------


def propose_pairings(
    session: orm.Session,
    actor: Any,
    event_id: int,
    *,
    now: datetime,
    vector_model: str | None = None,
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
    scores = score_matrix(session, scenes, capabilities, vector_model=vector_model)
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
    available = available_slots(event)
    # Two participants with no common slot can never meet: do not propose them.
    everyone = frozenset(s.number for s in slots)
    excluded |= {
        (c.scene_id, c.capability_id)
        for c in candidates
        if not available.get(("scene", c.scene_id), everyone)
        & available.get(("capability", c.capability_id), everyone)
        and (c.scene_id, c.capability_id) not in locked
    }
    # One person is in one meeting per slot: an organization's items share its
    # people's slots. Named by organization, so a refusal names it.
    scene_org, capability_org = organization_parties(event)
    names = {p.organization_id: p.item.organization.name for p in event.participants}
    scene_party = {item: names[org] for item, org in scene_org.items()}
    capability_party = {item: names[org] for item, org in capability_org.items()}
    party_meetings = {
        names[organization]: len(slots) * people_sent(event, organization)
        for organization in {*scene_org.values(), *capability_org.values()}
    }
    try:
        proposal = planner.propose_pairings(
            candidates,
            scene_party=scene_party,
            capability_party=capability_party,
            party_meetings=party_meetings,
            max_per_scene=event.max_meetings_per_scene,
            max_per_capability=event.max_meetings_per_capability,
            capacity=len(slots) * event.tables,
            min_score=event.min_score,
            slots=len(slots),
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
    notices.notify_proposed(
        session,
        event,
        [
            (chosen.scene_id, chosen.capability_id)
            for chosen in proposal.pairings
            if (chosen.scene_id, chosen.capability_id) not in locked
        ],
        now=now,
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
    vector_model: str | None = None,
) -> EventPairing:
    """A pairing added by hand: both sides must take part; it is locked."""
    require(actor, "event.manage")
    event = get_event(session, actor, event_id, for_update=True)
    problems = {}
    for name, value in (("scene_id", scene_id), ("capability_id", capability_id)):
        if not is_id(value):
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
        score_matrix(
            session,
            [scene_part.scene],
            [capability_part.capability],
            vector_model=vector_model,
        )[0, 0]
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
    notices.notify_proposed(session, event, [(scene_id, capability_id)], now=now)
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
