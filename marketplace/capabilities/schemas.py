"""Capability input fields and output shape (API, forms and OpenAPI share these)."""

from datetime import date
from typing import Any

import sqlalchemy as sa

from marketplace.capabilities.models import TAG_FIELDS, Capability, CapabilityTag
from marketplace.items.fields import Field
from marketplace.items.services import can_see_contact
from marketplace.items.workflow import STATUS_LABELS
from marketplace.scenes.schemas import CONTACT_FIELDS

CAPABILITY_FIELDS = (
    Field("title", "能力名称", "text", min_length=4, max_length=200),
    Field(
        "description",
        "能力描述",
        "text",
        min_length=20,
        max_length=5000,
        help="写明技术或产品是什么、关键指标、已有应用案例和交付方式",
    ),
    Field("type", "能力类型", "choice", vocabulary="capability_types"),
    Field("maturity", "成熟度", "choice", vocabulary="maturities"),
    Field("domains", "适用领域", "choices", vocabulary="domains", max_length=5),
    Field("industries", "产业方向", "choices", vocabulary="industries", max_length=5),
    Field("districts", "服务板块", "choices", vocabulary="districts", max_length=8),
) + CONTACT_FIELDS

FILTER_FIELDS = (
    Field("type", "能力类型", "choice", required=False, vocabulary="capability_types"),
    Field("maturity", "成熟度", "choice", required=False, vocabulary="maturities"),
    Field("domain", "领域", "choice", required=False, vocabulary="domains"),
    Field("industry", "产业方向", "choice", required=False, vocabulary="industries"),
    Field("district", "板块", "choice", required=False, vocabulary="districts"),
)

_TAG_FILTERS = {"domain": "domains", "industry": "industries", "district": "districts"}


def assign(capability: Capability, values: dict[str, Any], _today: date) -> None:
    for name, value in values.items():
        if name in TAG_FIELDS:
            capability.set_tags(name, value)
        else:
            setattr(capability, name, value)


def apply_filters(statement: sa.Select[Any], filters: dict[str, Any]) -> sa.Select[Any]:
    for name in ("type", "maturity"):
        if filters.get(name):
            statement = statement.where(getattr(Capability, name) == filters[name])
    for name, tag_field in _TAG_FILTERS.items():
        if filters.get(name):
            # Driven from the tag index (field, name, capability_id): a range read,
            # not a probe per capability.
            statement = statement.where(
                Capability.id.in_(
                    sa.select(CapabilityTag.capability_id).where(
                        CapabilityTag.field == tag_field,
                        CapabilityTag.name == filters[name],
                    )
                )
            )
    return statement


def capability_to_json(capability: Capability, actor: Any) -> dict[str, Any]:
    show_contact = can_see_contact(actor, capability)
    published_at = capability.published_at
    return {
        "id": capability.id,
        "title": capability.title,
        "description": capability.description,
        "type": capability.type,
        "maturity": capability.maturity,
        "domains": capability.domains,
        "industries": capability.industries,
        "districts": capability.districts,
        "status": capability.status,
        "status_label": STATUS_LABELS[capability.status],
        "organization_id": capability.organization_id,
        "organization_name": capability.organization.name,
        "contact_public": capability.contact_public,
        "contact_name": capability.contact_name if show_contact else None,
        "contact_phone": capability.contact_phone if show_contact else None,
        "contact_email": capability.contact_email if show_contact else None,
        "published_at": published_at.isoformat() if published_at else None,
        "created_at": capability.created_at.isoformat(),
        "updated_at": capability.updated_at.isoformat(),
    }
