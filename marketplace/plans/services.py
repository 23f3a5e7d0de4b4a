"""Annual scene plan use cases: enter, change, submit, review by both bodies, revise.

Scene measures art. 1: a scene built with fiscal money or institutional income must be
on the municipal list before it enters a plan; at least 30% of a municipal unit's
goods-procurement budget is reserved for scene construction; the Development and
Reform Commission and the Finance Bureau review the plan, and both must approve.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.integers import is_id
from marketplace.items.fields import MONEY_PATTERN
from marketplace.items.workflow import PUBLIC_STATUSES, STATUS_LABELS
from marketplace.organizations.models import Organization
from marketplace.plans.models import (
    DECISIONS,
    PLAN_STATUSES,
    REVIEW_BODIES,
    AnnualPlan,
    PlanLine,
    PlanReview,
)
from marketplace.scenes.models import Scene

RESERVED_SHARE = Decimal("0.30")
# Municipal administrative organs and public institutions (市级行政机关、事业单位).
PLANNING_KINDS = ("政府部门", "事业单位")
LISTED_FUNDING = ("财政资金", "事业收入")
MAX_LINES = 200
YEARS = range(2020, 2101)
ACTIONS = {
    "submit": "提交审核",
    "approve": "审核同意",
    "return": "退回修改",
    "revise": "发起变更（新版本）",
}


def review_body(
    actor: Any, session: orm.Session, bodies: Mapping[str, str]
) -> str | None:
    """Which review body ("ndrc" or "finance") a reviewer account reviews for."""
    if actor is None or actor.role != "reviewer" or actor.organization_id is None:
        return None
    name = session.scalar(
        sa.select(Organization.name).where(Organization.id == actor.organization_id)
    )
    return next((body for body, org in bodies.items() if org == name), None)


def why_not_plannable(scene: Scene) -> str | None:
    """Why a unit's own scene cannot enter its plan, or None."""
    if scene.status in ("draft", "withdrawn", "expired"):
        return f"场景{STATUS_LABELS[scene.status]}，不能纳入计划"
    if scene.funding_source in LISTED_FUNDING and scene.status not in PUBLIC_STATUSES:
        return (
            f"使用{scene.funding_source}建设的场景须先纳入市级场景机会清单（发布）"
            f"才能纳入计划，当前为“{STATUS_LABELS[scene.status]}”"
        )
    return None


def plannable_scenes(
    session: orm.Session, organization_id: int
) -> list[tuple[Scene, str | None]]:
    """The unit's scenes, each with why it cannot be chosen (None: it can)."""
    scenes = session.scalars(
        sa.select(Scene)
        .where(Scene.organization_id == organization_id)
        .order_by(Scene.id.desc())
    ).all()
    return [(scene, why_not_plannable(scene)) for scene in scenes]


def _money(value: Any, label: str) -> Decimal:
    if not isinstance(value, str) or not MONEY_PATTERN.match(value.strip()):
        raise ValueError(
            f'{label}应为以元为单位的金额字符串，最多两位小数，如 "1250000.00"'
        )
    return Decimal(value.strip())


