"""The work list's rules: who writes it, what a valid target is, the pace of the
year, the performance score by the reviewer's weights, and the approval that
freezes the year's actuals."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.plans.services import review_body
from marketplace.taxonomy import Taxonomy
from marketplace.worklists import indicators
from marketplace.worklists.indicators import EVIDENCE, MEASURES, Measure, Period
from marketplace.worklists.models import (
    CITY_SCOPE,
    LIST_STATUSES,
    WorkEvidence,
    WorkIndicator,
    WorkList,
)

READER_ROLES = frozenset({"center", "reviewer", "admin"})
EDITABLE = ("draft", "returned")
MAX_TARGET = Decimal("1000000000000")
FULL_WEIGHTS = Decimal(100)
# The year-end report may be submitted from the year's last month on.
REPORT_MONTH = 12
CUSTOM_ROWS = 3


@dataclass(frozen=True)
class CustomRow:
    """An indicator counted from evidence, as the form sends it."""

    indicator_id: int | None
    label: str
    unit: str
    target: str


@dataclass(frozen=True)
class Progress:
    indicator: WorkIndicator
    measure: Measure
    actual: Decimal
    expected: Decimal  # where the actual should be by today at an even pace
    state: str
    score: Decimal | None  # weight × completion (capped at 100%), when weighed

    @property
    def rate(self) -> Decimal:
        return (
            self.actual / self.indicator.target if self.indicator.target else Decimal(0)
        )


def scope_label(scope: str) -> str:
    return "市场景创新促进中心" if scope == CITY_SCOPE else f"{scope}分中心"


def title(work_list: WorkList) -> str:
    return f"{scope_label(work_list.scope)}{work_list.year}年度工作量化清单"


def _require_center(actor: Any) -> None:
    if actor is None or actor.role != "center":
        raise Forbidden("只有市场景创新促进中心的工作人员可以编制工作清单")


def is_appraiser(session: orm.Session, actor: Any, bodies: Mapping[str, str]) -> bool:
    """The reviewer who weighs and approves the report: 市发展改革委 (2(五))."""
    return review_body(actor, session, bodies) == "ndrc"


def _require_appraiser(
    session: orm.Session, actor: Any, bodies: Mapping[str, str]
) -> None:
    if not is_appraiser(session, actor, bodies):
        raise Forbidden("只有市发展改革委的审核人员可以设定权重和审定绩效报告")


def _require_editable(work_list: WorkList) -> None:
    if work_list.status not in EDITABLE:
        raise Conflict(
            f"工作清单{LIST_STATUSES[work_list.status]}，不能修改",
            code="work_list_frozen",
        )


def _decimal(text: Any, label: str, *, allow_zero: bool = False) -> Decimal:
    """A number typed in a form or sent as a string; ValueError with the message."""
    raw = str(text if text is not None else "").strip().replace(",", "")
    if not raw:
        raise ValueError(f"请填写{label}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{label}应为数字") from None
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{label}应大于0")
    if value >= MAX_TARGET:
        raise ValueError(f"{label}过大")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{label}最多两位小数")
    return value


def get_work_list(session: orm.Session, actor: Any, list_id: int) -> WorkList:
    if actor is None or actor.role not in READER_ROLES:
        raise Forbidden("工作清单仅供促进中心、审核部门和管理员查看")
    work_list = session.get(WorkList, list_id)
    if work_list is None:
        raise NotFound("工作清单不存在")
    return work_list


def list_work_lists(session: orm.Session) -> list[WorkList]:
    return list(
        session.scalars(
            sa.select(WorkList).order_by(WorkList.year.desc(), WorkList.scope)
        )
    )


def _check_year_and_scope(
    session: orm.Session, year: Any, scope: str, taxonomy: Taxonomy, today: date
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not isinstance(year, int) or not today.year - 1 <= year <= today.year + 1:
        problems["year"] = f"年度应为{today.year - 1}至{today.year + 1}年"
    if scope != CITY_SCOPE and scope not in taxonomy.names("domains"):
        problems["scope"] = "请选择促进中心或一个领域分中心"
    if not problems and session.scalar(
        sa.select(WorkList.id).where(WorkList.year == year, WorkList.scope == scope)
    ):
        raise Conflict(
            f"{scope_label(scope)}{year}年度的工作清单已经建立",
            code="work_list_exists",
        )
    return problems


def _save_indicators(
    session: orm.Session,
    work_list: WorkList,
    targets: Mapping[str, str],
    custom: list[CustomRow],
    problems: dict[str, str],
) -> None:
    """Set the list's indicators to those chosen, keeping each existing indicator
    (and its evidence) whose measure stays. Problems are keyed by form field."""
    allowed = {m.key for m in indicators.measures_for(work_list.scope)} - {EVIDENCE}
    current = {i.measure: i for i in work_list.indicators if i.measure != EVIDENCE}
    for key in targets:
        if key not in allowed:
            problems[f"target_{key}"] = "这个分中心的清单不统计此项"
    chosen: list[WorkIndicator] = []
    for measure in indicators.measures_for(work_list.scope):
        if measure.key == EVIDENCE:
            continue
        indicator = current.get(measure.key)
        if measure.key not in targets:
            if indicator is not None and indicator.evidence:
                problems[f"target_{measure.key}"] = "已有佐证材料，不能移出清单"
                chosen.append(indicator)
            continue
        try:
            target = _decimal(targets[measure.key], f"“{measure.label}”的目标")
        except ValueError as error:
            problems[f"target_{measure.key}"] = str(error)
            target = Decimal(0)
        if indicator is None:
            indicator = WorkIndicator(
                measure=measure.key,
                label=measure.label,
                unit=measure.unit,
                target=target,
            )
        indicator.target = target
        chosen.append(indicator)
    existing_custom = {i.id: i for i in work_list.indicators if i.measure == EVIDENCE}
    kept_ids = set()
    for number, row in enumerate(custom, start=1):
        field = f"custom_{number}"
        label, unit = row.label.strip(), row.unit.strip()
        indicator = existing_custom.get(row.indicator_id or -1)
        if row.indicator_id is not None and indicator is None:
            problems[field] = "这一项不在本清单中"
            continue
        if not label:
            if indicator is not None:
                if indicator.evidence:
                    problems[field] = "已有佐证材料，不能移出清单"
                    kept_ids.add(indicator.id)
                    chosen.append(indicator)
                continue
            if row.target.strip() or unit:
                problems[field] = "请填写指标名称"
            continue
        if len(label) > 100 or len(unit) > 10 or not unit:
            problems[field] = "指标名称最多100字，计量单位必填且最多10字"
            continue
        try:
            target = _decimal(row.target, f"“{label[:20]}”的目标")
        except ValueError as error:
            problems[field] = str(error)
            continue
        if indicator is None:
            indicator = WorkIndicator(
                measure=EVIDENCE, label=label, unit=unit, target=target
            )
        else:
            kept_ids.add(indicator.id)
        indicator.label, indicator.unit, indicator.target = label, unit, target
        chosen.append(indicator)
    for indicator_id, indicator in existing_custom.items():
        if (
            indicator_id not in kept_ids
            and indicator not in chosen
            and indicator.evidence
        ):
            problems.setdefault(
                "custom", f"“{indicator.label}”已有佐证材料，不能移出清单"
            )
    if not chosen and not problems:
        problems["indicators"] = "请至少列入一项指标"
    if problems:
        return
    for position, indicator in enumerate(chosen):
        indicator.position = position
    work_list.indicators = chosen


def create_work_list(
    session: orm.Session,
    actor: Any,
    *,
    year: Any,
    scope: str,
    targets: Mapping[str, str],
    custom: list[CustomRow],
    taxonomy: Taxonomy,
    now: datetime,
    today: date,
) -> WorkList:
    _require_center(actor)
    problems = _check_year_and_scope(session, year, scope, taxonomy, today)
    work_list = WorkList(
        year=year if isinstance(year, int) else 0,
        scope=scope,
        status="draft",
        created_by=actor.id,
        created_at=now,
        updated_at=now,
        decision_comment="",
    )
    _save_indicators(session, work_list, targets, custom, problems)
    if problems:
        raise Invalid("工作清单有误，请按提示修改", fields=problems)
    session.add(work_list)
    session.flush()
    audit.record(
        session,
        actor,
        "work_list.create",
        "work_list",
        work_list.id,
        at=now,
        after="draft",
        details={
            "year": work_list.year,
            "scope": scope,
            "indicators": _summary(work_list),
        },
    )
    return work_list


def update_work_list(
    session: orm.Session,
    actor: Any,
    work_list: WorkList,
    *,
    targets: Mapping[str, str],
    custom: list[CustomRow],
    now: datetime,
) -> WorkList:
    _require_center(actor)
    _require_editable(work_list)
    before = _summary(work_list)
    problems: dict[str, str] = {}
    _save_indicators(session, work_list, targets, custom, problems)
    if problems:
        raise Invalid("工作清单有误，请按提示修改", fields=problems)
    work_list.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "work_list.update",
        "work_list",
        work_list.id,
        at=now,
        details={"before": before, "after": _summary(work_list)},
    )
    return work_list


def _summary(work_list: WorkList) -> list[dict[str, str]]:
    return [
        {"label": i.label, "target": f"{i.target:f}", "unit": i.unit}
        for i in work_list.indicators
    ]


def _indicator(work_list: WorkList, indicator_id: Any) -> WorkIndicator:
    indicator = next((i for i in work_list.indicators if i.id == indicator_id), None)
    if indicator is None:
        raise NotFound("这项指标不在本清单中")
    return indicator


def add_evidence(
    session: orm.Session,
    actor: Any,
    work_list: WorkList,
    indicator_id: Any,
    *,
    description: str,
    quantity: str,
    happened_on: str,
    reference: str,
    now: datetime,
    today: date,
) -> WorkEvidence:
    """Evidence for an indicator: for one counted from evidence its quantity is part
    of the actual; for a counted one it is a note the report shows beside it."""
    _require_center(actor)
    _require_editable(work_list)
    indicator = _indicator(work_list, indicator_id)
    measure = MEASURES[indicator.measure]
    problems: dict[str, str] = {}
    description = (description or "").strip()
    if not description:
        problems["description"] = "请说明完成的工作"
    elif len(description) > 2000:
        problems["description"] = "说明最多2000字"
    amount: Decimal | None = None
    if indicators.counted_from_evidence(measure) or (quantity or "").strip():
        try:
            amount = _decimal(quantity, "数量")
        except ValueError as error:
            problems["quantity"] = str(error)
    try:
        on = date.fromisoformat((happened_on or "").strip())
    except ValueError:
        problems["happened_on"] = "请填写日期（年-月-日）"
    else:
        if on.year != work_list.year:
            problems["happened_on"] = f"日期应在{work_list.year}年内"
        elif on > today:
            problems["happened_on"] = "日期不能晚于今天"
    reference = (reference or "").strip()
    if len(reference) > 500:
        problems["reference"] = "文号或链接最多500字"
    if problems:
        raise Invalid("佐证材料有误，请按提示修改", fields=problems)
    evidence = WorkEvidence(
        description=description,
        quantity=amount,
        happened_on=on,
        reference=reference,
        recorded_by=actor.id,
        recorded_at=now,
    )
    indicator.evidence.append(evidence)
    work_list.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "work_list.evidence_add",
        "work_list",
        work_list.id,
        at=now,
        details={
            "indicator": indicator.label,
            "evidence_id": evidence.id,
            "quantity": None if amount is None else f"{amount:f}",
        },
    )
    return evidence


def remove_evidence(
    session: orm.Session,
    actor: Any,
    work_list: WorkList,
    evidence_id: Any,
    *,
    now: datetime,
) -> None:
    _require_center(actor)
    _require_editable(work_list)
    for indicator in work_list.indicators:
        for evidence in indicator.evidence:
            if evidence.id == evidence_id:
                indicator.evidence.remove(evidence)
                work_list.updated_at = now
                audit.record(
                    session,
                    actor,
                    "work_list.evidence_remove",
                    "work_list",
                    work_list.id,
                    at=now,
                    comment=evidence.description[:200],
                    details={"indicator": indicator.label, "evidence_id": evidence_id},
                )
                session.flush()
                return
    raise NotFound("这份佐证材料不在本清单中")


def set_weights(
    session: orm.Session,
    actor: Any,
    work_list: WorkList,
    weights: Mapping[int, str],
    *,
    bodies: Mapping[str, str],
    now: datetime,
) -> None:
    """The reviewer's weights: one per indicator, adding up to 100."""
    _require_appraiser(session, actor, bodies)
    if work_list.status == "approved":
        raise Conflict("绩效报告已审定，权重不能再改", code="work_list_frozen")
    problems: dict[str, str] = {}
    parsed: dict[int, Decimal] = {}
    for indicator in work_list.indicators:
        try:
            parsed[indicator.id] = _decimal(
                weights.get(indicator.id), f"“{indicator.label}”的权重", allow_zero=True
            )
        except ValueError as error:
            problems[f"weight_{indicator.id}"] = str(error)
    unknown = set(weights) - {i.id for i in work_list.indicators}
    if unknown:
        problems["weights"] = "有权重不属于本清单的指标"
    if not problems and sum(parsed.values()) != FULL_WEIGHTS:
        problems["weights"] = f"权重合计应为100，现为{sum(parsed.values()):f}"
    if problems:
        raise Invalid("权重有误，请按提示修改", fields=problems)
    before = {i.label: f"{i.weight:f}" for i in work_list.indicators}
    for indicator in work_list.indicators:
        indicator.weight = parsed[indicator.id]
    work_list.updated_at = now
    audit.record(
        session,
        actor,
        "work_list.weights",
        "work_list",
        work_list.id,
        at=now,
        details={
            "before": before,
            "after": {i.label: f"{i.weight:f}" for i in work_list.indicators},
        },
    )
    session.flush()


