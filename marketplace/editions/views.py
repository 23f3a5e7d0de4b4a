"""Public pages of the editions, their downloads and Atom feed; the jobs page."""

import json
import logging
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from marketplace.accounts.auth import current_actor
from marketplace.clock import local_time
from marketplace.db import get_session, utcnow
from marketplace.editions import files, schedule
from marketplace.editions.jobs import (
    EditionFilesUnwritable,
    editions_directory,
    publish_now,
    write_files,
)
from marketplace.editions.models import LISTS, Edition, EditionFile
from marketplace.editions.services import (
    check_list,
    edition_payloads,
    get_edition,
    list_editions,
)
from marketplace.errors import DomainError, NotFound, Unavailable
from marketplace.jobs import last_runs, recent_runs
from marketplace.matches.vectors import dense_mode
from marketplace.policy import PUBLIC, access, require
from marketplace.scheduler import JOBS, job_next_run

log = logging.getLogger(__name__)
bp = Blueprint("editions_pages", __name__, url_prefix="/editions")
admin_bp = Blueprint("jobs_pages", __name__, url_prefix="/admin")


def recorded_files(edition: Edition) -> dict[str, EditionFile]:
    rows = get_session().scalars(
        sa.select(EditionFile).where(EditionFile.edition_id == edition.id)
    )
    return {row.format: row for row in rows}


def send_edition_file(edition_id: int, fmt: str) -> Response:
    """Serve an edition's own file: written first if a crash left it missing, written
    again if it is lost or not the recorded one, refused (503) if it cannot be."""
    if fmt not in files.FORMATS:
        raise NotFound("不支持的下载格式", code="format_not_found")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session = get_session()
    edition = get_edition(session, edition_id)
    directory = editions_directory(app)
    path = files.file_path(directory, edition, fmt)
    recorded = recorded_files(edition).get(fmt)
    if recorded is None:
        write_files(app, edition.id)
        # The files were recorded in a transaction of their own: look again.
        session.rollback()
        recorded = recorded_files(edition).get(fmt)
    stream = files.open_verified(path, recorded) if recorded else None
    if (
        stream is None
        and recorded is not None
        and files.restore_file(session, edition, fmt, directory, recorded.sha256)
    ):
        stream = files.open_verified(path, recorded)
    if stream is None:
        log.error(
            "edition %s: %s is not the file recorded at publication", edition.id, path
        )
        raise Unavailable(
            f"{edition.list_label}{edition.label}的{files.FORMATS[fmt]}文件"
            "与发布时记录的 SHA-256 不符，暂停下载，已通知管理员核查。",
            code="edition_file_mismatch",
        )
    return send_file(
        stream,
        mimetype=files.MEDIA_TYPES[fmt],
        as_attachment=True,
        download_name=files.download_name(edition, fmt),
        etag=recorded.sha256 if recorded else False,
        max_age=3600,
    )


@bp.get("")
@access(PUBLIC)
def index() -> Any:
    session = get_session()
    editions = {kind: list_editions(session, kind) for kind in LISTS}
    return render_template("editions/index.html", editions=editions, lists=LISTS)


@bp.get("/<int:edition_id>")
@access(PUBLIC)
def detail(edition_id: int) -> Any:
    session = get_session()
    edition = get_edition(session, edition_id)
    items = [json.loads(line) for line in edition_payloads(session, edition)]
    titles = {item["id"]: item["title"] for item in items}
    return render_template(
        "editions/detail.html",
        edition=edition,
        items=items,
        titles=titles,
        files=recorded_files(edition),
        formats=files.FORMATS,
    )


