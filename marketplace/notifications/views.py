"""Pages: the user's notices, digest settings and saved searches."""

import logging
from typing import Any

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import exc as sa_exc

from marketplace.accounts.auth import current_actor
from marketplace.db import get_session, utcnow
from marketplace.errors import Conflict, Invalid
from marketplace.integers import parse_int
from marketplace.notifications import services
from marketplace.notifications.models import FREQUENCIES
from marketplace.policy import SIGNED_IN, access
from marketplace.taxonomy import get_taxonomy
from marketplace.views import failed

log = logging.getLogger(__name__)

bp = Blueprint("notifications_pages", __name__)

PER_PAGE = 30


def _page_number() -> int:
    try:
        return parse_int(request.args.get("page", "1"), text=True)
    except ValueError:
        return 1


@bp.app_context_processor
def unread_badge() -> dict[str, Any]:
    """`unread_notifications()` for the navigation; counted only when drawn."""

    def count() -> int:
        actor = g.get("actor")
        if actor is None:
            return 0
        try:
            return services.unread_count(get_session(), actor.id)
        except sa_exc.SQLAlchemyError:  # the badge never breaks a page
            log.warning("unread count unavailable", exc_info=True)
            return 0

    return {"unread_notifications": count}


@bp.get("/notifications")
@access(SIGNED_IN)
def index() -> Any:
    actor = current_actor()
    assert actor is not None
    session = get_session()
    unread_only = request.args.get("unread") == "1"
    page = services.list_notifications(
        session,
        actor,
        unread_only=unread_only,
        page=_page_number(),
        per_page=PER_PAGE,
    )
    return render_template(
        "notifications/index.html",
        page=page,
        unread=services.unread_count(session, actor.id),
        unread_only=unread_only,
        frequency_label=FREQUENCIES.get(actor.digest_frequency, ""),
    )


@bp.post("/notifications/<int:notice_id>/read")
@access(SIGNED_IN)
def read_one(notice_id: int) -> Any:
    session = get_session()
    services.mark_read(session, current_actor(), [notice_id], now=utcnow())
    session.commit()
    return redirect(url_for(".index"))


@bp.post("/notifications/read-all")
@access(SIGNED_IN)
def read_all() -> Any:
    session = get_session()
    count = services.mark_read(session, current_actor(), None, now=utcnow())
    session.commit()
    flash(f"已将 {count} 条通知标为已读", "success")
    return redirect(url_for(".index"))


def _render_settings(
    values: dict[str, Any], errors: dict[str, str], status: int
) -> Any:
    return render_template(
        "notifications/settings.html",
        values=values,
        errors=errors,
        frequencies=FREQUENCIES,
    ), status


@bp.get("/notifications/settings")
@access(SIGNED_IN)
def settings() -> Any:
    actor = current_actor()
    assert actor is not None
    values = {"email": actor.email or "", "digest_frequency": actor.digest_frequency}
    return _render_settings(values, {}, 200)


@bp.post("/notifications/settings")
@access(SIGNED_IN)
def settings_submit() -> Any:
    session = get_session()
    payload = {
        "email": request.form.get("email", ""),
        "digest_frequency": request.form.get("digest_frequency", ""),
    }
    try:
        services.update_settings(session, current_actor(), payload, now=utcnow())
    except Invalid as error:
        session.rollback()
        return _render_settings(payload, error.fields, 422)
    session.commit()
    flash("通知设置已保存", "success")
    return redirect(url_for(".settings"))


@bp.get("/saved-searches")
@access(SIGNED_IN)
def saved_searches() -> Any:
    session = get_session()
    return render_template(
        "notifications/saved_searches.html",
        searches=services.list_saved_searches(session, current_actor()),
        taxonomy=get_taxonomy(session),
        lists=services.ITEM_KINDS,
    )


@bp.post("/saved-searches")
@access(SIGNED_IN)
def saved_search_create() -> Any:
    """The “保存此搜索” button of the scene and capability lists."""
    session = get_session()
    payload = {
        name: request.form.get(name, "")
        for name in ("list", "name", "words", "domain", "district")
    }
    kind = services.ITEM_KINDS.get(payload["list"])
    back = (
        url_for(
            f"{kind.plural}_pages.index",
            **{
                key: payload[name]
                for key, name in (
                    ("q", "words"),
                    ("domain", "domain"),
                    ("district", "district"),
                )
                if payload[name]
            },
        )
        if kind is not None
        else url_for(".saved_searches")
    )
    try:
        search = services.create_saved_search(
            session, current_actor(), payload, now=utcnow()
        )
    except (Invalid, Conflict) as error:
        return failed(error, back)
    session.commit()
    flash(f"已保存搜索“{search.name}”：之后新发布的匹配条目会出现在通知中", "success")
    return redirect(back)


@bp.post("/saved-searches/<int:search_id>/delete")
@access(SIGNED_IN)
def saved_search_delete(search_id: int) -> Any:
    session = get_session()
    services.delete_saved_search(session, current_actor(), search_id, now=utcnow())
    session.commit()
    flash("已删除保存的搜索", "success")
    return redirect(url_for(".saved_searches"))
