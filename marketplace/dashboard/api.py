"""GET /api/v1/dashboard: the dashboard's figures (public, or internal for staff)."""

from typing import Any

from flask import Blueprint, jsonify, request

from marketplace.accounts.auth import current_actor
from marketplace.dashboard import request as dashboard_request
from marketplace.dashboard import services
from marketplace.policy import PUBLIC, access

bp = Blueprint("dashboard", __name__)


def _kind_json(figures: services.KindFigures) -> dict[str, Any]:
    return {
        "total": figures.total,
        "by_domain": figures.by_domain,
        "by_district": figures.by_district,
        "by_industry": figures.by_industry,
        "by_industry_group": figures.by_industry_group,
        "by_status": figures.by_status,
        "by_status_key": figures.by_status_key,
        "by_category": figures.by_category,
        "monthly_posted": figures.monthly_posted,
        "monthly_published": figures.monthly_published,
    }


def dashboard_json(board: services.Dashboard) -> dict[str, Any]:
    keys = [stage.key for stage in board.funnel]
    return {
        "year": board.year,
        "internal": board.internal,
        "filters": board.filters.list_args(),
        "scenes": _kind_json(board.scenes),
        "capabilities": _kind_json(board.capabilities),
        "funnel": [
            {"stage": stage.label, "key": stage.key, "count": stage.count}
            for stage in board.funnel
        ],
        "funnel_by_domain": {
            name: dict(zip(keys, counts, strict=True))
            for name, counts in board.funnel_by_domain.items()
        },
        "funnel_by_district": {
            name: dict(zip(keys, counts, strict=True))
            for name, counts in board.funnel_by_district.items()
        },
        "budget_total": f"{board.budget_total:.2f}",
        "budget_by_domain": {
            name: f"{amount:.2f}" for name, amount in board.budget_by_domain.items()
        },
        "editions": board.editions,
        "events_held": board.events_held,
        "meetings_held": board.meetings_held,
        "signed_amount": None
        if board.signed_amount is None
        else f"{board.signed_amount:.2f}",
        "targets": [
            {
                "text": t.text,
                "source": t.source,
                "target": t.target,
                "actual": t.actual,
                "counted_as": t.counted_as,
            }
            for t in board.targets
        ],
    }


@bp.get("/dashboard")
@access(PUBLIC)
def dashboard() -> Any:
    board = dashboard_request.dashboard_for(
        request.args, current_actor(), blank_is_absent=False
    )
    return jsonify(dashboard_json(board))
