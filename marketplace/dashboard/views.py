"""The data dashboard (数据看板): charts drawn by the server as SVG, each with its
numbers in a table beside it, every count a link to the list behind it, and every
table in one XLSX download."""

from io import BytesIO
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for

from marketplace.accounts.auth import current_actor
from marketplace.clock import local_today
from marketplace.dashboard import request as dashboard_request
from marketplace.dashboard import services, tables
from marketplace.db import get_session
from marketplace.errors import Invalid
from marketplace.policy import PUBLIC, access
from marketplace.taxonomy import get_taxonomy

bp = Blueprint("dashboard_pages", __name__)
FIRST_YEAR = 2024


def _link_for(board: services.Dashboard) -> tables.Link:
    base = board.filters.list_args()

    def link(kind: str, **extra: Any) -> str | None:
        endpoint = (
            "scenes_pages.index" if kind == "scene" else "capabilities_pages.index"
        )
        return url_for(endpoint, **{**base, **extra})

    return link


def _board() -> tuple[services.Dashboard, dict[str, str]]:
    """The board for the request's filters; unknown filters are named and ignored."""
    actor = current_actor()
    try:
        return dashboard_request.dashboard_for(request.args, actor), {}
    except Invalid as error:
        return dashboard_request.dashboard_for({}, actor), error.fields


@bp.get("/dashboard")
@access(PUBLIC)
def index() -> Any:
    board, errors = _board()
    taxonomy = get_taxonomy(get_session())
    this_year = local_today().year
    return render_template(
        "dashboard/index.html",
        board=board,
        tables={t.key: t for t in tables.build_tables(board, _link_for(board))},
        taxonomy=taxonomy,
        years=list(range(this_year, FIRST_YEAR - 1, -1)),
        args=request.args,
        errors=errors,
    )


@bp.get("/dashboard.xlsx")
@access(PUBLIC)
def workbook() -> Any:
    board, _ = _board()
    buffer = BytesIO()
    title = f"无锡市场景创新数据看板（{board.year}年）"
    tables.write_workbook(
        buffer, tables.build_tables(board, lambda *a, **k: None), title
    )
    return Response(
        buffer.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''"
            + quote(f"场景创新数据看板{board.year}.xlsx")
        },
    )
