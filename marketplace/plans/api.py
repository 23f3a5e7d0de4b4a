"""Annual scene plan endpoints (CONTRACT.md: annual plans)."""

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from marketplace.accounts.auth import current_actor
from marketplace.api import json_body
from marketplace.db import get_session, utcnow
from marketplace.errors import Invalid
from marketplace.integers import parse_int
from marketplace.plans import inquiry, reports, services
from marketplace.policy import access

bp = Blueprint("plans", __name__)
READERS = ("unit", "reviewer", "center", "admin")


def _year_arg() -> int | None:
    raw = request.args.get("year")
    if raw is None:
        return None
    first, last = services.YEARS.start, services.YEARS.stop - 1
    try:
        return parse_int(raw, minimum=first, maximum=last, text=True)
    except ValueError:
        raise Invalid(
            "查询参数有误",
            fields={"year": f"应为{first}到{last}之间的年份"},
        ) from None


@bp.get("/plans")
@access(*READERS)
def index() -> Any:
    plans = services.list_plans(get_session(), current_actor(), _year_arg())
    return jsonify({"items": [services.plan_json(p) for p in plans]})


def report_json(report: reports.Report) -> dict[str, Any]:
    def row(r: Any) -> dict[str, Any]:
        return {
            "organization_id": r.organization_id,
            "organization_name": r.organization_name,
            "plan_id": r.plan_id,
            "version": r.version,
            "status": r.status,
            "procurement_budget": str(r.budget),
            "reserved": str(r.reserved),
            "reserved_share": f"{r.share:.4f}",
            "approved": str(r.approved),
            "contracted": str(r.contracted),
            "paid": str(r.paid),
            "scenes": r.lines,
            "scenes_completed": r.completed,
            "outstanding": r.outstanding,
            "outstanding_note": r.outstanding_note,
        }

    return {
        "year": report.year,
        "units": [row(r) for r in report.rows],
        "citywide": {
            "procurement_budget": str(report.total("budget")),
            "reserved": str(report.total("reserved")),
            "reserved_share": f"{report.share:.4f}",
            "approved": str(report.total("approved")),
            "contracted": str(report.total("contracted")),
            "paid": str(report.total("paid")),
            "scenes": report.total("lines"),
            "scenes_completed": report.total("completed"),
            "outstanding_units": sum(1 for r in report.rows if r.outstanding),
        },
    }


@bp.get("/plans/report")
@access("reviewer", "center", "admin")
def report() -> Any:
    year = _year_arg()
    if year is None:
        raise Invalid("请指定年度", fields={"year": "如 year=2027"})
    return jsonify(report_json(reports.yearly_report(get_session(), year)))


@bp.post("/plans/<int:plan_id>/outstanding")
@access("reviewer")
def outstanding(plan_id: int) -> Any:
    body = json_body()
    flag, note = body.get("outstanding"), body.get("note", "")
    if not isinstance(flag, bool) or not isinstance(note, str):
        raise Invalid(
            "标记内容有误",
            fields={"outstanding": "应为 true 或 false", "note": "应为文字"},
        )
    session = get_session()
    plan = reports.mark_outstanding(
        session,
        current_actor(),
        plan_id,
        flag,
        note,
        bodies=current_app.config["PLAN_REVIEW_ORGANIZATIONS"],
        now=utcnow(),
    )
    session.commit()
    return jsonify(services.plan_json(plan))


@bp.post("/plans")
@access("unit")
def create() -> Any:
    session = get_session()
    plan = services.create_plan(session, current_actor(), json_body(), now=utcnow())
    session.commit()
    return jsonify(services.plan_json(plan)), 201


@bp.get("/plans/<int:plan_id>")
@access(*READERS)
def show(plan_id: int) -> Any:
    return jsonify(
        services.plan_json(services.get_plan(get_session(), current_actor(), plan_id))
    )


@bp.patch("/plans/<int:plan_id>")
@access("unit")
def update(plan_id: int) -> Any:
    session = get_session()
    plan = services.update_plan(
        session, current_actor(), plan_id, json_body(), now=utcnow()
    )
    session.commit()
    return jsonify(services.plan_json(plan))


@bp.post("/plans/<int:plan_id>/transition")
@access("unit", "reviewer")
def transition(plan_id: int) -> Any:
    body = json_body()
    action, comment = body.get("action"), body.get("comment", "")
    problems = {}
    if not isinstance(action, str):
        problems["action"] = "应为 " + "、".join(services.ACTIONS)
    if not isinstance(comment, str):
        problems["comment"] = "应为文字"
    if set(body) - {"action", "comment"}:
        problems.update({k: "未知字段" for k in set(body) - {"action", "comment"}})
    if problems:
        raise Invalid("操作内容有误", fields=problems)
    session = get_session()
    plan = services.transition(
        session,
        current_actor(),
        plan_id,
        action,
        comment=comment,
        bodies=current_app.config["PLAN_REVIEW_ORGANIZATIONS"],
        now=utcnow(),
    )
    session.commit()
    return jsonify(services.plan_json(plan))


INQUIRY = "/plans/<int:plan_id>/lines/<int:line_id>/inquiry"
INQUIRY_STEPS = {
    "": inquiry.open_inquiry,
    "/choice": inquiry.choose,
    "/contract": inquiry.record_contract,
    "/payments": inquiry.record_payment,
}


@bp.get(INQUIRY)
@access("unit", "vendor", "reviewer", "center", "admin")
def inquiry_show(plan_id: int, line_id: int) -> Any:
    session, actor = get_session(), current_actor()
    _, line = inquiry.plan_line(session, actor, plan_id, line_id)
    found = inquiry.inquiry_of(session, line)
    return jsonify(inquiry.inquiry_json(session, actor, found, now=utcnow()))


def _inquiry_step(step: str, plan_id: int, line_id: int) -> Any:
    session, actor = get_session(), current_actor()
    found = INQUIRY_STEPS[step](
        session,
        actor,
        plan_id,
        line_id,
        json_body(),
        bodies=current_app.config["PLAN_REVIEW_ORGANIZATIONS"],
        now=utcnow(),
    )
    session.commit()
    status = 201 if step == "" else 200
    return jsonify(inquiry.inquiry_json(session, actor, found, now=utcnow())), status


@bp.post(INQUIRY)
@access("reviewer")
def inquiry_open(plan_id: int, line_id: int) -> Any:
    return _inquiry_step("", plan_id, line_id)


@bp.post(INQUIRY + "/quotes")
@access("vendor")
def inquiry_quote(plan_id: int, line_id: int) -> Any:
    session, actor = get_session(), current_actor()
    found = inquiry.submit_quote(
        session, actor, plan_id, line_id, json_body(), now=utcnow()
    )
    session.commit()
    return jsonify(inquiry.inquiry_json(session, actor, found, now=utcnow())), 201


@bp.post(INQUIRY + "/choice")
@access("reviewer")
def inquiry_choice(plan_id: int, line_id: int) -> Any:
    return _inquiry_step("/choice", plan_id, line_id)


@bp.post(INQUIRY + "/contract")
@access("reviewer")
def inquiry_contract(plan_id: int, line_id: int) -> Any:
    return _inquiry_step("/contract", plan_id, line_id)


@bp.post(INQUIRY + "/payments")
@access("reviewer")
def inquiry_payment(plan_id: int, line_id: int) -> Any:
    return _inquiry_step("/payments", plan_id, line_id)