def _parse(
    session: orm.Session, actor: Any, body: Mapping[str, Any], *, partial: bool
) -> dict[str, Any]:
    """The fields of a plan request, checked: every malformed field at once (422),
    then scenes that are unknown (404), someone else's (403) or not plannable (409)."""
    problems: dict[str, str] = {}
    allowed = {"procurement_budget", "lines"} | (set() if partial else {"year"})
    for name in sorted(set(body) - allowed):
        problems[name] = "未知字段" if name != "year" else "年度创建后不能修改"
    values: dict[str, Any] = {}
    if not partial or "year" in body:
        year = body.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
            problems["year"] = f"预算年度应为{YEARS.start}到{YEARS.stop - 1}之间的整数"
        else:
            values["year"] = year
    if not partial or "procurement_budget" in body:
        try:
            budget = _money(body.get("procurement_budget"), "货物类采购资金")
        except ValueError as reason:
            problems["procurement_budget"] = str(reason)
        else:
            if budget <= 0:
                problems["procurement_budget"] = "货物类采购资金应大于0"
            values["procurement_budget"] = budget
    raw_lines = body.get("lines", [] if not partial else None)
    if raw_lines is not None:
        if not isinstance(raw_lines, list):
            problems["lines"] = "计划明细应为列表"
        elif len(raw_lines) > MAX_LINES:
            problems["lines"] = f"一个计划最多{MAX_LINES}项"
        else:
            lines = []
            for number, raw in enumerate(raw_lines):
                key = f"lines[{number}]"
                if not isinstance(raw, dict) or set(raw) - {"scene_id", "amount"}:
                    problems[key] = "每项应为含 scene_id 和 amount 的对象"
                    continue
                scene_id = raw.get("scene_id")
                if isinstance(scene_id, bool) or not is_id(scene_id):
                    problems[f"{key}.scene_id"] = "应为场景编号（正整数）"
                try:
                    amount = _money(raw.get("amount"), "计划金额")
                    if amount <= 0:
                        raise ValueError("计划金额应大于0")
                except ValueError as reason:
                    problems[f"{key}.amount"] = str(reason)
                    continue
                lines.append((scene_id, amount, key))
            ids = [scene_id for scene_id, _, _ in lines]
            if len(set(ids)) != len(ids):
                problems["lines"] = "同一场景只能列入一次"
            values["lines"] = lines
    if problems:
        raise Invalid("年度场景建设计划填写有误", fields=problems)
    if "lines" in values:
        values["lines"] = _checked_lines(session, actor, values["lines"])
    return values


def _checked_lines(
    session: orm.Session, actor: Any, lines: list[tuple[int, Decimal, str]]
) -> list[tuple[Scene, Decimal]]:
    scenes = {
        s.id: s
        for s in session.scalars(
            sa.select(Scene).where(Scene.id.in_([i for i, _, _ in lines]))
        )
    }
    missing, foreign, refused = {}, {}, {}
    for scene_id, _, key in lines:
        scene = scenes.get(scene_id)
        if scene is None or (
            scene.organization_id != actor.organization_id
            and scene.status not in PUBLIC_STATUSES
        ):
            missing[f"{key}.scene_id"] = f"场景（编号{scene_id}）不存在"
        elif scene.organization_id != actor.organization_id:
            foreign[f"{key}.scene_id"] = (
                f"“{scene.title}”是其他单位的场景，不能列入本单位计划"
            )
        elif (reason := why_not_plannable(scene)) is not None:
            refused[f"{key}.scene_id"] = f"“{scene.title}”：{reason}"
    if missing:
        raise NotFound("计划中的场景不存在", fields=missing)
    if foreign:
        raise Forbidden(
            "只能把本单位的场景列入计划", code="foreign_scene", fields=foreign
        )
    if refused:
        raise Conflict(
            "有场景暂不能纳入计划", code="scene_not_plannable", fields=refused
        )
    return [(scenes[scene_id], amount) for scene_id, amount, _ in lines]


def _set_lines(plan: AnnualPlan, lines: list[tuple[Scene, Decimal]]) -> None:
    plan.lines.clear()
    session = orm.object_session(plan)
    if session is not None:
        # The old rows go first: a scene kept in the plan is inserted again.
        session.flush()
    for position, (scene, amount) in enumerate(lines):
        plan.lines.append(PlanLine(scene_id=scene.id, amount=amount, position=position))


def _require_planner(session: orm.Session, actor: Any) -> Organization:
    if actor is None or actor.role != "unit" or actor.organization_id is None:
        raise Forbidden("只有场景应用单位可以填报年度场景建设计划")
    organization = session.get(Organization, actor.organization_id)
    assert organization is not None
    if organization.kind not in PLANNING_KINDS:
        raise Forbidden(
            "年度场景建设计划由市级行政机关、事业单位填报；"
            f"本单位类型为“{organization.kind}”",
            code="not_a_planning_unit",
        )
    return organization


