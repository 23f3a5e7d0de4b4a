"""Pages: template download, upload, preview with every problem named, confirm."""

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from marketplace.accounts.auth import current_actor
from marketplace.clock import local_today
from marketplace.db import get_session, utcnow
from marketplace.errors import DomainError
from marketplace.imports import services
from marketplace.imports.models import ImportBatch
from marketplace.imports.workbook import build_template
from marketplace.policy import access
from marketplace.taxonomy import get_taxonomy

bp = Blueprint("imports_pages", __name__, url_prefix="/imports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("")
@access("center", "admin")
def index() -> Any:
    actor = current_actor()
    batches = (
        get_session()
        .scalars(
            sa.select(ImportBatch)
            .where(ImportBatch.user_id == actor.id)
            .order_by(ImportBatch.created_at.desc())
            .limit(20)
        )
        .all()
    )
    return render_template("imports/index.html", batches=batches, kinds=services.KINDS)


@bp.get("/template/<kind_name>.xlsx")
@access("center", "admin")
def template(kind_name: str) -> Response:
    kind = services.kind_of(kind_name)
    data = build_template(kind.fields, get_taxonomy(get_session()), kind.label)
    return Response(
        data,
        mimetype=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename={kind_name}-template.xlsx"
        },
    )


@bp.post("")
@access("center", "admin")
def upload() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要上传的 .xlsx 文件", "error")
        return redirect(url_for(".index"))
    session = get_session()
    try:
        batch = services.preview_import(
            session,
            current_actor(),
            request.form.get("kind", ""),
            upload.filename,
            upload.read(services.MAX_UPLOAD_BYTES + 1),
            now=utcnow(),
            today=local_today(),
        )
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".index"))
    session.commit()
    return redirect(url_for(".preview", batch_id=batch.id))


@bp.get("/<batch_id>")
@access("center", "admin")
def preview(batch_id: str) -> Any:
    batch = services.get_batch(get_session(), current_actor(), batch_id)
    return render_template(
        "imports/preview.html",
        batch=batch,
        kind=services.kind_of(batch.kind),
        now=utcnow(),
    )


@bp.post("/<batch_id>/confirm")
@access("center", "admin")
def confirm(batch_id: str) -> Any:
    session = get_session()
    batch = services.confirm_import(
        session, current_actor(), batch_id, now=utcnow(), today=local_today()
    )
    session.commit()
    flash(f"已导入 {len(batch.imported_ids)} 条，均为待审核状态", "success")
    return redirect(url_for("home.review"))
