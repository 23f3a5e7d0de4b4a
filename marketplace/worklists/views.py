"""Work list pages: the center writes its year's list and adds evidence, everyone
internal follows progress against the pace of the year, and the Development and
Reform Commission weighs and approves the year-end performance report."""

from io import BytesIO
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from marketplace.accounts.auth import current_actor
from marketplace.clock import local_today, utcnow, year_bounds
from marketplace.db import get_session
from marketplace.errors import DomainError, Invalid
from marketplace.integers import parse_int
from marketplace.policy import access
from marketplace.taxonomy import get_taxonomy
from marketplace.views import failed
from marketplace.worklists import indicators, report, services
from marketplace.worklists.models import CITY_SCOPE, LIST_STATUSES, WorkList

bp = Blueprint("worklists_pages", __name__, url_prefix="/worklists")
READERS = ("center", "reviewer", "admin")


def _number(text: str) -> int | None:
    """A form's id or year, or None when it is not one (the service says why)."""
    try:
        return parse_int(text, text=True)
    except ValueError:
        return None


def _bodies() -> Any:
    return current_app.config["PLAN_REVIEW_ORGANIZATIONS"]


def _period(work_list: WorkList) -> indicators.Period:
    return services.period_of(
        work_list.year, year_bounds(work_list.year), local_today()
    )


def _progress(work_list: WorkList) -> list[services.Progress]:
    return services.progress(
        get_session(), work_list, local_today(), bounds=year_bounds(work_list.year)
    )


def _targets_from_form(form: Any) -> tuple[dict[str, str], list[services.CustomRow]]:
    # A measure is in the list when its target is filled in.
    targets = {
        key[len("target_") :]: value
        for key, value in form.items()
        if key.startswith("target_") and value.strip()
    }
    custom = []
    for number in range(1, 100):
        if f"custom_{number}_label" not in form:
            break
        custom.append(
            services.CustomRow(
                _number(form.get(f"custom_{number}_id", "")),
                form.get(f"custom_{number}_label", ""),
                form.get(f"custom_{number}_unit", ""),
                form.get(f"custom_{number}_target", ""),
            )
        )
    return targets, custom


def _form_values(work_list: WorkList | None) -> dict[str, Any]:
    if work_list is None:
        return {"targets": {}, "custom": []}
    return {
        "year": work_list.year,
        "scope": work_list.scope,
        "targets": {
            i.measure: f"{i.target.normalize():f}"
            for i in work_list.indicators
            if i.measure != indicators.EVIDENCE
        },
        "custom": [
            {
                "id": i.id,
                "label": i.label,
                "unit": i.unit,
                "target": f"{i.target.normalize():f}",
            }
            for i in work_list.indicators
            if i.measure == indicators.EVIDENCE
        ],
    }


def _kept(form: Any) -> dict[str, Any]:
    targets, custom = _targets_from_form(form)
    return {
        "year": form.get("year", ""),
        "scope": form.get("scope", ""),
        "targets": targets,
        "custom": [
            {"id": c.indicator_id, "label": c.label, "unit": c.unit, "target": c.target}
            for c in custom
        ],
    }


def _form(
    work_list: WorkList | None,
    values: dict[str, Any],
    problems: dict[str, str],
    status: int = 200,
) -> Any:
    today = local_today()
    scope = values.get("scope", CITY_SCOPE) if work_list is None else work_list.scope
    custom = list(values.get("custom", []))
    blank = {"id": None, "label": "", "unit": "", "target": ""}
    custom += [blank] * max(services.CUSTOM_ROWS - len(custom), 1)
    return (
        render_template(
            "worklists/form.html",
            work_list=work_list,
            values=values,
            custom=custom,
            problems=problems,
            measures=[
                m
                for m in indicators.measures_for(scope or CITY_SCOPE)
                if m.key != indicators.EVIDENCE
            ],
            domains=get_taxonomy(get_session()).names("domains"),
            years=[today.year - 1, today.year, today.year + 1],
            scope_label=services.scope_label,
        ),
        status,
    )


