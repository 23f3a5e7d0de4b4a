"""Unified price inquiry (统一询价, scene measures art. 1) for a line of an approved
plan: the Development and Reform Commission invites capability enterprises (the
matcher proposes them), their quotes stay sealed until the closing time, one is
chosen with a stated reason, and the contract and payments are recorded; the scene
moves along its workflow (matched, contracted, completed).
"""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit
from marketplace.capabilities.models import Capability
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.integers import is_id
from marketplace.items import workflow
from marketplace.items.fields import MONEY_PATTERN
from marketplace.items.services import apply_transition
from marketplace.organizations.models import Organization
from marketplace.plans.models import (
    INQUIRY_STATUSES,
    AnnualPlan,
    Inquiry,
    InquiryInvitation,
    InquiryPayment,
    InquiryQuote,
    PlanLine,
)
from marketplace.plans.services import get_plan, review_body
from marketplace.scenes.models import Scene
from marketplace.scenes.services import SCENES

MAX_INVITED = 50


def plan_line(
    session: orm.Session, actor: Any, plan_id: int, line_id: int
) -> tuple[AnnualPlan, PlanLine]:
    plan = get_plan_for_inquiry(session, actor, plan_id)
    line = next((ln for ln in plan.lines if ln.id == line_id), None)
    if line is None:
        raise NotFound("计划中没有这一项", code="plan_line_not_found")
    return plan, line


def get_plan_for_inquiry(session: orm.Session, actor: Any, plan_id: int) -> AnnualPlan:
    """The plan, for its viewers and for the enterprises invited to one of its
    inquiries (who see only that)."""
    if actor is not None and actor.role == "vendor" and is_id(plan_id):
        invited = session.scalar(
            sa.select(AnnualPlan)
            .join(PlanLine, PlanLine.plan_id == AnnualPlan.id)
            .join(Inquiry, Inquiry.plan_line_id == PlanLine.id)
            .join(InquiryInvitation, InquiryInvitation.inquiry_id == Inquiry.id)
            .where(
                AnnualPlan.id == plan_id,
                InquiryInvitation.organization_id == actor.organization_id,
            )
        )
        if invited is None:
            raise NotFound("计划不存在或无权查看", code="plan_not_found")
        return invited
    return get_plan(session, actor, plan_id)


def inquiry_of(
    session: orm.Session, line: PlanLine, *, for_update: bool = False
) -> Inquiry:
    query = sa.select(Inquiry).where(Inquiry.plan_line_id == line.id)
    if for_update:
        query = query.with_for_update(of=Inquiry)
    inquiry = session.scalar(query)
    if inquiry is None:
        raise NotFound("该项尚未发起统一询价", code="inquiry_not_found")
    return inquiry


def _require_ndrc(session: orm.Session, actor: Any, bodies: Mapping[str, str]) -> None:
    if review_body(actor, session, bodies) != "ndrc":
        raise Forbidden("统一询价由市发展改革委办理", code="not_ndrc")


def _ndrc_inquiry(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    line_id: int,
    bodies: Mapping[str, str],
) -> tuple[PlanLine, Inquiry]:
    """The line and its inquiry, locked, for a step only 发改委 takes."""
    _require_ndrc(session, actor, bodies)
    _, line = plan_line(session, actor, plan_id, line_id)
    return line, inquiry_of(session, line, for_update=True)


def _money(value: Any, label: str, field: str) -> Decimal:
    if not isinstance(value, str) or not MONEY_PATTERN.match(value.strip()):
        raise Invalid(
            f"{label}有误",
            fields={field: f'{label}应为以元为单位的金额字符串，如 "1250000.00"'},
        )
    amount = Decimal(value.strip())
    if amount <= 0:
        raise Invalid(f"{label}有误", fields={field: f"{label}应大于0"})
    return amount


