from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from marketplace import taxonomy as taxonomies
from marketplace.accounts import services as accounts
from marketplace.accounts.auth import current_actor
from marketplace.accounts.models import ROLES
from marketplace.db import get_session, utcnow
from marketplace.errors import DomainError
from marketplace.organizations import services as organizations
from marketplace.policy import access, require
from marketplace.views import failed

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/taxonomy")
@access("admin")
def taxonomy() -> Any:
    snapshot = taxonomies.get_taxonomy(get_session(), include_retired=True)
    return render_template(
        "admin/taxonomy.html", taxonomy=snapshot, vocabularies=taxonomies.VOCABULARIES
    )


@bp.post("/taxonomy")
@access("admin")
def taxonomy_add() -> Any:
    session = get_session()
    require(current_actor(), "taxonomy.edit")
    try:
        term = taxonomies.add_term(
            session,
            current_actor(),
            request.form.get("vocabulary", ""),
            request.form.get("name", ""),
            group=request.form.get("group", ""),
            now=utcnow(),
        )
    except DomainError as error:
        return failed(error, url_for("admin.taxonomy"))
    session.commit()
    flash(f"已添加“{term.name}”", "success")
    return redirect(url_for("admin.taxonomy"))


@bp.post("/taxonomy/<int:term_id>/active")
@access("admin")
def taxonomy_toggle(term_id: int) -> Any:
    session = get_session()
    require(current_actor(), "taxonomy.edit")
    active = request.form.get("active") == "1"
    term = taxonomies.set_term_active(
        session, current_actor(), term_id, active, now=utcnow()
    )
    session.commit()
    flash(f"“{term.name}”已{'启用' if active else '停用'}", "success")
    return redirect(url_for("admin.taxonomy"))


@bp.get("/organizations")
@access("admin", "center")
def organization_list() -> Any:
    return _organization_page()


def _organization_page(error: DomainError | None = None, form: Any = None) -> str:
    session = get_session()
    rows, total = organizations.list_organizations(session, per_page=500)
    return render_template(
        "admin/organizations.html",
        organizations=rows,
        total=total,
        taxonomy=taxonomies.get_taxonomy(session),
        error=error,
        form=form or {},
    )


@bp.post("/organizations")
@access("admin", "center")
def organization_create() -> Any:
    session = get_session()
    try:
        organization = organizations.create_organization(
            session,
            current_actor(),
            request.form.to_dict(),
            now=utcnow(),
            allow_similar=request.form.get("allow_similar") == "1",
        )
    except DomainError as error:
        session.rollback()
        # Shown again with what was typed, so a second click needs no retyping.
        return _organization_page(error, request.form), error.status
    session.commit()
    flash(f"已添加单位“{organization.name}”", "success")
    return redirect(url_for("admin.organization_list"))


@bp.get("/users")
@access("admin")
def user_list() -> Any:
    session = get_session()
    rows, _ = organizations.list_organizations(session, per_page=500)
    words = request.args.get("words", "").strip()[:100]
    return render_template(
        "admin/users.html",
        words=words,
        users=accounts.list_users(session, words),
        roles=ROLES,
        organizations=rows,
    )


@bp.post("/users")
@access("admin")
def user_create() -> Any:
    session = get_session()
    form = request.form
    try:
        user = accounts.create_user(
            session,
            form.get("username", "").strip(),
            form.get("password", ""),
            form.get("role", ""),
            organization_name=form.get("organization") or None,
            display_name=form.get("display_name", "").strip()[:50],
            now=utcnow(),
            actor=current_actor(),
        )
    except DomainError as error:
        return failed(error, url_for("admin.user_list"))
    session.commit()
    flash(f"已创建用户“{user.username}”", "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<int:user_id>/active")
@access("admin")
def user_toggle(user_id: int) -> Any:
    session = get_session()
    active = request.form.get("active") == "1"
    try:
        user = accounts.set_user_active(
            session, current_actor(), user_id, active, now=utcnow()
        )
    except DomainError as error:
        return failed(error, url_for("admin.user_list"))
    session.commit()
    flash(
        f"用户“{user.username}”已{'启用' if active else '停用并退出所有登录'}",
        "success",
    )
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<int:user_id>/password")
@access("admin")
def user_password(user_id: int) -> Any:
    session = get_session()
    try:
        user = accounts.reset_password(
            session,
            current_actor(),
            user_id,
            request.form.get("password", ""),
            now=utcnow(),
        )
    except DomainError as error:
        return failed(error, url_for("admin.user_list"))
    session.commit()
    flash(f"已为“{user.username}”设置新密码，其所有登录已结束", "success")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<int:user_id>/sessions")
@access("admin")
def user_end_sessions(user_id: int) -> Any:
    session = get_session()
    count = accounts.end_all_sessions(session, current_actor(), user_id, now=utcnow())
    session.commit()
    flash(f"已结束 {count} 个登录会话", "success")
    return redirect(url_for("admin.user_list"))