ACTIONS = {
    "submit": "提交绩效报告",
    "approve": "审定绩效报告",
    "return": "退回绩效报告",
}


def transition(
    session: orm.Session,
    actor: Any,
    work_list: WorkList,
    action: str,
    *,
    comment: str,
    bodies: Mapping[str, str],
    now: datetime,
    today: date,
    bounds: tuple[datetime, datetime],
) -> WorkList:
    """Submit, approve or return the year-end report; `bounds` are the UTC bounds
    of the list's year, for the actuals an approval keeps."""
    before = work_list.status
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise Invalid("意见最多2000字", fields={"comment": "意见最多2000字"})
    if action == "submit":
        _require_center(actor)
        _require_editable(work_list)
        if (today.year, today.month) < (work_list.year, REPORT_MONTH):
            raise Conflict(
                f"年度绩效报告自{work_list.year}年{REPORT_MONTH}月起提交",
                code="too_early",
            )
        work_list.status, work_list.submitted_at = "submitted", now
    elif action in ("approve", "return"):
        _require_appraiser(session, actor, bodies)
        if work_list.status != "submitted":
            raise Conflict(
                f"工作清单{LIST_STATUSES[work_list.status]}，没有待审定的绩效报告",
                code="not_submitted",
            )
        if action == "return":
            if not comment:
                raise Invalid(
                    "退回时请写明理由", fields={"comment": "退回时请写明理由"}
                )
            work_list.status = "returned"
        else:
            if sum(i.weight for i in work_list.indicators) != FULL_WEIGHTS:
                raise Conflict(
                    "请先设定各项指标的权重（合计100）", code="weights_missing"
                )
            for row in progress(session, work_list, today, bounds=bounds):
                row.indicator.approved_actual = row.actual
            work_list.status = "approved"
        work_list.decided_by, work_list.decided_at = actor.id, now
        work_list.decision_comment = comment
    else:
        raise Invalid("未知的操作", fields={"action": f"应为{'、'.join(ACTIONS)}之一"})
    work_list.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        f"work_list.{action}",
        "work_list",
        work_list.id,
        at=now,
        before=before,
        after=work_list.status,
        comment=comment,
    )
    return work_list


