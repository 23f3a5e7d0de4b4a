"""Organization use cases: create, edit and list, with credit-code checks."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace import audit, policy
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.items.fields import Field, parse_fields
from marketplace.matches.models import bump_index_version
from marketplace.organizations.credit_code import credit_code_problem, normalize
from marketplace.organizations.models import Organization
from marketplace.taxonomy import get_taxonomy
from matching.duplicates import similar_organizations

ORGANIZATION_FIELDS = (
    Field("name", "单位名称", "text", min_length=2, max_length=100),
    Field("kind", "单位类型", "choice", vocabulary="organization_kinds"),
    Field("district", "所在板块", "choice", vocabulary="districts"),
    Field("credit_code", "统一社会信用代码", "text", max_length=40),
    Field("contact_name", "联系人", "text", required=False, max_length=50),
    Field("contact_phone", "联系电话", "phone", required=False, max_length=30),
    Field("contact_email", "联系邮箱", "email", required=False, max_length=120),
)


def _parse(session: orm.Session, payload: Any, *, partial: bool) -> dict[str, Any]:
    values = parse_fields(
        ORGANIZATION_FIELDS, payload, get_taxonomy(session), partial=partial
    )
    if "credit_code" in values:
        code = normalize(values["credit_code"])
        problem = credit_code_problem(code)
        if problem:
            raise Invalid(problem, fields={"credit_code": problem})
        values["credit_code"] = code
    return values


def _check_unique(
    session: orm.Session, values: dict[str, Any], own_id: int | None
) -> None:
    for name, label in (("name", "单位名称"), ("credit_code", "统一社会信用代码")):
        if name not in values:
            continue
        other = session.scalar(
            sa.select(Organization.id).where(
                getattr(Organization, name) == values[name]
            )
        )
        if other is not None and other != own_id:
            raise Conflict(
                f"{label}已被其他单位使用",
                code=f"{name}_taken",
                fields={name: "已被其他单位使用"},
            )


def similar_names(
    session: orm.Session, name: str, own_id: int | None = None
) -> list[tuple[str, float]]:
    """Existing organizations whose names are likely the same one written
    differently (无锡XX科技有限公司 / XX科技), with their similarity 0–100."""
    names = session.scalars(
        sa.select(Organization.name).where(Organization.id != (own_id or 0))
    ).all()
    return similar_organizations(name, names)


def _check_not_similar(
    session: orm.Session, values: dict[str, Any], own_id: int | None
) -> None:
    if "name" not in values:
        return
    similar = similar_names(session, values["name"], own_id)
    if similar:
        listed = "、".join(f"“{name}”" for name, _ in similar[:3])
        raise Conflict(
            f"可能与已有单位重复：{listed}",
            code="similar_organization",
            fields={
                "name": f"与{listed}可能是同一单位；确认不是后可再次提交"
                "（页面勾选“确认不是同一单位”，接口加 allow_similar=1）"
            },
        )


def create_organization(
    session: orm.Session,
    actor: Any,
    payload: Any,
    *,
    now: datetime,
    allow_similar: bool = False,
) -> Organization:
    """Add an organization. A name that looks like an existing organization's is
    refused unless `allow_similar` (the person checked that they differ)."""
    policy.require(actor, "organization.create")
    values = _parse(session, payload, partial=False)
    _check_unique(session, values, None)
    if not allow_similar:
        _check_not_similar(session, values, None)
    organization = Organization(created_at=now, **values)
    session.add(organization)
    session.flush()
    audit.record(
        session,
        actor,
        "organization.create",
        "organization",
        organization.id,
        at=now,
        details={"name": organization.name},
    )
    return organization


def update_organization(
    session: orm.Session,
    actor: Any,
    organization_id: int,
    payload: Any,
    *,
    now: datetime,
    allow_similar: bool = False,
) -> Organization:
    organization = get_organization(session, organization_id)
    policy.require(actor, "organization.edit", organization)
    values = _parse(session, payload, partial=True)
    _check_unique(session, values, organization.id)
    if not allow_similar and values.get("name", organization.name) != organization.name:
        _check_not_similar(session, values, organization.id)
    if values.get("name", organization.name) != organization.name:
        # Match answers show the organization's name: retire the stored ones.
        bump_index_version(session, "scenes")
        bump_index_version(session, "capabilities")
    for name, value in values.items():
        setattr(organization, name, value)
    audit.record(
        session,
        actor,
        "organization.update",
        "organization",
        organization.id,
        at=now,
        details={"fields": sorted(values)},
    )
    return organization


def get_organization(session: orm.Session, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("单位不存在", code="organization_not_found")
    return organization


def list_organizations(
    session: orm.Session,
    *,
    q: str = "",
    kind: str = "",
    district: str = "",
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Organization], int]:
    statement = sa.select(Organization)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Organization.name.like(f"%{escaped}%", escape="\\"))
    if kind:
        statement = statement.where(Organization.kind == kind)
    if district:
        statement = statement.where(Organization.district == district)
    total = (
        session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
        or 0
    )
    rows = session.scalars(
        statement.order_by(Organization.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def organization_to_json(organization: Organization, actor: Any) -> dict[str, Any]:
    """Contact details of organizations are for signed-in users only."""
    result: dict[str, Any] = {
        "id": organization.id,
        "name": organization.name,
        "kind": organization.kind,
        "district": organization.district,
        "credit_code": organization.credit_code,
    }
    if actor is not None:
        result.update(
            contact_name=organization.contact_name,
            contact_phone=organization.contact_phone,
            contact_email=organization.contact_email,
        )
    return result
