"""Allowed status changes of scenes and capabilities, as a table.

Each row is (from, to, who): "owner" is a unit or vendor of the owning organization,
"center" the promotion center (and admins), "system" the scheduled jobs.
"""

from dataclasses import dataclass

STATUS_LABELS: dict[str, str] = {
    "draft": "草稿",
    "submitted": "待审核",
    "returned": "已退回",
    "approved": "审核通过",
    "published": "已发布",
    "matched": "已对接",
    "contracted": "已签约",
    "completed": "已完成",
    "withdrawn": "已撤回",
    "expired": "已过期",
}

SCENE_STATUSES = tuple(STATUS_LABELS)
CAPABILITY_STATUSES = (
    "draft",
    "submitted",
    "returned",
    "approved",
    "published",
    "withdrawn",
)
# Statuses the public may see: the item has been published and not taken back.
PUBLIC_STATUSES = frozenset({"published", "matched", "contracted", "completed"})
EDITABLE_STATUSES = frozenset({"draft", "returned"})
DELETABLE_STATUSES = frozenset({"draft"})
# A comment is required when the center sends an item back, so the owner knows why.
COMMENT_REQUIRED = frozenset({"returned"})


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    by: frozenset[str]
    label: str


def _t(source: str, target: str, by: str, label: str) -> Transition:
    return Transition(source, target, frozenset(by.split()), label)


COMMON_TRANSITIONS = (
    _t("draft", "submitted", "owner", "提交审核"),
    _t("returned", "submitted", "owner", "重新提交"),
    _t("submitted", "approved", "center", "审核通过"),
    _t("submitted", "returned", "center", "退回修改"),
    _t("approved", "returned", "center", "退回修改"),
    _t("approved", "published", "center", "发布"),
    _t("submitted", "withdrawn", "owner", "撤回"),
    _t("approved", "withdrawn", "owner", "撤回"),
    _t("published", "withdrawn", "owner center", "撤回"),
    _t("withdrawn", "draft", "owner", "转为草稿重新编辑"),
)

SCENE_TRANSITIONS = COMMON_TRANSITIONS + (
    _t("published", "matched", "owner center", "标记为已对接"),
    _t("matched", "contracted", "owner center", "标记为已签约"),
    _t("contracted", "completed", "owner center", "标记为已完成"),
    _t("matched", "published", "owner center", "恢复为已发布"),
    _t("submitted", "expired", "system", "到期"),
    _t("approved", "expired", "system", "到期"),
    _t("published", "expired", "system", "到期"),
    _t("expired", "draft", "owner", "转为草稿重新编辑"),
)

CAPABILITY_TRANSITIONS = COMMON_TRANSITIONS

TRANSITIONS: dict[str, tuple[Transition, ...]] = {
    "scene": SCENE_TRANSITIONS,
    "capability": CAPABILITY_TRANSITIONS,
}
STATUSES: dict[str, tuple[str, ...]] = {
    "scene": SCENE_STATUSES,
    "capability": CAPABILITY_STATUSES,
}


def find_transition(kind: str, source: str, target: str) -> Transition | None:
    for transition in TRANSITIONS[kind]:
        if transition.source == source and transition.target == target:
            return transition
    return None


def transitions_for(kind: str, source: str, parties: set[str]) -> list[Transition]:
    """The transitions from `source` that any of `parties` may take, in table order."""
    return [t for t in TRANSITIONS[kind] if t.source == source and t.by & parties]
