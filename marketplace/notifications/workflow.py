"""Workflow notices: each step of an item's review and of a matchmaking event reaches
the people it concerns, in the app at once and in their next digest.

Who hears of a step is the other side of it: what an owner does (submitting,
withdrawing, marking progress) reaches the center's officers, who act on it; what the
center, a reviewer or the platform does reaches the owner's organization. Event steps
reach the organizations taking part. The actor never hears of their own step.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import orm

from marketplace.notifications.store import (
    Notice,
    recipients,
    short,
    staff_recipients,
    store_notices,
)

KIND_OF_TARGET = {
    "submitted": "item_submitted",
    "returned": "item_returned",
    "approved": "item_approved",
    "published": "item_published",
    "withdrawn": "item_withdrawn",
    "expired": "item_expired",
    "matched": "item_progress",
    "contracted": "item_progress",
    "completed": "item_progress",
}
# Owner steps the center acts on or follows; the rest (back to draft, say) are the
# owner's own business.
CENTER_HEARS = frozenset(
    {"submitted", "withdrawn", "matched", "contracted", "completed"}
)
ITEM_LINKS = {"scene": "/scenes/{}", "capability": "/capabilities/{}"}


def _item_label(item_kind: str) -> str:
    return "场景机会" if item_kind == "scene" else "场景能力"


def _owner_acts(actor: Any, item: Any) -> bool:
    return actor is not None and actor.organization_id == item.organization_id


def item_transition_notices(
    session: orm.Session,
    item_kind: str,
    item: Any,
    actor: Any,
    *,
    source: str,
    target: str,
    target_label: str,
    comment: str,
    now: datetime,
) -> list[Notice]:
    """The notices of one status change of a scene or capability."""
    kind = KIND_OF_TARGET.get(target)
    if kind is None:
        return []
    if _owner_acts(actor, item):
        if target not in CENTER_HEARS or (target == "withdrawn" and source == "draft"):
            return []
        user_ids = staff_recipients(session, "center")
    else:
        user_ids = recipients(session, {item.organization_id}).get(
            item.organization_id, []
        )
    label = _item_label(item_kind)
    title_of_item = f"{label}“{short(item.title, 40)}”"
    organization = item.organization.name if item.organization else ""
    titles = {
        "item_submitted": (
            f"待审核：{title_of_item}",
            f"{organization}{'重新' if source == 'returned' else ''}提交审核。",
        ),
        "item_returned": (
            f"{title_of_item}被退回修改",
            f"审核意见：{comment}" if comment else "请按意见修改后重新提交。",
        ),
        "item_approved": (
            f"{title_of_item}已审核通过",
            "将由场景创新促进中心发布。",
        ),
        "item_published": (f"{title_of_item}已发布", f"已在{label}清单公开。"),
        "item_withdrawn": (
            f"{title_of_item}已撤回",
            comment or (f"由{organization}撤回。" if _owner_acts(actor, item) else ""),
        ),
        "item_expired": (
            f"{title_of_item}已过征集截止日期",
            "如仍需征集，可转为草稿修改截止日期后重新提交。",
        ),
        "item_progress": (
            f"{title_of_item}状态变为“{target_label}”",
            comment,
        ),
    }
    title, body = titles[kind]
    acting = actor.id if actor is not None else None
    return [
        Notice(
            user_id=user_id,
            kind=kind,
            item_kind=item_kind,
            item_id=item.id,
            key=f"{target}:{now.isoformat()}",
            title=title,
            body=body,
            link=ITEM_LINKS[item_kind].format(item.id),
        )
        for user_id in user_ids
        if user_id != acting
    ]


def notify_item_transition(session: orm.Session, *args: Any, **kwargs: Any) -> int:
    """Store the notices of one status change (arguments as item_transition_notices)."""
    notices = item_transition_notices(session, *args, **kwargs)
    return _store(session, notices, kwargs["now"])


# -- events ---------------------------------------------------------------------------

Text = Callable[[Any, Any], str]  # (participant told, the other side or None) -> text


def _participant_notices(
    session: orm.Session,
    event: Any,
    told: Iterable[tuple[Any, Any]],
    *,
    kind: str,
    key: Callable[[Any, Any], str],
    title: Text,
    body: Text,
) -> list[Notice]:
    """One notice per user of the organization of each (participant, other side)."""
    told = list(told)
    users = recipients(session, {p.organization_id for p, _ in told})
    return [
        Notice(
            user_id=user_id,
            kind=kind,
            item_kind=participant.kind,
            item_id=participant.item_id,
            key=key(participant, other),
            title=title(participant, other),
            body=body(participant, other),
            link=f"/events/{event.id}/agenda/{participant.id}",
        )
        for participant, other in told
        for user_id in users.get(participant.organization_id, [])
    ]


def _both_sides(event: Any, pairs: Iterable[tuple[int, int]]) -> list[tuple[Any, Any]]:
    """(participant, other side) for both sides of each (scene_id, capability_id)."""
    by_item = {(p.kind, p.item_id): p for p in event.participants}
    out = []
    for scene_id, capability_id in pairs:
        scene = by_item.get(("scene", scene_id))
        capability = by_item.get(("capability", capability_id))
        if scene is not None and capability is not None:
            out += [(scene, capability), (capability, scene)]
    return out


def _pair(participant: Any, other: Any) -> tuple[int, int]:
    scene = participant if participant.kind == "scene" else other
    capability = other if scene is participant else participant
    return scene.item_id, capability.item_id


def _titled(prefix: str) -> Text:
    return lambda p, o: (
        f"{prefix}：“{short(p.item.title, 30)}”与“{short(o.item.title, 30)}”"
    )


def _store(session: orm.Session, notices: list[Notice], now: datetime) -> int:
    return store_notices(session, notices, now=now) if notices else 0


def notify_invited(
    session: orm.Session, event: Any, added: Iterable[Any], *, now: datetime
) -> int:
    """Each organization invited, once per item and event."""
    notices = _participant_notices(
        session,
        event,
        [(participant, None) for participant in added],
        kind="event_invitation",
        key=lambda _p, _o: f"event:{event.id}",
        title=lambda p, _o: (
            f"活动邀请：{short(event.name, 30)}（{short(p.item.title, 30)}）"
        ),
        body=lambda _p, _o: (
            f"{event.date.isoformat()}，{event.venue}。请在“对接活动”中接受或婉拒邀请。"
        ),
    )
    return _store(session, notices, now)


def notify_proposed(
    session: orm.Session,
    event: Any,
    pairs: Iterable[tuple[int, int]],
    *,
    now: datetime,
) -> int:
    """Each side of a proposed pairing, once per pair and event."""
    notices = _participant_notices(
        session,
        event,
        _both_sides(event, pairs),
        kind="pairing_proposed",
        key=lambda p, o: "event:{}:{}:{}".format(event.id, *_pair(p, o)),
        title=_titled(f"{short(event.name, 24)}建议对接"),
        body=lambda _p, o: (
            f"对方：{o.item.organization.name}。洽谈时间以排期通知为准。"
        ),
    )
    return _store(session, notices, now)


def notify_scheduled(
    session: orm.Session,
    event: Any,
    meetings: Iterable[Any],
    previous: dict[tuple[int, int], tuple[int, int]],
    slots: list[Any],
    *,
    now: datetime,
) -> int:
    """Each side of a meeting newly placed or moved; a meeting left where it was is
    not announced again."""
    placed = {(m.scene_id, m.capability_id): (m.slot, m.table) for m in meetings}
    new = [pair for pair in placed if pair not in previous]
    moved = [pair for pair, at in placed.items() if previous.get(pair, at) != at]

    def when(p: Any, o: Any) -> str:
        slot, table = placed[_pair(p, o)]
        return (
            f"{event.date.isoformat()} {slots[slot].start}–{slots[slot].end}，"
            f"第{table}桌（{event.venue}）"
        )

    def key(p: Any, o: Any) -> str:
        pair = _pair(p, o)
        return "event:{}:{}:{}:{}:{}".format(event.id, *pair, *placed[pair])

    def was(p: Any, o: Any) -> str:
        slot, table = previous[_pair(p, o)]
        return f"改为{when(p, o)}；原为{slots[slot].start}，第{table}桌。"

    notices = _participant_notices(
        session,
        event,
        _both_sides(event, new),
        kind="meeting_scheduled",
        key=key,
        title=_titled("洽谈排期"),
        body=lambda p, o: when(p, o) + "。",
    ) + _participant_notices(
        session,
        event,
        _both_sides(event, moved),
        kind="meeting_moved",
        key=key,
        title=_titled("洽谈时间调整"),
        body=was,
    )
    return _store(session, notices, now)


def notify_outcome(
    session: orm.Session, event: Any, meeting: Any, outcome_label: str, *, now: datetime
) -> int:
    """Both sides of a meeting whose outcome the center recorded or changed."""
    amount = f"签约金额{meeting.amount}元。" if meeting.amount is not None else ""
    notices = _participant_notices(
        session,
        event,
        _both_sides(event, [(meeting.scene_id, meeting.capability_id)]),
        kind="meeting_outcome",
        key=lambda _p, _o: f"meeting:{meeting.id}:{now.isoformat()}",
        title=_titled("洽谈结果"),
        body=lambda _p, _o: f"推进中心记录为“{outcome_label}”。{amount}",
    )
    return _store(session, notices, now)
