"""Subsidy pages: the policy calculator (amounts in 万元 as officials write them),
kept quotes, the reviewer's approval, the printable award notice, and the rules."""

from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from marketplace.accounts.auth import current_actor
from marketplace.clock import local_time, local_today, utcnow
from marketplace.db import get_session
from marketplace.errors import DomainError
from marketplace.organizations.models import Organization
from marketplace.policy import PUBLIC, SIGNED_IN, access, can
from marketplace.scenes.models import Scene
from marketplace.subsidies import services
from marketplace.subsidies.models import QUOTE_STATUSES
from marketplace.subsidies.rules import BASES, CAP_SCOPES, RECIPIENTS, yuan
from marketplace.views import failed

bp = Blueprint("subsidies_pages", __name__, url_prefix="/subsidies")
TEN_THOUSAND = Decimal(10_000)
LOAN_ROWS = 3
WAN_FIELDS = (*services.MONEY_FIELDS, "principal")


def _yuan_text(wan: str, label: str, problems: dict[str, str], key: str) -> str:
    """An amount typed in 万元 as the API's string in 元; problems named in Chinese."""
    text = (wan or "").strip().replace(",", "").replace("，", "")
    if not text:
        return ""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        problems[key] = f"{label}应为数字（单位万元），如 150 或 12.5"
        return ""
    if not amount.is_finite() or amount < 0:
        problems[key] = f"{label}应为不小于0的数字（单位万元）"
        return ""
    if amount != amount.quantize(Decimal("0.000001")):
        problems[key] = f"{label}最多精确到分（万元后六位小数）"
        return ""
    return f"{(amount * TEN_THOUSAND).quantize(Decimal('0.01')):f}"


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


