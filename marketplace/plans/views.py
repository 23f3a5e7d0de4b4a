"""Annual plan pages: the unit's form (amounts in 万元, the 30% share shown as it
types), the list, and the plan with its reviews and the actions the viewer may take."""

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import (
    Blueprint,
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
from marketplace.errors import DomainError
from marketplace.plans import services
from marketplace.plans.models import PLAN_STATUSES, REVIEW_BODIES
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
@access("unit", "reviewer", "center", "admin")
def index() -> Any:
    session, actor = get_session(), current_actor()
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