def create_plan(
    session: orm.Session, actor: Any, body: Mapping[str, Any], *, now: datetime
) -> AnnualPlan:
    organization = _require_planner(session, actor)
    values = _parse(session, actor, body, partial=False)
    current = session.scalars(
        sa.select(AnnualPlan).where(
            AnnualPlan.organization_id == organization.id,
            AnnualPlan.year == values["year"],
            AnnualPlan.status != "superseded",
        )
    ).all()
    for plan in current:
        if plan.status == "approved":
            raise Conflict(
                f"{values['year']}年度计划已审定，不能再新建；"
                "如需调整，请在已审定的计划上发起变更（新版本，重新审核）",
                code="year_already_approved",
            )
        raise Conflict(
            f"本单位{values['year']}年度已有计划（{PLAN_STATUSES[plan.status]}），"
            "请在该计划上修改",
            code="plan_exists",
        )
    plan = AnnualPlan(
        organization_id=organization.id,
        year=values["year"],
        version=1,
        status="draft",
        procurement_budget=values["procurement_budget"],
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    _set_lines(plan, values["lines"])
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor,
        "plan.create",
        "plan",
        plan.id,
        at=now,
        after="draft",
        details=summary(plan),
    )
    return plan


def visible(actor: Any, plan: AnnualPlan) -> bool:
    if actor is None:
        return False
    if actor.role in ("reviewer", "center", "admin"):
        return True
    return actor.role == "unit" and actor.organization_id == plan.organization_id


def get_plan(
    session: orm.Session, actor: Any, plan_id: int, *, for_update: bool = False
) -> AnnualPlan:
    plan = None
    if is_id(plan_id):
        query = sa.select(AnnualPlan).where(AnnualPlan.id == plan_id)
        if for_update:
            query = query.with_for_update(of=AnnualPlan)
        plan = session.scalar(query)
    if plan is None or not visible(actor, plan):
        raise NotFound("计划不存在或无权查看", code="plan_not_found")
    return plan


def list_plans(
    session: orm.Session, actor: Any, year: int | None = None
) -> list[AnnualPlan]:
    query = sa.select(AnnualPlan).order_by(
        AnnualPlan.year.desc(), AnnualPlan.organization_id, AnnualPlan.version.desc()
    )
    if actor.role == "unit":
        query = query.where(AnnualPlan.organization_id == actor.organization_id)
    elif actor.role not in ("reviewer", "center", "admin"):
        return []
    if year is not None:
        query = query.where(AnnualPlan.year == year)
    return list(session.scalars(query))


def update_plan(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    body: Mapping[str, Any],
    *,
    now: datetime,
) -> AnnualPlan:
    plan = get_plan(session, actor, plan_id, for_update=True)
    _require_owner(session, actor, plan)
    if plan.status not in ("draft", "returned"):
        raise Conflict(
            f"计划{PLAN_STATUSES[plan.status]}，不能修改"
            + ("；如需调整请发起变更（新版本）" if plan.status == "approved" else ""),
            code="plan_frozen",
        )
    values = _parse(session, actor, body, partial=True)
    before = summary(plan)
    if "procurement_budget" in values:
        plan.procurement_budget = values["procurement_budget"]
    if "lines" in values:
        _set_lines(plan, values["lines"])
    plan.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "plan.update",
        "plan",
        plan.id,
        at=now,
        details={"before": before, "after": summary(plan)},
    )
    return plan


def _require_owner(session: orm.Session, actor: Any, plan: AnnualPlan) -> None:
    _require_planner(session, actor)
    if actor.organization_id != plan.organization_id:
        raise Forbidden("只能修改本单位的计划")


def reserved(plan: AnnualPlan) -> Decimal:
    return sum((line.amount for line in plan.lines), Decimal(0))


def share(plan: AnnualPlan) -> Decimal:
    if not plan.procurement_budget:
        return Decimal(0)
    return reserved(plan) / plan.procurement_budget


def minimum_reserved(plan: AnnualPlan) -> Decimal:
    return (plan.procurement_budget * RESERVED_SHARE).quantize(Decimal("0.01"))


