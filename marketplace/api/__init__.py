"""The JSON API under /api/v1 (CONTRACT.md): the parent blueprint and its helpers."""

from typing import Any

from flask import Blueprint, Flask, jsonify, request

from marketplace.db import get_session
from marketplace.errors import BadRequest, DomainError, Invalid
from marketplace.integers import parse_int
from marketplace.policy import PUBLIC, access
from marketplace.taxonomy import get_taxonomy


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400/415."""
    if not request.is_json:
        raise UnsupportedMediaType("请求内容类型应为 application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("请求内容不是有效的JSON", code="invalid_json")
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为JSON对象", code="invalid_body")
    return data


def positive_int_arg(name: str, default: int, upper: int | None = None) -> int:
    """A query parameter that must be a positive integer of at most `upper`, or a
    clear 422 naming it (the document states the same bounds)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = parse_int(raw, text=True)
    except ValueError as reason:
        raise Invalid("查询参数有误", fields={name: str(reason)}) from None
    if upper is not None and value > upper:
        raise Invalid("查询参数有误", fields={name: f"应为1到{upper}之间的整数"})
    return value


def page_json(page: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


@access(PUBLIC)
def taxonomy() -> Any:
    return jsonify(get_taxonomy(get_session()).to_json())


def init_app(app: Flask) -> None:
    from marketplace.accounts.api import bp as auth_bp
    from marketplace.api.openapi import bp as openapi_bp
    from marketplace.capabilities.api import bp as capabilities_bp
    from marketplace.dashboard.api import bp as dashboard_bp
    from marketplace.editions.api import bp as editions_bp
    from marketplace.events.api import bp as events_bp
    from marketplace.matches.api import bp as matches_bp
    from marketplace.notifications.api import bp as notifications_bp
    from marketplace.organizations.api import bp as organizations_bp
    from marketplace.plans.api import bp as plans_bp
    from marketplace.scenes.api import bp as scenes_bp
    from marketplace.subsidies.api import bp as subsidies_bp

    # A parent per app: a blueprint cannot take new children once registered, and
    # tests build many apps in one process.
    parent = Blueprint("api", __name__, url_prefix="/api/v1")
    parent.add_url_rule("/taxonomy", view_func=taxonomy, methods=["GET"])
    for child in (
        auth_bp,
        organizations_bp,
        scenes_bp,
        capabilities_bp,
        matches_bp,
        editions_bp,
        events_bp,
        notifications_bp,
        subsidies_bp,
        plans_bp,
        dashboard_bp,
    ):
        parent.register_blueprint(child)
    app.register_blueprint(parent)
    app.register_blueprint(openapi_bp)
