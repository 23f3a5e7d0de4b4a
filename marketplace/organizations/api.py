from typing import Any

from flask import Blueprint, jsonify, request

from marketplace.accounts.auth import current_actor
from marketplace.api import json_body, positive_int_arg
from marketplace.db import get_session, utcnow
from marketplace.errors import Invalid
from marketplace.organizations import services
from marketplace.policy import PUBLIC, access

bp = Blueprint("organizations", __name__, url_prefix="/organizations")
# The bounds of the list's query string, stated the same in the OpenAPI document.
MAX_PAGE = 10**6
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 100


@bp.get("")
@access(PUBLIC)
def index() -> Any:
    page = positive_int_arg("page", 1, MAX_PAGE)
    per_page = positive_int_arg("per_page", 50, MAX_PER_PAGE)
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY_LENGTH:
        raise Invalid(
            "查询参数有误", fields={"q": f"搜索词不能超过{MAX_QUERY_LENGTH}个字符"}
        )
    rows, total = services.list_organizations(
        get_session(),
        q=q,
        kind=request.args.get("kind", ""),
        district=request.args.get("district", ""),
        page=page,
        per_page=per_page,
    )
    actor = current_actor()
    return jsonify(
        {
            "items": [services.organization_to_json(o, actor) for o in rows],
            "total": total,
            "page": page,
            "per_page": per_page,
        }
    )


def _allow_similar() -> bool:
    return request.args.get("allow_similar", "") in ("1", "true")


@bp.post("")
@access("admin", "center")
def create() -> Any:
    session = get_session()
    organization = services.create_organization(
        session,
        current_actor(),
        json_body(),
        now=utcnow(),
        allow_similar=_allow_similar(),
    )
    session.commit()
    return jsonify(services.organization_to_json(organization, current_actor())), 201


@bp.get("/<int:organization_id>")
@access(PUBLIC)
def detail(organization_id: int) -> Any:
    organization = services.get_organization(get_session(), organization_id)
    return jsonify(services.organization_to_json(organization, current_actor()))


@bp.patch("/<int:organization_id>")
@access("admin", "center")
def update(organization_id: int) -> Any:
    session = get_session()
    organization = services.update_organization(
        session,
        current_actor(),
        organization_id,
        json_body(),
        now=utcnow(),
        allow_similar=_allow_similar(),
    )
    session.commit()
    return jsonify(services.organization_to_json(organization, current_actor()))
