"""After the event: outcomes of meetings, matcher feedback, scene status, funnel."""

from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.events.models import (
    OUTCOMES,
    Event,
    EventMeeting,
)
from marketplace.events.services import get_event, meetings_of
from marketplace.items.fields import Field, parse_fields
from marketplace.items.services import apply_transition
from marketplace.matches.models import MatchFeedback
from marketplace.notifications import workflow as notices
from marketplace.policy import require
from marketplace.scenes.models import Scene
from marketplace.scenes.services import SCENES
from marketplace.taxonomy import Taxonomy

# Outcomes that say the pairing was worth proposing (feedback for the matcher).
RELEVANT_OUTCOMES = frozenset({"follow_up", "intent", "signed"})


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
    # A list or object from JSON is not a key at all (and cannot be hashed).
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
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
    notices.notify_outcome(session, event, meeting, OUTCOMES[outcome], now=now)
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
