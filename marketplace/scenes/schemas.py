"""Scene input fields and output shape (API, forms and OpenAPI share these)."""

from datetime import date
from typing import Any

import sqlalchemy as sa

from marketplace.items.fields import Field, check_deadline
from marketplace.items.services import can_see_contact
from marketplace.items.workflow import STATUS_LABELS
from marketplace.scenes.models import Scene, SceneIndustry

CONTACT_FIELDS = (
    Field("contact_name", "联系人", "text", required=False, max_length=50),
    Field("contact_phone", "联系电话", "phone", required=False, max_length=30),
    Field("contact_email", "联系邮箱", "email", required=False, max_length=120),
    Field(
        "contact_public",
        "公开联系方式",
        "bool",
        required=False,
        help="勾选后联系方式随清单向社会公开",
    ),
)

SCENE_FIELDS = (
    Field("title", "场景名称", "text", min_length=4, max_length=200),
    Field(
        "description",
        "场景描述",
        "text",
        min_length=20,
        max_length=5000,
        help="写明地点、规模、现状痛点、希望应用的技术和预期指标",
    ),
    Field("category", "场景类别", "choice", vocabulary="scene_categories"),
    Field("domain", "领域", "choice", vocabulary="domains"),
    Field("kind", "场景类型", "choice", vocabulary="scene_kinds"),
    Field("industries", "产业方向", "choices", vocabulary="industries", max_length=5),
    Field("district", "板块", "choice", vocabulary="districts"),
    Field("budget", "预算（元）", "money", required=False, help="留空表示面议"),
    Field("funding_source", "资金来源", "choice", vocabulary="funding_sources"),
    Field("deadline", "征集截止日期", "date"),
) + CONTACT_FIELDS

FILTER_FIELDS = (
    Field("domain", "领域", "choice", required=False, vocabulary="domains"),
    Field("district", "板块", "choice", required=False, vocabulary="districts"),
    Field("industry", "产业方向", "choice", required=False, vocabulary="industries"),
    Field(
        "category", "场景类别", "choice", required=False, vocabulary="scene_categories"
    ),
    Field("kind", "场景类型", "choice", required=False, vocabulary="scene_kinds"),
    Field(
        "funding_source",
        "资金来源",
        "choice",
        required=False,
        vocabulary="funding_sources",
    ),
    Field("budget_min", "最低预算", "money", required=False),
    Field("budget_max", "最高预算", "money", required=False),
)


def assign(scene: Scene, values: dict[str, Any], today: date) -> None:
    """Copy validated values onto a scene; a changed deadline must lie ahead."""
    if "deadline" in values and values["deadline"] != scene.deadline:
        check_deadline(values["deadline"], today)
    for name, value in values.items():
        setattr(scene, name, value)


def apply_filters(statement: sa.Select[Any], filters: dict[str, Any]) -> sa.Select[Any]:
    for name in ("domain", "district", "category", "kind", "funding_source"):
        if filters.get(name):
            statement = statement.where(getattr(Scene, name) == filters[name])
    if filters.get("industry"):
        statement = statement.where(
            Scene.id.in_(
                sa.select(SceneIndustry.scene_id).where(
                    SceneIndustry.name == filters["industry"]
                )
            )
        )
    if filters.get("budget_min") is not None:
        statement = statement.where(Scene.budget >= filters["budget_min"])
    if filters.get("budget_max") is not None:
        statement = statement.where(Scene.budget <= filters["budget_max"])
    return statement


def scene_to_json(scene: Scene, actor: Any) -> dict[str, Any]:
    show_contact = can_see_contact(actor, scene)
    return {
        "id": scene.id,
        "title": scene.title,
        "description": scene.description,
        "category": scene.category,
        "domain": scene.domain,
        "kind": scene.kind,
        "industries": scene.industries,
        "district": scene.district,
        "budget": None if scene.budget is None else f"{scene.budget:.2f}",
        "funding_source": scene.funding_source,
        "deadline": scene.deadline.isoformat(),
        "status": scene.status,
        "status_label": STATUS_LABELS[scene.status],
        "organization_id": scene.organization_id,
        "organization_name": scene.organization.name,
        "contact_public": scene.contact_public,
        "contact_name": scene.contact_name if show_contact else None,
        "contact_phone": scene.contact_phone if show_contact else None,
        "contact_email": scene.contact_email if show_contact else None,
        "published_at": scene.published_at.isoformat() if scene.published_at else None,
        "created_at": scene.created_at.isoformat(),
        "updated_at": scene.updated_at.isoformat(),
    }