def submission_problems(plan: AnnualPlan) -> list[str]:
    """What stops the plan from being submitted, in Chinese; empty when it may go."""
    problems = []
    if not plan.lines:
        problems.append("计划中还没有场景")
    total = reserved(plan)
    if total < plan.procurement_budget * RESERVED_SHARE:
        problems.append(
            f"用于场景建设的金额{total}元占货物类采购资金{plan.procurement_budget}元的"
            f"{share(plan) * 100:.2f}%，低于政策要求的30%"
            f"（至少{minimum_reserved(plan)}元）"
        )
    if total > plan.procurement_budget:
        problems.append("计划金额合计超过了货物类采购资金（须在年度预算额度范围内）")
    for line in plan.lines:
        scene = line_scene(plan, line)
        reason = why_not_plannable(scene)
        if reason:
            problems.append(f"“{scene.title}”：{reason}")
    return problems


def line_scene(plan: AnnualPlan, line: PlanLine) -> Scene:
    session = orm.object_session(plan)
    assert session is not None
    scene = session.get(Scene, line.scene_id)
    assert scene is not None
    return scene


def transition(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    action: str,
    *,
    comment: str = "",
    bodies: Mapping[str, str],
    now: datetime,
) -> AnnualPlan:
    """Carry out `action` (ACTIONS) on the plan; each step is audited.

    The plan row is locked first, so two reviewers deciding at once are applied one
    after the other: each records its own body's review, none is lost.
    """
    if action not in ACTIONS:
        raise Invalid("未知的操作", fields={"action": "可选：" + "、".join(ACTIONS)})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise Invalid("意见过长", fields={"comment": "不能超过2000个字符"})
    plan = get_plan(session, actor, plan_id, for_update=True)
    before = plan.status
    if action == "submit":
        result = _submit(session, actor, plan, now)
    elif action == "revise":
        result = _revise(session, actor, plan, now)
    else:
        result = _review(session, actor, plan, action, comment, bodies, now)
    audit.record(
        session,
        actor,
        f"plan.{action}",
        "plan",
        plan.id,
        at=now,
        before=before,
        after=plan.status,
        comment=comment,
        details=summary(result),
    )
    return result


def _submit(
    session: orm.Session, actor: Any, plan: AnnualPlan, now: datetime
) -> AnnualPlan:
    _require_owner(session, actor, plan)
    if plan.status not in ("draft", "returned"):
        raise Conflict(
            f"计划{PLAN_STATUSES[plan.status]}，不能提交", code="bad_transition"
        )
    problems = submission_problems(plan)
    if problems:
        raise Conflict(
            "计划暂不能提交：" + "；".join(problems),
            code="plan_incomplete",
            fields={"plan": "；".join(problems)},
        )
    plan.status = "submitted"
    plan.review_round += 1
    plan.updated_at = now
    session.flush()
    return plan


def _review(
    session: orm.Session,
    actor: Any,
    plan: AnnualPlan,
    action: str,
    comment: str,
    bodies: Mapping[str, str],
    now: datetime,
) -> AnnualPlan:
    body = review_body(actor, session, bodies)
    if body is None:
        raise Forbidden(
            "计划由市发展改革委、市财政局审核：您的账号不属于这两个部门",
            code="not_a_plan_reviewer",
        )
    if plan.status != "submitted":
        raise Conflict(
            f"计划{PLAN_STATUSES[plan.status]}，不在审核中", code="bad_transition"
        )
    if action == "return" and not comment:
        raise Invalid("退回须说明原因", fields={"comment": "请填写退回原因"})
    done = {r.body for r in plan.reviews if r.review_round == plan.review_round}
    if body in done:
        raise Conflict(
            f"{REVIEW_BODIES[body]}已对本轮提交作出审核意见", code="already_reviewed"
        )
    decision = "approved" if action == "approve" else "returned"
    plan.reviews.append(
        PlanReview(
            review_round=plan.review_round,
            body=body,
            decision=decision,
            comment=comment,
            reviewer_id=actor.id,
            at=now,
        )
    )
    if decision == "returned":
        plan.status = "returned"
    elif done | {body} >= set(REVIEW_BODIES):
        plan.status, plan.approved_at = "approved", now
        if plan.replaces_id is not None:
            earlier = session.get(AnnualPlan, plan.replaces_id, with_for_update=True)
            if earlier is not None and earlier.status == "approved":
                earlier.status = "superseded"
    plan.updated_at = now
    session.flush()
    return plan


