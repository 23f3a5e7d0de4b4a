"""Event pages: planning for the center, invitations and agendas for participants."""

import re
from io import BytesIO
from typing import Any

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
from marketplace.clock import local_today, utcnow
from marketplace.db import get_session
from marketplace.errors import DomainError, Invalid
from marketplace.events import outcomes, pairing, scheduling, services
from marketplace.events.exports import write_master_schedule
from marketplace.events.models import OUTCOMES
from marketplace.integers import parse_int
from marketplace.matches.index import get_indexes
from marketplace.matches.vectors import vector_model
from marketplace.policy import SIGNED_IN, access
from marketplace.taxonomy import get_taxonomy
from marketplace.views import failed

bp = Blueprint("events_pages", __name__, url_prefix="/events")
MANAGERS = ("center", "admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ids(text: str) -> list[Any]:
    """Ids typed into a box ("12, 15 17") as integers; anything else is kept to
    be named in the error."""
    return [_id_or_text(p) for p in re.split(r"[\s,，、]+", text) if p]


def _id_or_text(value: str) -> Any:
    """An id typed into a form as an int; anything else as typed, to be named."""
    try:
        return parse_int(value, text=True)
    except ValueError:
        return value


def _windows_from_form(form: Any) -> list[dict[str, str]] | None:
    """Availability ticked per session: None when every session is ticked."""
    return (
        None
        if form.get("all") == "1"
        else [
            {"start": s, "end": e}
            for s, e in (w.split("-", 1) for w in form.getlist("window") if "-" in w)
        ]
    )


@bp.get("")
@access(SIGNED_IN)
def index() -> Any:
    session, actor = get_session(), current_actor()
    return render_template(
        "events/index.html",
        events=services.list_events(session, actor),
        invitations=services.invitations_for(session, actor),
        taxonomy=get_taxonomy(session),
        can_manage=services.can_manage(actor),
        today=local_today(),
    )


@bp.post("")
@access(*MANAGERS)
def create() -> Any:
    session = get_session()
    payload: dict[str, Any] = {
        key: request.form.get(key, "")
        for key in ("name", "domain", "date", "venue")
        + tuple(rule.name for rule in services.NUMBER_RULES)
    }
    payload["sessions"] = [
        {"start": s, "end": e}
        for s, e in zip(
            request.form.getlist("session_start"),
            request.form.getlist("session_end"),
            strict=False,
        )
        if s or e
    ]
    try:
        event = services.create_event(
            session,
            current_actor(),
            payload,
            get_taxonomy(session),
            now=utcnow(),
            today=local_today(),
        )
    except DomainError as error:
        return failed(error, url_for(".index"))
    session.commit()
    flash("活动已创建，请添加参会的场景和能力", "success")
    return redirect(url_for(".detail", event_id=event.id))


@bp.get("/<int:event_id>")
@access(SIGNED_IN)
def detail(event_id: int) -> Any:
    session, actor = get_session(), current_actor()
    event = services.get_event(session, actor, event_id)
    if not services.sees_all_events(actor):
        own = [
            p for p in event.participants if p.organization_id == actor.organization_id
        ]
        return render_template(
            "events/participant.html",
            event=event,
            own=own,
            slots=services.event_slots(event),
        )
    slots = services.event_slots(event)
    finder = services.Finder.from_args(request.args)
    meetings = services.meetings_of(session, event)
    grid: dict[tuple[int, int], Any] = {(m.slot, m.table_number): m for m in meetings}
    titles = {("scene", p.scene_id): p.item for p in event.participants if p.scene_id}
    titles |= {
        ("capability", p.capability_id): p.item
        for p in event.participants
        if p.capability_id
    }
    return render_template(
        "events/detail.html",
        event=event,
        slots=slots,
        pairings=services.pairings_of(session, event, active=False),
        meetings=meetings,
        grid=grid,
        titles=titles,
        delegations=services.delegations(event),
        finder=finder,
        found=services.find_invitable(session, event, finder)
        if services.can_manage(actor) and "find" in request.args
        else None,
        taxonomy=get_taxonomy(session),
        unconfirmed=services.unconfirmed(event),
        suggestions=pairing.suggest_invitations(
            session, event, get_indexes(current_app), now=utcnow(), limit=10
        )
        if services.can_manage(actor)
        else {},
        funnel=outcomes.funnel(session, event),
        outcomes=OUTCOMES,
        can_manage=services.can_manage(actor),
        held=event.date <= local_today(),
    )


def _action(event_id: int, call: Any, success: str) -> Any:
    """Run one planning step for the event page; errors come back as a message."""
    session = get_session()
    target = url_for(".detail", event_id=event_id)
    try:
        call(session)
    except DomainError as error:
        return failed(error, target)
    session.commit()
    flash(success, "success")
    return redirect(target)


@bp.post("/<int:event_id>/edit")
@access(*MANAGERS)
def edit(event_id: int) -> Any:
    payload = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    return _action(
        event_id,
        lambda s: services.update_event(
            s,
            current_actor(),
            event_id,
            payload,
            get_taxonomy(s),
            now=utcnow(),
            today=local_today(),
        ),
        "活动信息已保存",
    )


@bp.post("/<int:event_id>/delegations")
@access(*MANAGERS)
def set_delegation(event_id: int) -> Any:
    def save(session: Any) -> Any:
        try:
            organization = parse_int(request.form.get("organization_id", ""), text=True)
            people = parse_int(request.form.get("people", ""), text=True)
        except ValueError as reason:
            raise Invalid("代表人数有误", fields={"people": str(reason)}) from None
        return services.set_delegation(
            session, current_actor(), event_id, organization, people, now=utcnow()
        )

    return _action(event_id, save, "代表人数已保存，重新排期后生效")


@bp.post("/<int:event_id>/participants")
@access(*MANAGERS)
def add_participants(event_id: int) -> Any:
    scene_ids = _ids(request.form.get("scene_ids", "")) + [
        _id_or_text(v) for v in request.form.getlist("scene_id") if v
    ]
    capability_ids = _ids(request.form.get("capability_ids", "")) + [
        _id_or_text(v) for v in request.form.getlist("capability_id") if v
    ]
    return _action(
        event_id,
        lambda s: services.add_participants(
            s, current_actor(), event_id, scene_ids, capability_ids, now=utcnow()
        ),
        "已添加参会方并发出邀请",
    )


@bp.post("/<int:event_id>/participants/<int:participant_id>/remove")
@access(*MANAGERS)
def remove_participant(event_id: int, participant_id: int) -> Any:
    return _action(
        event_id,
        lambda s: services.remove_participant(
            s, current_actor(), event_id, participant_id, now=utcnow()
        ),
        "已移除参会方",
    )


@bp.post("/<int:event_id>/participants/<int:participant_id>/respond")
@access(SIGNED_IN)
def respond(event_id: int, participant_id: int) -> Any:
    session, actor = get_session(), current_actor()
    accept = request.form.get("accept") == "1"
    target = request.form.get("next") == "event" and url_for(
        ".detail", event_id=event_id
    )
    try:
        services.respond_to_invitation(
            session,
            actor,
            event_id,
            participant_id,
            accept=accept,
            availability=_windows_from_form(request.form) if accept else None,
            now=utcnow(),
        )
    except DomainError as error:
        return failed(error, target or url_for(".index"))
    session.commit()
    flash("已接受邀请" if accept else "已谢绝邀请", "success")
    return redirect(target or url_for(".index"))


@bp.post("/<int:event_id>/propose")
@access(*MANAGERS)
def propose(event_id: int) -> Any:
    return _action(
        event_id,
        lambda s: pairing.propose_pairings(
            s,
            current_actor(),
            event_id,
            now=utcnow(),
            vector_model=vector_model(current_app.config),
        ),
        "已生成配对建议",
    )


@bp.post("/<int:event_id>/pairings")
@access(*MANAGERS)
def add_pairing(event_id: int) -> Any:
    def number(name: str) -> Any:
        return _id_or_text(request.form.get(name, "").strip())

    return _action(
        event_id,
        lambda s: pairing.add_pairing(
            s,
            current_actor(),
            event_id,
            number("scene_id"),
            number("capability_id"),
            now=utcnow(),
            vector_model=vector_model(current_app.config),
        ),
        "已手动添加配对（已锁定）",
    )


@bp.post("/<int:event_id>/pairings/<int:pairing_id>/<action>")
@access(*MANAGERS)
def change_pairing(event_id: int, pairing_id: int, action: str) -> Any:
    return _action(
        event_id,
        lambda s: pairing.change_pairing(
            s, current_actor(), event_id, pairing_id, action, now=utcnow()
        ),
        "配对已更新",
    )


@bp.post("/<int:event_id>/schedule")
@access(*MANAGERS)
def schedule(event_id: int) -> Any:
    return _action(
        event_id,
        lambda s: scheduling.schedule_event(s, current_actor(), event_id, now=utcnow()),
        "已排期",
    )


@bp.post("/<int:event_id>/schedule/clear")
@access(*MANAGERS)
def clear_schedule(event_id: int) -> Any:
    return _action(
        event_id,
        lambda s: scheduling.clear_schedule(s, current_actor(), event_id, now=utcnow()),
        "已清空排期",
    )


@bp.post("/<int:event_id>/meetings/<int:meeting_id>/outcome")
@access(*MANAGERS)
def outcome(event_id: int, meeting_id: int) -> Any:
    return _action(
        event_id,
        lambda s: outcomes.record_outcome(
            s,
            current_actor(),
            event_id,
            meeting_id,
            request.form.get("outcome", ""),
            amount=request.form.get("amount") or None,
            note=request.form.get("note", ""),
            now=utcnow(),
            today=local_today(),
        ),
        "洽谈结果已记录",
    )


@bp.get("/<int:event_id>/schedule.xlsx")
@access(*MANAGERS, "reviewer")
def schedule_xlsx(event_id: int) -> Response:
    session = get_session()
    event = services.get_event(session, current_actor(), event_id)
    buffer = BytesIO()
    write_master_schedule(
        buffer, event, services.event_slots(event), services.meetings_of(session, event)
    )
    return Response(
        buffer.getvalue(),
        mimetype=XLSX,
        headers={
            "Content-Disposition": (
                f"attachment; filename=event-{event.id}-schedule.xlsx"
            )
        },
    )


@bp.get("/<int:event_id>/cards")
@access(*MANAGERS)
def table_cards(event_id: int) -> Any:
    session = get_session()
    event = services.get_event(session, current_actor(), event_id)
    slots = services.event_slots(event)
    by_table: dict[int, list[Any]] = {t: [] for t in range(1, event.tables + 1)}
    for meeting in services.meetings_of(session, event):
        by_table[meeting.table_number].append(meeting)
    return render_template(
        "events/cards.html",
        event=event,
        slots=slots,
        by_table={t: ms for t, ms in by_table.items() if ms},
    )


@bp.get("/<int:event_id>/agendas")
@access(*MANAGERS, "reviewer")
def agendas(event_id: int) -> Any:
    session = get_session()
    event = services.get_event(session, current_actor(), event_id)
    return render_template(
        "events/agenda.html",
        event=event,
        agendas=scheduling.agendas_of(session, event),
    )


@bp.get("/<int:event_id>/agenda/<int:participant_id>")
@access(SIGNED_IN)
def agenda(event_id: int, participant_id: int) -> Any:
    session = get_session()
    event, participant = services.get_agenda_participant(
        session, current_actor(), event_id, participant_id
    )
    return render_template(
        "events/agenda.html",
        event=event,
        agendas=[scheduling.agenda_for(session, event, participant)],
    )