@bp.get("/<int:edition_id>/download/<fmt>")
@access(PUBLIC)
def download(edition_id: int, fmt: str) -> Response:
    return send_edition_file(edition_id, fmt)


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link under MARKETPLACE_BASE_URL.

    Never from the request's Host (or X-Forwarded-Host): a feed reader or a cache
    would keep whatever host an attacker sent, and an Atom id must not change.
    """
    path = url_for(endpoint, **values)
    if request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root) :]
    return current_app.config["BASE_URL"].rstrip("/") + path


@bp.get("/feed.atom")
@access(PUBLIC)
def feed() -> Response:
    """An Atom feed announcing every new edition of either list.

    A browser (which prefers text/html) gets the same entries as a page saying what
    the address is for; a feed reader gets the Atom document.
    """
    editions = list_editions(get_session())[:50]
    if (
        request.accept_mimetypes.best_match(["application/atom+xml", "text/html"])
        == "text/html"
    ):
        page = render_template(
            "editions/feed.html",
            editions=editions,
            feed_url=public_url("editions_pages.feed"),
        )
        return Response(page, mimetype="text/html", headers={"Vary": "Accept"})
    updated = editions[0].published_at if editions else utcnow()
    entries = []
    for edition in editions:
        link = public_url("editions_pages.detail", edition_id=edition.id)
        title = escape(f"{edition.list_label} {edition.label}")
        summary = escape(
            f"共 {edition.item_count} 条；新增 "
            f"{len(edition.summary['new'])}，变更 "
            f"{len(edition.summary['changed'])}，撤下 "
            f"{len(edition.summary['withdrawn'])}。摘要 SHA-256："
            f"{edition.digest}"
        )
        entries.append(
            f"<entry><title>{title}</title><id>urn:sha256:{edition.digest}</id>"
            f'<link href="{escape(link)}"/>'
            f"<updated>{edition.published_at.isoformat()}</updated>"
            f"<summary>{summary}</summary></entry>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>无锡场景创新清单发布</title>"
        f"<id>{escape(public_url('editions_pages.index'))}</id>"
        f'<link rel="self" href="{escape(public_url("editions_pages.feed"))}"/>'
        f"<updated>{updated.isoformat()}</updated>"
        "<author><name>无锡市场景创新促进中心</name></author>"
        + "".join(entries)
        + "</feed>"
    )
    return Response(body, mimetype="application/atom+xml", headers={"Vary": "Accept"})


@admin_bp.get("/jobs")
@access("admin", "center")
def jobs() -> Any:
    session = get_session()
    now = utcnow()
    timezone = current_app.config["MARKETPLACE_TIMEZONE"]
    schedules = schedule.get_schedules(session, now)
    return render_template(
        "editions/jobs.html",
        jobs=JOBS,
        runs=last_runs(session),
        recent=recent_runs(session),
        now=now,
        next_runs={job.id: job_next_run(job, now, timezone) for job in JOBS},
        schedules=schedules,
        cadences=schedule.CADENCES,
        lists=LISTS,
        publication_next={
            k: schedule.next_run(s, now, timezone) for k, s in schedules.items()
        },
        local_time=local_time,
        match_mode=dense_mode(current_app.config),
        job_labels={job.id: job.label for job in JOBS},
    )


@admin_bp.post("/schedule/<list_kind>")
@access("admin")
def schedule_update(list_kind: str) -> Any:
    session = get_session()
    form = request.form
    try:
        schedule.set_schedule(
            session,
            current_actor(),
            list_kind,
            form.get("cadence", ""),
            form.get("cron", ""),
            form.get("enabled") == "1",
            now=utcnow(),
            timezone=current_app.config["MARKETPLACE_TIMEZONE"],
        )
    except DomainError as error:
        session.rollback()
        flash(error.message + "；".join(error.fields.values()), "error")
        return redirect(url_for("jobs_pages.jobs"))
    session.commit()
    flash(f"{LISTS[list_kind]}的发布计划已更新", "success")
    return redirect(url_for("jobs_pages.jobs"))


@admin_bp.post("/publish/<list_kind>")
@access("admin", "center")
def publish(list_kind: str) -> Any:
    check_list(list_kind)
    require(current_actor(), "item.review")
    actor = current_actor()
    # Publication runs in transactions of its own; end this request's first, or on
    # SQLite the two would wait on each other's write lock.
    get_session().commit()
    try:
        edition = publish_now(
            current_app._get_current_object(),
            list_kind,  # type: ignore[attr-defined]
            actor_id=actor.id if actor else None,
        )
    except EditionFilesUnwritable as error:
        flash(error.message, "error")
        return redirect(url_for("editions_pages.detail", edition_id=error.edition_id))
    if edition is None:
        flash("刚刚已有一期发布，本次未重复发布", "info")
        return redirect(url_for("editions_pages.index"))
    flash(f"已发布{edition.list_label}{edition.label}", "success")
    return redirect(url_for("editions_pages.detail", edition_id=edition.id))