def _revise(
    session: orm.Session, actor: Any, plan: AnnualPlan, now: datetime
) -> AnnualPlan:
    """A change to an approved plan: a new draft version with the same lines; the
    approved one stays in force until the new one is approved."""
    _require_owner(session, actor, plan)
    if plan.status != "approved":
        raise Conflict("只有已审定的计划可以发起变更", code="bad_transition")
    pending = session.scalar(
        sa.select(AnnualPlan.id).where(AnnualPlan.replaces_id == plan.id)
    )
    if pending is not None:
        raise Conflict(
            f"该计划已有变更版本（编号{pending}），请在其上修改", code="revision_exists"
        )
    newer = AnnualPlan(
        organization_id=plan.organization_id,
        year=plan.year,
        version=plan.version + 1,
        status="draft",
        procurement_budget=plan.procurement_budget,
        replaces_id=plan.id,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    for line in plan.lines:
        newer.lines.append(
            PlanLine(scene_id=line.scene_id, amount=line.amount, position=line.position)
        )
    session.add(newer)
    session.flush()
    return newer


def summary(plan: AnnualPlan) -> dict[str, Any]:
    return {
        "year": plan.year,
        "version": plan.version,
        "procurement_budget": str(plan.procurement_budget),
        "lines": [[line.scene_id, str(line.amount)] for line in plan.lines],
    }


def plan_json(plan: AnnualPlan) -> dict[str, Any]:
    session = orm.object_session(plan)
    assert session is not None
    organization = session.get(Organization, plan.organization_id)
    titles = dict(
        session.execute(
            sa.select(Scene.id, Scene.title).where(
                Scene.id.in_([line.scene_id for line in plan.lines])
            )
        ).all()
    )
    return {
        "id": plan.id,
        "organization_id": plan.organization_id,
        "organization_name": organization.name if organization else "",
        "year": plan.year,
        "version": plan.version,
        "status": plan.status,
        "status_label": PLAN_STATUSES[plan.status],
        "procurement_budget": str(plan.procurement_budget),
        "reserved": str(reserved(plan)),
        "reserved_share": f"{share(plan):.4f}",
        "minimum_reserved": str(minimum_reserved(plan)),
        "replaces_id": plan.replaces_id,
        "lines": [
            {
                "id": line.id,
                "scene_id": line.scene_id,
                "scene_title": titles.get(line.scene_id, ""),
                "amount": str(line.amount),
            }
            for line in plan.lines
        ],
        "reviews": [
            {
                "round": r.review_round,
                "body": r.body,
                "body_label": REVIEW_BODIES[r.body],
                "decision": r.decision,
                "decision_label": DECISIONS[r.decision],
                "comment": r.comment,
                "at": r.at.isoformat(),
            }
            for r in plan.reviews
        ],
        "approved_at": plan.approved_at.isoformat() if plan.approved_at else None,
        "outstanding": plan.outstanding,
        "outstanding_note": plan.outstanding_note,
    }


def awaiting_review(session: orm.Session, body: str) -> list[AnnualPlan]:
    """Submitted plans whose current round the body has not decided yet."""
    decided = (
        sa.select(PlanReview.id)
        .where(
            PlanReview.plan_id == AnnualPlan.id,
            PlanReview.review_round == AnnualPlan.review_round,
            PlanReview.body == body,
        )
        .exists()
    )
    return list(
        session.scalars(
            sa.select(AnnualPlan)
            .where(AnnualPlan.status == "submitted", ~decided)
            .order_by(AnnualPlan.updated_at)
        )
    )