def _moment(value: Any, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Invalid(
            "时间格式有误",
            fields={field: "应为带时区的时间，如 2027-03-31T17:00:00+08:00"},
        )
    return moment


def _day(value: Any, field: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid("日期格式有误", fields={field: "应为 YYYY-MM-DD"})


def _advance_scene(
    session: orm.Session, actor: Any, scene_id: int, target: str, now: datetime
) -> None:
    """Move the line's scene to `target` when its workflow allows it from where it
    is; a scene its owner already moved on is left as it is."""
    scene = session.scalar(
        sa.select(Scene).where(Scene.id == scene_id).with_for_update(of=Scene)
    )
    if scene is not None and workflow.find_transition("scene", scene.status, target):
        apply_transition(
            session, SCENES, actor, scene, target, comment="统一询价", now=now
        )


def open_inquiry(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    line_id: int,
    body: Mapping[str, Any],
    *,
    bodies: Mapping[str, str],
    now: datetime,
) -> Inquiry:
    _require_ndrc(session, actor, bodies)
    plan, line = plan_line(session, actor, plan_id, line_id)
    if plan.status != "approved":
        raise Conflict("只有已审定计划中的项目可以统一询价", code="plan_not_approved")
    if session.scalar(sa.select(Inquiry.id).where(Inquiry.plan_line_id == line.id)):
        raise Conflict("该项已发起统一询价", code="inquiry_exists")
    closes_at = _moment(body.get("closes_at"), "closes_at")
    if closes_at <= now:
        raise Invalid("截止时间有误", fields={"closes_at": "截止时间应晚于现在"})
    ids = body.get("capability_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > MAX_INVITED
        or not all(is_id(i) and not isinstance(i, bool) for i in ids)
    ):
        raise Invalid(
            "邀请的能力有误",
            fields={"capability_ids": f"应为1到{MAX_INVITED}个能力编号的列表"},
        )
    capabilities = {
        c.id: c
        for c in session.scalars(
            sa.select(Capability).where(
                Capability.id.in_(ids), Capability.status == "published"
            )
        )
    }
    missing = [i for i in ids if i not in capabilities]
    if missing:
        raise NotFound(
            "邀请的能力不存在或未发布",
            fields={"capability_ids": "、".join(str(i) for i in missing)},
        )
    inquiry = Inquiry(
        plan_line_id=line.id,
        status="open",
        opened_by=actor.id,
        opened_at=now,
        closes_at=closes_at,
    )
    invited: set[int] = set()
    for capability_id in ids:
        organization_id = capabilities[capability_id].organization_id
        if organization_id in invited:
            continue
        invited.add(organization_id)
        inquiry.invitations.append(
            InquiryInvitation(
                organization_id=organization_id, capability_id=capability_id
            )
        )
    session.add(inquiry)
    session.flush()
    audit.record(
        session,
        actor,
        "inquiry.open",
        "inquiry",
        inquiry.id,
        at=now,
        details={
            "plan_line_id": line.id,
            "invited": sorted(invited),
            "closes_at": closes_at.isoformat(),
        },
    )
    return inquiry


def submit_quote(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    line_id: int,
    body: Mapping[str, Any],
    *,
    now: datetime,
) -> Inquiry:
    """Record the vendor's quote (replacing its earlier one); returns the inquiry."""
    if actor is None or actor.role != "vendor":
        raise Forbidden("只有受邀的场景能力企业可以报价")
    _, line = plan_line(session, actor, plan_id, line_id)
    inquiry = inquiry_of(session, line, for_update=True)
    if actor.organization_id not in {i.organization_id for i in inquiry.invitations}:
        raise Forbidden("本单位未受邀参加该询价", code="not_invited")
    if now >= inquiry.closes_at or inquiry.status != "open":
        raise Conflict("询价已截止，不能再报价或修改报价", code="inquiry_closed")
    amount = _money(body.get("amount"), "报价", "amount")
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > 2000:
        raise Invalid("报价说明有误", fields={"note": "应为不超过2000字的文字"})
    quote = next(
        (q for q in inquiry.quotes if q.organization_id == actor.organization_id), None
    )
    if quote is None:
        quote = InquiryQuote(organization_id=actor.organization_id)
        inquiry.quotes.append(quote)
    quote.amount, quote.note = amount, note.strip()
    quote.submitted_by, quote.submitted_at = actor.id, now
    session.flush()
    # The amount is sealed: the audit log records that a quote came, not how much.
    audit.record(session, actor, "inquiry.quote", "inquiry", inquiry.id, at=now)
    return inquiry


def choose(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    line_id: int,
    body: Mapping[str, Any],
    *,
    bodies: Mapping[str, str],
    now: datetime,
) -> Inquiry:
    line, inquiry = _ndrc_inquiry(session, actor, plan_id, line_id, bodies)
    if now < inquiry.closes_at:
        raise Conflict(
            "询价尚未截止，报价仍密封，不能确定供应商", code="inquiry_sealed"
        )
    if inquiry.status != "open":
        raise Conflict("该询价已确定供应商", code="already_chosen")
    quote = next((q for q in inquiry.quotes if q.id == body.get("quote_id")), None)
    if quote is None:
        raise NotFound("该询价中没有这份报价", fields={"quote_id": "请选择一份报价"})
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("请说明选择理由", fields={"reason": "确定供应商须说明理由"})
    inquiry.chosen_quote_id, inquiry.choice_reason = quote.id, reason.strip()[:2000]
    inquiry.status = "chosen"
    session.flush()
    _advance_scene(session, actor, line.scene_id, "matched", now)
    audit.record(
        session,
        actor,
        "inquiry.choose",
        "inquiry",
        inquiry.id,
        at=now,
        comment=inquiry.choice_reason,
        details={
            "quote_id": quote.id,
            "organization_id": quote.organization_id,
            "amount": str(quote.amount),
        },
    )
    return inquiry


def record_contract(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    line_id: int,
    body: Mapping[str, Any],
    *,
    bodies: Mapping[str, str],
    now: datetime,
) -> Inquiry:
    line, inquiry = _ndrc_inquiry(session, actor, plan_id, line_id, bodies)
    if inquiry.status != "chosen":
        raise Conflict("确定供应商后才能登记合同（且只登记一次）", code="bad_state")
    number = body.get("number")
    if not isinstance(number, str) or not number.strip() or len(number) > 100:
        raise Invalid(
            "合同编号有误", fields={"number": "请填写合同编号（不超过100字）"}
        )
    amount = _money(body.get("amount"), "合同金额", "amount")
    if amount > line.amount:
        raise Conflict(
            f"合同金额{amount}元超过计划金额{line.amount}元",
            code="over_plan",
            fields={"amount": "合同金额不能超过计划金额"},
        )
    inquiry.contract_number = number.strip()
    inquiry.contract_amount = amount
    inquiry.contract_signed_on = _day(body.get("signed_on"), "signed_on")
    inquiry.status = "contracted"
    session.flush()
    _advance_scene(session, actor, line.scene_id, "contracted", now)
    audit.record(
        session,
        actor,
        "inquiry.contract",
        "inquiry",
        inquiry.id,
        at=now,
        details={"number": inquiry.contract_number, "amount": str(amount)},
    )
    return inquiry


def record_payment(
    session: orm.Session,
    actor: Any,
    plan_id: int,
    line_id: int,
    body: Mapping[str, Any],
    *,
    bodies: Mapping[str, str],
    now: datetime,
) -> Inquiry:
    line, inquiry = _ndrc_inquiry(session, actor, plan_id, line_id, bodies)
    if inquiry.status != "contracted" or inquiry.contract_amount is None:
        raise Conflict("登记合同后才能登记付款；项目完成后不能再登记", code="bad_state")
    amount = _money(body.get("amount"), "付款金额", "amount")
    paid = sum((p.amount for p in inquiry.payments), Decimal(0))
    if paid + amount > inquiry.contract_amount:
        raise Conflict(
            f"累计付款将达{paid + amount}元，超过合同金额{inquiry.contract_amount}元",
            code="over_contract",
            fields={"amount": "累计付款不能超过合同金额"},
        )
    final = body.get("final", False)
    if not isinstance(final, bool):
        raise Invalid("付款内容有误", fields={"final": "应为 true 或 false"})
    inquiry.payments.append(
        InquiryPayment(
            amount=amount,
            paid_on=_day(body.get("paid_on"), "paid_on"),
            final=final,
            note=str(body.get("note", ""))[:500],
            recorded_by=actor.id,
            recorded_at=now,
        )
    )
    if final:
        inquiry.status = "completed"
    session.flush()
    if final:
        _advance_scene(session, actor, line.scene_id, "completed", now)
    audit.record(
        session,
        actor,
        "inquiry.payment",
        "inquiry",
        inquiry.id,
        at=now,
        details={"amount": str(amount), "final": final},
    )
    return inquiry


def inquiry_json(
    session: orm.Session, actor: Any, inquiry: Inquiry, *, now: datetime
) -> dict[str, Any]:
    """What the viewer may see: amounts of other enterprises' quotes only after the
    close, and only to the officials."""
    sealed = now < inquiry.closes_at
    names = dict(
        session.execute(
            sa.select(Organization.id, Organization.name).where(
                Organization.id.in_([i.organization_id for i in inquiry.invitations])
            )
        ).all()
    )
    official = actor is not None and actor.role in ("reviewer", "center", "admin")
    own = (
        actor.organization_id if actor is not None and actor.role == "vendor" else None
    )
    quotes = []
    for quote in inquiry.quotes:
        if quote.organization_id == own or (official and not sealed):
            quotes.append(
                {
                    "id": quote.id,
                    "organization_id": quote.organization_id,
                    "organization_name": names.get(quote.organization_id, ""),
                    "amount": str(quote.amount),
                    "note": quote.note,
                    "submitted_at": quote.submitted_at.isoformat(),
                    "chosen": quote.id == inquiry.chosen_quote_id,
                }
            )
    return {
        "id": inquiry.id,
        "plan_line_id": inquiry.plan_line_id,
        "status": inquiry.status,
        "status_label": INQUIRY_STATUSES[inquiry.status],
        "closes_at": inquiry.closes_at.isoformat(),
        "sealed": sealed,
        "invited": [
            {
                "organization_id": i.organization_id,
                "organization_name": names.get(i.organization_id, ""),
                "capability_id": i.capability_id,
            }
            for i in inquiry.invitations
        ]
        if official
        else [],
        "quotes_received": len(inquiry.quotes),
        "quotes": quotes,
        "choice_reason": inquiry.choice_reason or None,
        "contract": {
            "number": inquiry.contract_number,
            "amount": str(inquiry.contract_amount),
            "signed_on": inquiry.contract_signed_on.isoformat()
            if inquiry.contract_signed_on
            else None,
        }
        if inquiry.contract_amount is not None
        else None,
        "payments": [
            {
                "amount": str(p.amount),
                "paid_on": p.paid_on.isoformat(),
                "final": p.final,
            }
            for p in inquiry.payments
        ]
        if official
        else [],
        "paid": str(sum((p.amount for p in inquiry.payments), Decimal(0))),
    }


def invitations_of(
    session: orm.Session, actor: Any, *, now: datetime
) -> list[dict[str, Any]]:
    """The inquiries the vendor's organization is invited to, newest first."""
    rows = session.execute(
        sa.select(Inquiry, PlanLine, Scene.title, Organization.name)
        .join(InquiryInvitation, InquiryInvitation.inquiry_id == Inquiry.id)
        .join(PlanLine, PlanLine.id == Inquiry.plan_line_id)
        .join(Scene, Scene.id == PlanLine.scene_id)
        .join(Organization, Organization.id == Scene.organization_id)
        .where(InquiryInvitation.organization_id == actor.organization_id)
        .order_by(Inquiry.id.desc())
    ).all()
    return [
        {
            "plan_id": line.plan_id,
            "line_id": line.id,
            "scene_title": title,
            "unit": unit,
            "closes_at": found.closes_at,
            "open": found.status == "open" and now < found.closes_at,
            "status_label": INQUIRY_STATUSES[found.status],
            "quoted": any(
                q.organization_id == actor.organization_id for q in found.quotes
            ),
        }
        for found, line, title, unit in rows
    ]
