"""Yearly plan reports per unit and citywide: goods-procurement budget, reserved amount
and share, approved, contracted, paid, executed (scenes completed), and the units the
reviewers marked as outstanding. Aggregated in the database, one query per figure."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import orm

from marketplace import audit, spreadsheets
from marketplace.errors import Conflict, Forbidden, Invalid
from marketplace.organizations.models import Organization
from marketplace.plans.models import (
    PLAN_STATUSES,
    AnnualPlan,
    Inquiry,
    InquiryPayment,
    PlanLine,
)
from marketplace.plans.services import get_plan, review_body
from marketplace.scenes.models import Scene

ZERO = Decimal(0)


@dataclass
class UnitRow:
    organization_id: int
    organization_name: str
    plan_id: int
    version: int
    status: str
    budget: Decimal
    reserved: Decimal
    approved: Decimal = ZERO
    contracted: Decimal = ZERO
    paid: Decimal = ZERO
    lines: int = 0
    completed: int = 0
    outstanding: bool = False
    outstanding_note: str = ""

    @property
    def share(self) -> Decimal:
        return self.reserved / self.budget if self.budget else ZERO

    @property
    def status_label(self) -> str:
        return PLAN_STATUSES[self.status]


@dataclass
class Report:
    year: int
    rows: list[UnitRow] = field(default_factory=list)

    def total(self, name: str) -> Any:
        return sum((getattr(r, name) for r in self.rows), 0)

    @property
    def share(self) -> Decimal:
        budget = self.total("budget")
        return self.total("reserved") / budget if budget else ZERO


def yearly_report(session: orm.Session, year: int) -> Report:
    """Each unit's plan in force for the year (its latest approved version, else its
    latest version), with what was contracted and paid on any of its versions."""
    plans = session.execute(
        sa.select(AnnualPlan, Organization.name)
        .join(Organization, Organization.id == AnnualPlan.organization_id)
        .where(AnnualPlan.year == year, AnnualPlan.status != "superseded")
        .order_by(Organization.name, AnnualPlan.version.desc())
    ).all()
    chosen: dict[int, tuple[AnnualPlan, str]] = {}
    for plan, name in plans:
        current = chosen.get(plan.organization_id)
        if current is None or (
            plan.status == "approved" and current[0].status != "approved"
        ):
            chosen[plan.organization_id] = (plan, name)
    reserved = dict(
        session.execute(
            sa.select(PlanLine.plan_id, sa.func.sum(PlanLine.amount))
            .where(PlanLine.plan_id.in_([p.id for p, _ in chosen.values()]))
            .group_by(PlanLine.plan_id)
        ).all()
    )
    by_unit = (
        sa.select(AnnualPlan.organization_id)
        .join(PlanLine, PlanLine.plan_id == AnnualPlan.id)
        .where(AnnualPlan.year == year)
    )
    contracted = dict(
        session.execute(
            by_unit.add_columns(sa.func.sum(Inquiry.contract_amount))
            .join(Inquiry, Inquiry.plan_line_id == PlanLine.id)
            .group_by(AnnualPlan.organization_id)
        ).all()
    )
    paid = dict(
        session.execute(
            by_unit.add_columns(sa.func.sum(InquiryPayment.amount))
            .join(Inquiry, Inquiry.plan_line_id == PlanLine.id)
            .join(InquiryPayment, InquiryPayment.inquiry_id == Inquiry.id)
            .group_by(AnnualPlan.organization_id)
        ).all()
    )
    line_counts = {
        plan_id: (total, done or 0)
        for plan_id, total, done in session.execute(
            sa.select(
                PlanLine.plan_id,
                sa.func.count(),
                sa.func.sum(sa.case((Scene.status == "completed", 1), else_=0)),
            )
            .join(Scene, Scene.id == PlanLine.scene_id)
            .where(PlanLine.plan_id.in_([p.id for p, _ in chosen.values()]))
            .group_by(PlanLine.plan_id)
        ).all()
    }
    report = Report(year)
    for organization_id, (plan, name) in sorted(chosen.items(), key=lambda i: i[1][1]):
        amount = Decimal(reserved.get(plan.id) or 0)
        lines, completed = line_counts.get(plan.id, (0, 0))
        report.rows.append(
            UnitRow(
                organization_id=organization_id,
                organization_name=name,
                plan_id=plan.id,
                version=plan.version,
                status=plan.status,
                budget=plan.procurement_budget,
                reserved=amount,
                approved=amount if plan.status == "approved" else ZERO,
                contracted=Decimal(contracted.get(organization_id) or 0),
                paid=Decimal(paid.get(organization_id) or 0),
                lines=lines,
                completed=int(completed),
                outstanding=plan.outstanding,
                outstanding_note=plan.outstanding_note,
            )
        )
    return report


def mark_outstanding(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    outstanding: bool,
    note: str,
    *,
    bodies: Mapping[str, str],
    now: datetime,
) -> AnnualPlan:
    """A reviewer marks (or unmarks) a unit's year as outstanding, with a reason."""
    if review_body(actor, session, bodies) is None:
        raise Forbidden(
            "由市发展改革委、市财政局标记工作优秀的单位", code="not_a_plan_reviewer"
        )
    plan = get_plan(session, actor, plan_id, for_update=True)
    if plan.status != "approved":
        raise Conflict("只能在已审定的计划上标记", code="plan_not_approved")
    note = (note or "").strip()
    if outstanding and not note:
        raise Invalid("请说明理由", fields={"note": "标记工作优秀须说明理由"})
    plan.outstanding, plan.outstanding_note = outstanding, note[:500]
    session.flush()
    audit.record(
        session,
        actor,
        "plan.outstanding",
        "plan",
        plan.id,
        at=now,
        details={"outstanding": outstanding, "note": plan.outstanding_note},
    )
    return plan


