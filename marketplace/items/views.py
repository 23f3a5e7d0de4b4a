"""The pages of a listed item kind (scenes, capabilities), built once for both."""

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
from marketplace.db import get_engine, get_session
from marketplace.errors import Invalid
from marketplace.items import services as items
from marketplace.items import workflow
from marketplace.items.fields import form_payload
from marketplace.matches import services as matches
from marketplace.matches.index import get_indexes
from marketplace.matches.vectors import write_embedder
from marketplace.policy import PUBLIC, SIGNED_IN, access, can
from marketplace.taxonomy import get_taxonomy


def build_views_blueprint(kind: items.ItemKind) -> Blueprint:
    bp = Blueprint(f"{kind.plural}_pages", __name__, url_prefix=f"/{kind.plural}")

    def render_form(
        item: Any,
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
        check: Any = None,
    ) -> Any:
        taxonomy = get_taxonomy(get_session())
        return render_template(
            "items/form.html",
            kind=kind,
            item=item,
            values=values,
            errors=errors,
            taxonomy=taxonomy,
            check=check,
        ), status

    def pre_save_check(payload: dict[str, Any], item_id: int | None) -> Any:
        """Vague text and likely duplicates, shown once before saving.

        The form then carries `checked=1`, so the owner's second click saves as is.
        """
        if request.form.get("checked") == "1":
            return None
        title, description = payload.get("title"), payload.get("description")
        if not isinstance(title, str) or not isinstance(description, str):
            return None
        if not title.strip() or not description.strip():
            return None
        actor = current_actor()
        check = matches.check_submission(
            get_session(),
            kind,
            title.strip(),
            description.strip(),
            actor.organization_id if actor else None,
            get_indexes(current_app),
            own_id=item_id,
            now=utcnow(),
            embedder=write_embedder(current_app.config),
        )
        return None if check.clean else check

    @bp.get("")
    @access(PUBLIC)
    def index() -> Any:
        session = get_session()
        taxonomy = get_taxonomy(session)
        try:
            query = items.parse_item_query(kind, request.args, taxonomy)
            errors: dict[str, str] = {}
        except Invalid as error:
            query, errors = items.ItemQuery(), error.fields
        page = items.list_items(
            session, kind, current_actor(), query, get_engine(current_app).dialect.name
        )
        # A page past the end is refused, naming the last one, not shown empty.
        past_end = page.page > page.pages
        return render_template(
            "items/list.html",
            past_end=past_end,
            kind=kind,
            page=page,
            query=query,
            taxonomy=taxonomy,
            errors=errors,
            sorts=items.SORTS,
            args=request.args,
        ), (404 if past_end else 200)

    @bp.get("/<int:item_id>")
    @access(PUBLIC)
    def detail(item_id: int) -> Any:
        session = get_session()
        actor = current_actor()
        item = items.get_visible_item(session, kind, actor, item_id)
        find = matches.FINDERS[kind.name]
        proposals = find(
            session, actor, item.id, 10, get_indexes(current_app), now=utcnow()
        )
        history = items.item_history(session, kind, actor, item)
        return render_template(
            "items/detail.html",
            kind=kind,
            item=item,
            proposals=proposals,
            can_mark=can(actor, "item.review"),
            history=history,
            return_notice=items.return_notice(item, history),
            transitions=items.available_transitions(kind, actor, item),
            show_contact=items.can_see_contact(actor, item),
            can_edit=can(actor, f"{kind.name}.edit", item)
            and item.status in workflow.EDITABLE_STATUSES,
            can_delete=can(actor, f"{kind.name}.delete", item)
            and item.status in workflow.DELETABLE_STATUSES,
            status_labels=workflow.STATUS_LABELS,
        )

    @bp.get("/new")
    @access(kind.owner_role)
    def new() -> Any:
        # Contact details stay private unless the owner ticks to publish them.
        return render_form(None, {"contact_public": False}, {})

    @bp.post("/new")
    @access(kind.owner_role)
    def new_submit() -> Any:
        session = get_session()
        payload = form_payload(kind.fields, request.form)
        warning = pre_save_check(payload, None)
        if warning is not None:
            return render_form(None, payload, {}, check=warning)
        try:
            item = items.create_item(
                session,
                kind,
                current_actor(),
                payload,
                now=utcnow(),
                today=local_today(),
                embedder=write_embedder(current_app.config),
            )
            if request.form.get("action") == "submit":
                items.transition_item(
                    session, kind, current_actor(), item.id, "submitted", now=utcnow()
                )
        except Invalid as error:
            session.rollback()
            return render_form(None, payload, error.fields, 422)
        session.commit()
        flash("已提交审核" if item.status == "submitted" else "草稿已保存", "success")
        return redirect(url_for(".detail", item_id=item.id))

    @bp.get("/<int:item_id>/edit")
    @access(kind.owner_role)
    def edit(item_id: int) -> Any:
        item = items.get_visible_item(get_session(), kind, current_actor(), item_id)
        values = kind.to_json(item, current_actor())
        return render_form(item, values, {})

    @bp.post("/<int:item_id>/edit")
    @access(kind.owner_role)
    def edit_submit(item_id: int) -> Any:
        session = get_session()
        payload = form_payload(kind.fields, request.form)
        warning = pre_save_check(payload, item_id)
        if warning is not None:
            item = items.get_visible_item(session, kind, current_actor(), item_id)
            return render_form(item, payload, {}, check=warning)
        try:
            item = items.update_item(
                session,
                kind,
                current_actor(),
                item_id,
                payload,
                now=utcnow(),
                today=local_today(),
                embedder=write_embedder(current_app.config),
            )
            if request.form.get("action") == "submit":
                items.transition_item(
                    session, kind, current_actor(), item.id, "submitted", now=utcnow()
                )
        except Invalid as error:
            session.rollback()
            item = items.get_visible_item(session, kind, current_actor(), item_id)
            return render_form(item, payload, error.fields, 422)
        session.commit()
        flash("已保存并提交审核" if item.status == "submitted" else "已保存", "success")
        return redirect(url_for(".detail", item_id=item.id))

    @bp.post("/<int:item_id>/transition")
    @access(SIGNED_IN)
    def transition(item_id: int) -> Any:
        session = get_session()
        target = request.form.get("to", "")
        try:
            item = items.transition_item(
                session,
                kind,
                current_actor(),
                item_id,
                target,
                comment=request.form.get("comment", ""),
                now=utcnow(),
            )
        except Invalid as error:
            session.rollback()
            flash("；".join(error.fields.values()) or error.message, "error")
            return redirect(url_for(".detail", item_id=item_id))
        session.commit()
        flash(f"状态已变更为“{workflow.STATUS_LABELS[item.status]}”", "success")
        return redirect(
            request.form.get("next_review")
            and url_for("home.review")
            or url_for(".detail", item_id=item.id)
        )

    @bp.post("/<int:item_id>/delete")
    @access(kind.owner_role)
    def delete(item_id: int) -> Any:
        session = get_session()
        items.delete_item(session, kind, current_actor(), item_id, now=utcnow())
        session.commit()
        flash("草稿已删除", "success")
        return redirect(url_for("home.mine"))

    return bp