def _body_from_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The API request of the calculator form, and what could not be read of it."""
    problems: dict[str, str] = {}
    body: dict[str, Any] = {
        "applicant_id": _id(form.get("applicant_id")),
        "provider_id": _id(form.get("provider_id")),
        "insurer_id": _id(form.get("insurer_id")),
        "scene_id": _id(form.get("scene_id")),
        "application_date": form.get("application_date", "").strip() or None,
        "district_supported": form.get("district_supported") == "1",
        "insurance_kind": form.get("insurance_kind", ""),
        "assessment_score": form.get("assessment_score", "").strip(),
    }
    for name, label in services.MONEY_FIELDS.items():
        body[name] = _yuan_text(form.get(name, ""), label, problems, name)
    loans = []
    for row in range(LOAN_ROWS):
        principal = form.get(f"loan_principal_{row}", "").strip()
        if not principal:
            continue
        key = f"loans[{len(loans)}]"
        months = form.get(f"loan_months_{row}", "").strip()
        loans.append(
            {
                "principal": _yuan_text(
                    principal, f"第{row + 1}笔贷款本金", problems, f"{key}.principal"
                ),
                "lpr": form.get(f"loan_lpr_{row}", "").strip(),
                "start": form.get(f"loan_start_{row}", "").strip(),
                "months": int(months)
                if months.isdigit() and len(months) < 6
                else months,
            }
        )
    body["loans"] = loans
    return body, problems


def _choices(session: Any, applicant_id: int | None) -> dict[str, Any]:
    organizations = session.execute(
        sa.select(Organization.id, Organization.name, Organization.kind).order_by(
            Organization.name
        )
    ).all()
    scenes = []
    if applicant_id:
        scenes = session.execute(
            sa.select(Scene.id, Scene.title, Scene.category)
            .where(Scene.organization_id == applicant_id, Scene.status != "draft")
            .order_by(Scene.id.desc())
        ).all()
    return {
        "organizations": organizations,
        "scenes": scenes,
        "names": {org.id: org.name for org in organizations},
    }


def _form_page(values: dict[str, Any], problems: dict[str, str], status: int = 200):
    session, actor = get_session(), current_actor()
    applicant_id = _id(values.get("applicant_id"))
    if applicant_id is None and actor is not None and actor.role in ("unit", "vendor"):
        applicant_id = actor.organization_id
        values = {**values, "applicant_id": str(applicant_id)}
    book = services.rulebook(session)
    kinds = sorted({k for rule in book.rules for k in rule.insurance_kinds})
    quotes = services.list_quotes(session, actor, limit=50) if actor else []
    return (
        render_template(
            "subsidies/index.html",
            values=values,
            problems=problems,
            loan_rows=range(LOAN_ROWS),
            insurance_kinds=kinds,
            today=local_today(),
            quotes=quotes,
            statuses=QUOTE_STATUSES,
            **_choices(session, applicant_id),
        ),
        status,
    )


@bp.get("")
@access(PUBLIC)
def index() -> Any:
    return _form_page(request.args.to_dict(), {})


@bp.post("")
@access(PUBLIC)
def calculate() -> Any:
    form = request.form
    body, problems = _body_from_form(form)
    session, actor = get_session(), current_actor()
    if problems:
        # Name every problem at once: what the service finds in the rest too.
        try:
            services.parse_project(session, body, services.rulebook(session))
        except DomainError as error:
            problems = {**error.fields, **problems}
    else:
        try:
            result, stored = services.make_quote(session, actor, body, now=utcnow())
        except DomainError as error:
            session.rollback()
            problems = dict(error.fields) or {"": error.message}
        else:
            session.commit()
            if stored is not None:
                return redirect(url_for("subsidies_pages.show", quote_id=stored.id))
            return render_template(
                "subsidies/quote.html",
                result=result,
                stored=None,
                awards=[],
                request_view=_request_view(session, body),
                can_award=False,
                statuses=QUOTE_STATUSES,
            )
    return _form_page(form.to_dict(), problems, 422)


def _request_view(session: Any, request_body: dict[str, Any]) -> list[tuple[str, str]]:
    """What was entered, as a reader of the quote wants to see it."""

    def organization(key: str) -> str:
        value = request_body.get(key)
        org = session.get(Organization, value) if value else None
        return org.name if org else "—"

    scene = (
        session.get(Scene, request_body["scene_id"])
        if request_body.get("scene_id")
        else None
    )
    rows = [
        ("申请单位", organization("applicant_id")),
        ("场景提供企业", organization("provider_id")),
        ("保险机构", organization("insurer_id")),
        ("场景", scene.title if scene else "—"),
        ("申请日期", request_body.get("application_date") or "—"),
        ("已获区级支持", "是" if request_body.get("district_supported") else "否"),
    ]
    for name, label in services.MONEY_FIELDS.items():
        value = request_body.get(name)
        if value and Decimal(value) > 0:
            rows.append((label, yuan(Decimal(value))))
    for number, loan in enumerate(request_body.get("loans") or [], start=1):
        rows.append(
            (
                f"第{number}笔贷款",
                f"{yuan(Decimal(loan['principal']))}，LPR {loan['lpr']}%，"
                f"{loan['start']}起{loan['months']}个月",
            )
        )
    if request_body.get("insurance_kind"):
        rows.append(("险种", request_body["insurance_kind"]))
    return rows


@bp.get("/quotes/<int:quote_id>")
@access(SIGNED_IN)
def show(quote_id: int) -> Any:
    session, actor = get_session(), current_actor()
    stored = services.get_quote(session, actor, quote_id)
    return render_template(
        "subsidies/quote.html",
        result=stored.result,
        stored=stored,
        awards=services.awards_of(session, stored.id),
        request_view=_request_view(session, stored.request),
        can_award=can(actor, "subsidy.award") and stored.status == "quoted",
        statuses=QUOTE_STATUSES,
    )


@bp.post("/quotes/<int:quote_id>/award")
@access("reviewer")
def award(quote_id: int) -> Any:
    session = get_session()
    target = url_for("subsidies_pages.show", quote_id=quote_id)
    try:
        services.approve_quote(
            session,
            current_actor(),
            quote_id,
            comment=request.form.get("comment", ""),
            now=utcnow(),
        )
    except DomainError as error:
        return failed(error, target)
    session.commit()
    flash("已审定，奖励已记入台账；可打印审定通知", "success")
    return redirect(target)


@bp.get("/quotes/<int:quote_id>/notice")
@access(SIGNED_IN)
def notice(quote_id: int) -> Any:
    session = get_session()
    stored = services.get_quote(session, current_actor(), quote_id)
    if stored.status != "awarded":
        abort(404)
    book = services.rulebook(session)
    awards = services.awards_of(session, stored.id)
    assert stored.awarded_at is not None
    awarded_on = local_time(stored.awarded_at)[:10]
    return render_template(
        "subsidies/notice.html",
        number=f"JB{awarded_on.replace('-', '')}-{stored.id:05d}",
        awarded_on=awarded_on,
        stored=stored,
        awards=awards,
        rules={a.rule_id: book.rule(a.rule_id) for a in awards},
        request_view=_request_view(session, stored.request),
        total=sum((a.amount for a in awards), Decimal(0)),
        yuan=yuan,
    )


@bp.get("/rules")
@access(PUBLIC)
def rules() -> Any:
    session = get_session()
    book = services.rulebook(session)
    return render_template(
        "subsidies/rules.html",
        book=book,
        recipients=RECIPIENTS,
        scopes=CAP_SCOPES,
        bases=BASES,
        yuan=yuan,
        can_edit=can(current_actor(), "subsidy.guideline"),
        histories={
            rule.id: services.guideline_history(session, f"rule:{rule.id}")
            for rule in book.rules
        },
    )


@bp.post("/rules/<rule_id>/tiers")
@access("admin")
def set_tiers(rule_id: str) -> Any:
    form = request.form
    minimums = form.getlist("minimum")
    values = form.getlist("value")
    kinds = form.getlist("value_kind")
    tiers = []
    for minimum, value, kind in zip(minimums, values, kinds, strict=False):
        minimum, value = minimum.strip(), value.strip()
        if not minimum and not value:
            continue
        if kind == "rate":
            try:
                rate = str(Decimal(value) / 100) if value else ""
            except InvalidOperation:
                rate = value
            tiers.append({"minimum": minimum, "rate": rate})
        else:
            tiers.append({"minimum": minimum, "amount": value})
    session = get_session()
    target = url_for("subsidies_pages.rules") + f"#{rule_id}"
    try:
        services.set_tiers(
            session,
            current_actor(),
            rule_id,
            tiers,
            note=form.get("note", ""),
            now=utcnow(),
        )
    except DomainError as error:
        return failed(error, target)
    session.commit()
    flash("档位已保存为新版本，此后的测算按新档位计算", "success")
    return redirect(target)