@bp.get("")
@access(*READERS)
def index() -> Any:
    session = get_session()
    lists = services.list_work_lists(session)
    summaries = []
    for work_list in lists:
        rows = _progress(work_list)
        summaries.append(
            {
                "list": work_list,
                "title": services.title(work_list),
                "status": LIST_STATUSES[work_list.status],
                "count": len(rows),
                "done": sum(1 for r in rows if r.state == "已完成"),
                "behind": sum(1 for r in rows if r.state == "落后于进度"),
                "score": services.total_score(rows),
            }
        )
    return render_template(
        "worklists/index.html",
        summaries=summaries,
        can_create=current_actor().role == "center",
    )


@bp.get("/new")
@access("center")
def new() -> Any:
    scope = request.args.get("scope", CITY_SCOPE)
    if scope not in get_taxonomy(get_session()).names("domains"):
        scope = CITY_SCOPE
    return _form(None, {"scope": scope, "year": local_today().year, "targets": {}}, {})


@bp.post("")
@access("center")
def create() -> Any:
    session, form = get_session(), request.form
    targets, custom = _targets_from_form(form)
    year = _number(form.get("year", ""))
    try:
        work_list = services.create_work_list(
            session,
            current_actor(),
            year=year,
            scope=form.get("scope", CITY_SCOPE),
            targets=targets,
            custom=custom,
            taxonomy=get_taxonomy(session),
            now=utcnow(),
            today=local_today(),
        )
    except DomainError as error:
        session.rollback()
        problems = dict(error.fields) or {"": error.message}
        return _form(None, _kept(form), problems, error.status)
    session.commit()
    flash("工作清单已建立；实际完成情况由平台按记录自动统计", "success")
    return redirect(url_for("worklists_pages.show", list_id=work_list.id))


@bp.get("/<int:list_id>")
@access(*READERS)
def show(list_id: int) -> Any:
    session, actor = get_session(), current_actor()
    work_list = services.get_work_list(session, actor, list_id)
    rows = _progress(work_list)
    editable = actor.role == "center" and work_list.status in services.EDITABLE
    appraiser = services.is_appraiser(session, actor, _bodies())
    today = local_today()
    return render_template(
        "worklists/show.html",
        work_list=work_list,
        title=services.title(work_list),
        status=LIST_STATUSES[work_list.status],
        rows=rows,
        total=services.total_score(rows),
        pace=services.pace(work_list.year, today),
        editable=editable,
        can_submit=editable
        and (today.year, today.month) >= (work_list.year, services.REPORT_MONTH),
        report_month=services.REPORT_MONTH,
        can_weigh=appraiser and work_list.status != "approved",
        can_decide=appraiser and work_list.status == "submitted",
        today=today,
    )


@bp.get("/<int:list_id>/edit")
@access("center")
def edit(list_id: int) -> Any:
    work_list = services.get_work_list(get_session(), current_actor(), list_id)
    if work_list.status not in services.EDITABLE:
        flash(f"工作清单{LIST_STATUSES[work_list.status]}，不能修改", "error")
        return redirect(url_for("worklists_pages.show", list_id=list_id))
    return _form(work_list, _form_values(work_list), {})


@bp.post("/<int:list_id>")
@access("center")
def update(list_id: int) -> Any:
    session, actor = get_session(), current_actor()
    work_list = services.get_work_list(session, actor, list_id)
    targets, custom = _targets_from_form(request.form)
    try:
        services.update_work_list(
            session, actor, work_list, targets=targets, custom=custom, now=utcnow()
        )
    except DomainError as error:
        session.rollback()
        if not isinstance(error, Invalid):
            return failed(error, url_for("worklists_pages.show", list_id=list_id))
        work_list = services.get_work_list(session, actor, list_id)
        values = {**_kept(request.form), "scope": work_list.scope}
        return _form(work_list, values, dict(error.fields), 422)
    session.commit()
    flash("工作清单已保存", "success")
    return redirect(url_for("worklists_pages.show", list_id=list_id))


