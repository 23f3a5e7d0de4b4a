"""Annual plan pages: the unit's form (amounts in 万元, the 30% share shown as it
types), the list, and the plan with its reviews and the actions the viewer may take."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from marketplace.accounts.auth import current_actor
from marketplace.clock import local_today, utcnow
from marketplace.db import get_session
from marketplace.errors import DomainError, Invalid
from marketplace.matches import services as matches
from marketplace.matches.index import get_indexes
from marketplace.plans import inquiry, reports, services
from marketplace.plans.models import (
    INQUIRY_STATUSES,
    PLAN_STATUSES,
    REVIEW_BODIES,
    Inquiry,
)
from marketplace.policy import access
from marketplace.views import failed

bp = Blueprint("plans_pages", __name__, url_prefix="/plans")
TEN_THOUSAND = Decimal(10_000)


def _yuan(wan: str, label: str, problems: dict[str, str], key: str) -> str:
    text = (wan or "").strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        problems[key] = f"{label}应为数字（单位万元）"
        return ""
    if not amount.is_finite() or amount <= 0:
        problems[key] = f"{label}应大于0（单位万元）"
        return ""
    return f"{(amount * TEN_THOUSAND).quantize(Decimal('0.01')):f}"


def _body_from_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    problems: dict[str, str] = {}
    body: dict[str, Any] = {
        "procurement_budget": _yuan(
            form.get("procurement_budget", ""), "货物类采购资金", problems, "budget"
        )
    }
    if "year" in form:
        year = form.get("year", "")
        body["year"] = int(year) if year.isdigit() and len(year) == 4 else year
    lines = []
    for scene_id in form.getlist("scene_id"):
        if not scene_id.isdigit() or len(scene_id) > 10:
            continue
        amount = _yuan(
            form.get(f"amount_{scene_id}", ""),
            "计划金额",
            problems,
            f"amount_{scene_id}",
        )
        lines.append({"scene_id": int(scene_id), "amount": amount})
    body["lines"] = lines
    return body, problems


def _form(
    plan: Any, values: dict[str, Any], problems: dict[str, str], status: int = 200
):
    session, actor = get_session(), current_actor()
    chosen = {
        str(line.scene_id): f"{(line.amount / TEN_THOUSAND).normalize():f}"
        for line in (plan.lines if plan is not None else [])
    }
    today = local_today()
    return (
        render_template(
            "plans/form.html",
            plan=plan,
            values=values,
            chosen=values.get("chosen", chosen),
            problems=problems,
            scenes=services.plannable_scenes(session, actor.organization_id),
            years=[today.year, today.year + 1],
            share=services.RESERVED_SHARE,
        ),
        status,
    )


@bp.get("")
@access("unit", "vendor", "reviewer", "center", "admin")
def index() -> Any:
    session, actor = get_session(), current_actor()
    if actor.role == "vendor":
        return render_template(
            "plans/invitations.html",
            invitations=inquiry.invitations_of(session, actor, now=utcnow()),
        )
    plans = services.list_plans(session, actor)
    body = services.review_body(
        actor, session, current_app.config["PLAN_REVIEW_ORGANIZATIONS"]
    )
    return render_template(
        "plans/index.html",
        plans=[services.plan_json(p) for p in plans],
        statuses=PLAN_STATUSES,
        review_body=REVIEW_BODIES.get(body or ""),
        can_create=actor.role == "unit",
    )


@bp.get("/new")
@access("unit")
def new() -> Any:
    return _form(None, {}, {})


@bp.post("")
@access("unit")
def create() -> Any:
    body, problems = _body_from_form(request.form)
    session = get_session()
    if not problems:
        try:
            plan = services.create_plan(session, current_actor(), body, now=utcnow())
        except DomainError as error:
            session.rollback()
            problems = dict(error.fields) or {"": error.message}
        else:
            session.commit()
            flash("计划已保存为草稿；确认无误后提交审核", "success")
            return redirect(url_for("plans_pages.show", plan_id=plan.id))
    return _form(None, _kept(request.form), problems, 422)


def _kept(form: Any) -> dict[str, Any]:
    """What was typed, to show again beside the errors."""
    return {
        "year": form.get("year", ""),
        "procurement_budget": form.get("procurement_budget", ""),
        "chosen": {
            sid: form.get(f"amount_{sid}", "") for sid in form.getlist("scene_id")
        },
    }


@bp.get("/<int:plan_id>")
@access("unit", "reviewer", "center", "admin")
def show(plan_id: int) -> Any:
    session, actor = get_session(), current_actor()
    plan = services.get_plan(session, actor, plan_id)
    body = services.review_body(
        actor, session, current_app.config["PLAN_REVIEW_ORGANIZATIONS"]
    )
    data = services.plan_json(plan)
    reviewed = {r["body"] for r in data["reviews"] if r["round"] == plan.review_round}
    owner = actor.role == "unit" and actor.organization_id == plan.organization_id
    return render_template(
        "plans/show.html",
        plan=data,
        owner=owner,
        editable=owner and plan.status in ("draft", "returned"),
        problems=services.submission_problems(plan)
        if owner and plan.status in ("draft", "returned")
        else [],
        can_review=body is not None
        and plan.status == "submitted"
        and body not in reviewed,
        review_body=REVIEW_BODIES.get(body or ""),
        waiting=[label for key, label in REVIEW_BODIES.items() if key not in reviewed]
        if plan.status == "submitted"
        else [],
        can_revise=owner and plan.status == "approved",
        can_mark=body is not None and plan.status == "approved",
        inquiries={
            line_id: INQUIRY_STATUSES[status]
            for line_id, status in session.execute(
                sa.select(Inquiry.plan_line_id, Inquiry.status).where(
                    Inquiry.plan_line_id.in_([ln.id for ln in plan.lines])
                )
            )
        },
    )


@bp.get("/<int:plan_id>/edit")
@access("unit")
def edit(plan_id: int) -> Any:
    actor = current_actor()
    plan = services.get_plan(get_session(), actor, plan_id)
    if plan.organization_id != actor.organization_id or plan.status not in (
        "draft",
        "returned",
    ):
        flash(f"计划{PLAN_STATUSES[plan.status]}，不能修改", "error")
        return redirect(url_for("plans_pages.show", plan_id=plan_id))
    wan = (plan.procurement_budget / TEN_THOUSAND).normalize()
    values = {"procurement_budget": f"{wan:f}"}
    return _form(plan, values, {})


@bp.post("/<int:plan_id>")
@access("unit")
def update(plan_id: int) -> Any:
    body, problems = _body_from_form(request.form)
    body.pop("year", None)
    session = get_session()
    if not problems:
        try:
            services.update_plan(session, current_actor(), plan_id, body, now=utcnow())
        except DomainError as error:
            session.rollback()
            problems = dict(error.fields) or {"": error.message}
        else:
            session.commit()
            flash("计划已保存", "success")
            return redirect(url_for("plans_pages.show", plan_id=plan_id))
    plan = services.get_plan(session, current_actor(), plan_id)
    return _form(plan, _kept(request.form), problems, 422)


@bp.post("/<int:plan_id>/transition")
@access("unit", "reviewer")
def transition(plan_id: int) -> Any:
    session = get_session()
    action = request.form.get("action", "")
    try:
        plan = services.transition(
            session,
            current_actor(),
            plan_id,
            action,
            comment=request.form.get("comment", ""),
            bodies=current_app.config["PLAN_REVIEW_ORGANIZATIONS"],
            now=utcnow(),
        )
    except DomainError as error:
        return failed(error, url_for("plans_pages.show", plan_id=plan_id))
    session.commit()
    flash(f"已{services.ACTIONS.get(action, '办理')}", "success")
    return redirect(url_for("plans_pages.show", plan_id=plan.id))


def _inquiry_page(plan_id: int, line_id: int, status: int = 200) -> Any:
    session, actor = get_session(), current_actor()
    plan, line = inquiry.plan_line(session, actor, plan_id, line_id)
    bodies = current_app.config["PLAN_REVIEW_ORGANIZATIONS"]
    ndrc = services.review_body(actor, session, bodies) == "ndrc"
    scene = services.line_scene(plan, line)
    found = session.scalar(sa.select(Inquiry).where(Inquiry.plan_line_id == line.id))
    data = inquiry.inquiry_json(session, actor, found, now=utcnow()) if found else None
    suggestions = []
    if ndrc and found is None and plan.status == "approved":
        suggestions = matches.matches_for_scene(
            session, actor, scene.id, 10, get_indexes(current_app), now=utcnow()
        )
    invited = found is not None and actor.role == "vendor"
    return (
        render_template(
            "plans/inquiry.html",
            plan=plan,
            line=line,
            scene=scene,
            inquiry=data,
            ndrc=ndrc,
            suggestions=suggestions,
            can_quote=invited and data["status"] == "open" and data["sealed"],
            default_close=(local_today() + timedelta(days=14)).isoformat() + "T17:00",
        ),
        status,
    )


@bp.get("/<int:plan_id>/lines/<int:line_id>/inquiry")
@access("unit", "vendor", "reviewer", "center", "admin")
def inquiry_page(plan_id: int, line_id: int) -> Any:
    return _inquiry_page(plan_id, line_id)


def _local_moment(text: str) -> str:
    """A datetime-local field (the platform's zone) as ISO text with the offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    zone = ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])
    return moment.replace(tzinfo=zone).isoformat()


@bp.post("/<int:plan_id>/lines/<int:line_id>/inquiry/<step>")
@access("vendor", "reviewer")
def inquiry_step(plan_id: int, line_id: int, step: str) -> Any:
    session, actor, form = get_session(), current_actor(), request.form
    target = url_for("plans_pages.inquiry_page", plan_id=plan_id, line_id=line_id)
    bodies = current_app.config["PLAN_REVIEW_ORGANIZATIONS"]
    problems: dict[str, str] = {}
    try:
        if step == "open":
            ids = [int(i) for i in form.getlist("capability_id") if i.isdigit()]
            body = {
                "capability_ids": ids,
                "closes_at": _local_moment(form.get("closes_at", "")),
            }
            inquiry.open_inquiry(
                session, actor, plan_id, line_id, body, bodies=bodies, now=utcnow()
            )
        elif step == "quote":
            amount = _yuan(form.get("amount", ""), "报价", problems, "amount")
            if problems:
                return failed(Invalid("报价有误", fields=problems), target)
            inquiry.submit_quote(
                session,
                actor,
                plan_id,
                line_id,
                {"amount": amount, "note": form.get("note", "")},
                now=utcnow(),
            )
        elif step == "choice":
            quote_id = form.get("quote_id", "")
            body = {
                "quote_id": int(quote_id) if quote_id.isdigit() else None,
                "reason": form.get("reason", ""),
            }
            inquiry.choose(
                session, actor, plan_id, line_id, body, bodies=bodies, now=utcnow()
            )
        elif step == "contract":
            amount = _yuan(form.get("amount", ""), "合同金额", problems, "amount")
            if problems:
                return failed(Invalid("合同有误", fields=problems), target)
            body = {
                "number": form.get("number", ""),
                "amount": amount,
                "signed_on": form.get("signed_on", ""),
            }
            inquiry.record_contract(
                session, actor, plan_id, line_id, body, bodies=bodies, now=utcnow()
            )
        elif step == "payment":
            amount = _yuan(form.get("amount", ""), "付款金额", problems, "amount")
            if problems:
                return failed(Invalid("付款有误", fields=problems), target)
            body = {
                "amount": amount,
                "paid_on": form.get("paid_on", ""),
                "final": form.get("final") == "1",
                "note": form.get("note", ""),
            }
            inquiry.record_payment(
                session, actor, plan_id, line_id, body, bodies=bodies, now=utcnow()
            )
        else:
            abort(404)
    except DomainError as error:
        return failed(error, target)
    session.commit()
    flash("已办理", "success")
    return redirect(target)


def _report_year() -> int:
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else local_today().year + 1
    return year if year in services.YEARS else local_today().year


@bp.get("/report")
@access("reviewer", "center", "admin")
def report_page() -> Any:
    year = _report_year()
    return render_template(
        "plans/report.html",
        report=reports.yearly_report(get_session(), year),
        years=range(local_today().year - 2, local_today().year + 2),
    )


@bp.get("/report.xlsx")
@access("reviewer", "center", "admin")
def report_xlsx() -> Any:
    year = _report_year()
    buffer = BytesIO()
    reports.write_report(buffer, reports.yearly_report(get_session(), year))
    return Response(
        buffer.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''"
            + quote(f"{year}年度场景建设计划执行情况.xlsx")
        },
    )


@bp.post("/<int:plan_id>/outstanding")
@access("reviewer")
def outstanding(plan_id: int) -> Any:
    session = get_session()
    target = url_for("plans_pages.show", plan_id=plan_id)
    try:
        reports.mark_outstanding(
            session,
            current_actor(),
            plan_id,
            request.form.get("outstanding") == "1",
            request.form.get("note", ""),
            bodies=current_app.config["PLAN_REVIEW_ORGANIZATIONS"],
            now=utcnow(),
        )
    except DomainError as error:
        return failed(error, target)
    session.commit()
    flash("已保存", "success")
    return redirect(target)