def period_of(year: int, bounds: tuple[datetime, datetime], today: date) -> Period:
    return Period(year=year, starts=bounds[0], ends=bounds[1], today=today)


def pace(year: int, today: date) -> Decimal:
    """The share of the year gone by today (1 once it has ended)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    if today < first:
        return Decimal(0)
    if today >= last:
        return Decimal(1)
    return Decimal((today - first).days + 1) / Decimal((last - first).days + 1)


def _state(actual: Decimal, target: Decimal, expected: Decimal) -> str:
    if actual >= target:
        return "已完成"
    if actual >= expected:
        return "符合进度"
    return "落后于进度"


def progress(
    session: orm.Session,
    work_list: WorkList,
    today: date,
    *,
    bounds: tuple[datetime, datetime],
) -> list[Progress]:
    """Each indicator's actual (counted now, or as approved), the expected pace and
    the weighed score. `bounds` are the year's UTC bounds (clock.year_bounds)."""
    period = period_of(work_list.year, bounds, today)
    share = pace(work_list.year, today)
    weighed = sum(i.weight for i in work_list.indicators) == FULL_WEIGHTS
    rows = []
    for indicator in work_list.indicators:
        measure = MEASURES[indicator.measure]
        if indicator.approved_actual is not None and work_list.status == "approved":
            actual = indicator.approved_actual
        elif indicators.counted_from_evidence(measure):
            actual = sum(
                (e.quantity or Decimal(0) for e in indicator.evidence), Decimal(0)
            )
        else:
            actual = indicators.actual(session, measure, period, work_list.scope)
        target = indicator.target
        expected = (target * share).quantize(Decimal("0.01"))
        score = None
        if weighed and target:
            score = (indicator.weight * min(actual / target, Decimal(1))).quantize(
                Decimal("0.01")
            )
        rows.append(
            Progress(
                indicator,
                measure,
                actual,
                expected,
                _state(actual, target, expected),
                score,
            )
        )
    return rows


def total_score(rows: list[Progress]) -> Decimal | None:
    if not rows or any(row.score is None for row in rows):
        return None
    return sum((row.score for row in rows if row.score is not None), Decimal(0))


def pending_for_appraiser(session: orm.Session) -> list[WorkList]:
    return list(
        session.scalars(
            sa.select(WorkList)
            .where(WorkList.status == "submitted")
            .order_by(WorkList.year)
        )
    )