@bp.post("/<int:list_id>/evidence")
@access("center")
def add_evidence(list_id: int) -> Any:
    session, actor, form = get_session(), current_actor(), request.form
    back = url_for("worklists_pages.show", list_id=list_id)
    try:
        work_list = services.get_work_list(session, actor, list_id)
        services.add_evidence(
            session,
            actor,
            work_list,
            _number(form.get("indicator_id", "")),
            description=form.get("description", ""),
            quantity=form.get("quantity", ""),
            happened_on=form.get("happened_on", ""),
            reference=form.get("reference", ""),
            now=utcnow(),
            today=local_today(),
        )
    except DomainError as error:
        return failed(error, back)
    session.commit()
    flash("佐证材料已添加", "success")
    return redirect(back)


@bp.post("/<int:list_id>/evidence/<int:evidence_id>/delete")
@access("center")
def remove_evidence(list_id: int, evidence_id: int) -> Any:
    session, actor = get_session(), current_actor()
    back = url_for("worklists_pages.show", list_id=list_id)
    try:
        work_list = services.get_work_list(session, actor, list_id)
        services.remove_evidence(session, actor, work_list, evidence_id, now=utcnow())
    except DomainError as error:
        return failed(error, back)
    session.commit()
    flash("佐证材料已删除", "success")
    return redirect(back)


@bp.post("/<int:list_id>/weights")
@access("reviewer")
def weights(list_id: int) -> Any:
    session, actor = get_session(), current_actor()
    back = url_for("worklists_pages.show", list_id=list_id)
    weights: dict[int, str] = {}
    for key, value in request.form.items():
        if key.startswith("weight_"):
            number = _number(key[len("weight_") :])
            if number is not None:
                weights[number] = value
    try:
        work_list = services.get_work_list(session, actor, list_id)
        services.set_weights(
            session, actor, work_list, weights, bodies=_bodies(), now=utcnow()
        )
    except DomainError as error:
        return failed(error, back)
    session.commit()
    flash("权重已保存", "success")
    return redirect(back)


@bp.post("/<int:list_id>/transition")
@access("center", "reviewer")
def transition(list_id: int) -> Any:
    session, actor = get_session(), current_actor()
    back = url_for("worklists_pages.show", list_id=list_id)
    action = request.form.get("action", "")
    try:
        work_list = services.get_work_list(session, actor, list_id)
        services.transition(
            session,
            actor,
            work_list,
            action,
            comment=request.form.get("comment", ""),
            bodies=_bodies(),
            now=utcnow(),
            today=local_today(),
            bounds=year_bounds(work_list.year),
        )
    except DomainError as error:
        return failed(error, back)
    session.commit()
    flash(f"已{services.ACTIONS[action]}", "success")
    return redirect(back)


def _local_date(moment: Any) -> Any:
    return moment.astimezone(
        ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])
    ).date()


@bp.get("/<int:list_id>/report")
@access(*READERS)
def report_page(list_id: int) -> Any:
    session = get_session()
    work_list = services.get_work_list(session, current_actor(), list_id)
    rows = _progress(work_list)
    period = _period(work_list)
    return render_template(
        "worklists/report.html",
        work_list=work_list,
        title=services.title(work_list),
        status=LIST_STATUSES[work_list.status],
        rows=rows,
        behind=[
            report.behind(session, r, period, work_list.scope, _local_date)
            for r in rows
        ],
        total=services.total_score(rows),
        kinds=report.KIND_LABELS,
        today=local_today(),
    )


@bp.get("/<int:list_id>/report.xlsx")
@access(*READERS)
def report_workbook(list_id: int) -> Any:
    session = get_session()
    work_list = services.get_work_list(session, current_actor(), list_id)
    buffer = BytesIO()
    report.write_report(
        buffer,
        session,
        work_list,
        _progress(work_list),
        _period(work_list),
        _local_date,
    )
    name = f"{services.title(work_list)}绩效报告.xlsx"
    return Response(
        buffer.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''" + quote(name)},
    )
