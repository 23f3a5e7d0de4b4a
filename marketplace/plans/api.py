"""Annual scene plan endpoints (CONTRACT.md: annual plans)."""

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from marketplace.accounts.auth import current_actor
from marketplace.api import json_body
from marketplace.db import get_session, utcnow
from marketplace.errors import Invalid
from marketplace.integers import parse_int
from marketplace.plans import inquiry, services
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
    inquiry.submit_quote(session, actor, plan_id, line_id, json_body(), now=utcnow())
    session.commit()
    _, line = inquiry.plan_line(session, actor, plan_id, line_id)
    found = inquiry.inquiry_of(session, line)
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