COLUMNS = (
    ("单位", 34),
    ("计划版本", 10),
    ("状态", 12),
    ("货物类采购资金（元）", 20),
    ("场景建设金额（元）", 20),
    ("占比", 10),
    ("已审定（元）", 18),
    ("已签约（元）", 18),
    ("已付款（元）", 18),
    ("场景数", 8),
    ("已完成", 8),
    ("工作优秀", 10),
    ("说明", 30),
)


def write_report(target: IO[bytes], report: Report) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{report.year}年度")
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    title = f"{report.year}年度场景建设计划执行情况"
    sheet.append([spreadsheets.cell(sheet, title, font=Font(bold=True, size=13))])
    sheet.append([spreadsheets.cell(sheet, label, font=bold) for label, _ in COLUMNS])

    def money(value: Decimal) -> Any:
        written = spreadsheets.cell(sheet, float(value))
        written.number_format = "#,##0.00"
        return written

    def share(value: Decimal) -> Any:
        written = spreadsheets.cell(sheet, float(value))
        written.number_format = "0.00%"
        return written

    for r in report.rows:
        sheet.append(
            spreadsheets.row(
                sheet,
                [
                    r.organization_name,
                    f"第{r.version}版",
                    r.status_label,
                    money(r.budget),
                    money(r.reserved),
                    share(r.share),
                    money(r.approved),
                    money(r.contracted),
                    money(r.paid),
                    r.lines,
                    r.completed,
                    "是" if r.outstanding else "",
                    r.outstanding_note,
                ],
            )
        )
    sheet.append(
        spreadsheets.row(
            sheet,
            [
                spreadsheets.cell(sheet, "全市合计", font=bold),
                "",
                "",
                money(report.total("budget")),
                money(report.total("reserved")),
                share(report.share),
                money(report.total("approved")),
                money(report.total("contracted")),
                money(report.total("paid")),
                report.total("lines"),
                report.total("completed"),
                sum(1 for r in report.rows if r.outstanding),
                "",
            ],
        )
    )
    workbook.save(target)
