"""Pages: center marks on proposed pairings, and the marks as labelled data."""

import io
import json
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
from marketplace.db import get_session, utcnow
from marketplace.errors import DomainError, Invalid
from marketplace.matches import services, synonyms
from marketplace.matches.vectors import vector_model
from marketplace.policy import access
from marketplace.spreadsheets import CsvWriter
from marketplace.views import failed
from matching.synonyms import read_synonym_groups

bp = Blueprint("matches_pages", __name__, url_prefix="/matches")


@bp.post("/mark")
@access("center", "admin")
def mark() -> Any:
    form = request.form
    try:
        scene_id = int(form.get("scene_id", ""))
        capability_id = int(form.get("capability_id", ""))
        score = float(form["score"]) if form.get("score") else None
    except ValueError:
        raise Invalid("标注参数有误") from None
    session = get_session()
    services.record_feedback(
        session,
        current_actor(),
        scene_id,
        capability_id,
        form.get("relevant") == "1",
        score=score,
        now=utcnow(),
    )
    session.commit()
    flash("已记录标注", "success")
    back = form.get("back", "scene")
    if back == "capability":
        return redirect(url_for("capabilities_pages.detail", item_id=capability_id))
    return redirect(url_for("scenes_pages.detail", item_id=scene_id))


@bp.get("/feedback")
@access("center", "admin")
def feedback() -> Any:
    return render_template(
        "matches/feedback.html", records=services.feedback_records(get_session())
    )


@bp.post("/fit")
@access("center", "admin")
def fit_weights() -> Any:
    """Refit the match weights on every mark (what `flask fit-match-weights` does)."""
    session = get_session()
    try:
        fit = services.fit_weights_from_feedback(
            session,
            now=utcnow(),
            vector_model=vector_model(current_app.config),
            actor=current_actor(),
        )
    except DomainError as error:
        return failed(error, url_for(".feedback"))
    session.commit()
    flash(
        f"已用 {fit.pairs} 条标注重新拟合匹配权重，所有推荐随即按新权重计算。"
        f"推荐排序与标注的吻合度（满分 1）：拟合前 {fit.before['ndcg@10']:.2f}，"
        f"拟合后 {fit.after['ndcg@10']:.2f}",
        "success",
    )
    return redirect(url_for(".feedback"))


@bp.get("/feedback.csv")
@access("center", "admin")
def feedback_csv() -> Response:
    records = services.feedback_records(get_session())
    buffer = io.StringIO()
    columns = [
        "scene_id",
        "scene_title",
        "capability_id",
        "capability_title",
        "relevant",
        "score",
        "source",
        "marked_at",
        "scene_description",
        "capability_description",
    ]
    writer = CsvWriter(buffer)
    writer.writerow(columns)
    writer.writerows([record.get(c) for c in columns] for record in records)
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=match-feedback.csv"},
    )


@bp.get("/feedback.jsonl")
@access("center", "admin")
def feedback_jsonl() -> Response:
    lines = "".join(
        json.dumps(r, ensure_ascii=False) + "\n"
        for r in services.feedback_records(get_session())
    )
    return Response(
        lines,
        mimetype="application/x-ndjson",
        headers={"Content-Disposition": "attachment; filename=match-feedback.jsonl"},
    )


@bp.get("/synonyms")
@access("center", "admin")
def synonyms_page() -> Any:
    return render_template(
        "matches/synonyms.html",
        groups=synonyms.center_groups(get_session()),
        bundled=read_synonym_groups(),
        max_words=synonyms.MAX_WORDS,
    )


@bp.post("/synonyms")
@access("center", "admin")
def synonyms_add() -> Any:
    session = get_session()
    try:
        group, recut = synonyms.add_group(
            session, current_actor(), request.form.get("words", ""), now=utcnow()
        )
    except DomainError as error:
        return failed(error, url_for("matches_pages.synonyms_page"))
    session.commit()
    flash(
        f"已添加同义词组“{'、'.join(group.words)}”，重新切词{recut}个条目；"
        "各进程的匹配索引将在下次请求时更新",
        "success",
    )
    return redirect(url_for("matches_pages.synonyms_page"))


@bp.post("/synonyms/<int:group_id>/retire")
@access("center", "admin")
def synonyms_retire(group_id: int) -> Any:
    session = get_session()
    group = synonyms.retire_group(session, current_actor(), group_id, now=utcnow())
    session.commit()
    flash(f"已停用同义词组“{'、'.join(group.words)}”", "success")
    return redirect(url_for("matches_pages.synonyms_page"))
