"""Capability use cases: the shared item workflow, configured for capabilities."""

from datetime import datetime
from typing import Any

from sqlalchemy import orm

from marketplace import audit, policy
from marketplace.capabilities import schemas
from marketplace.capabilities.models import Capability
from marketplace.errors import Conflict
from marketplace.items import services as items

CAPABILITIES = items.ItemKind(
    name="capability",
    plural="capabilities",
    label="场景能力",
    model=Capability,
    owner_role="vendor",
    fields=schemas.CAPABILITY_FIELDS,
    assign=schemas.assign,
    filters=schemas.apply_filters,
    filter_fields=schemas.FILTER_FIELDS,
    to_json=schemas.capability_to_json,
    tags="tag_links",
)


def renew_capability(
    session: orm.Session, actor: Any, capability_id: int, *, now: datetime
) -> Capability:
    """The vendor confirms a published capability is still on offer.

    A capability neither updated nor renewed for a year leaves the next edition of the
    list (the renewal rule of the publication).
    """
    capability = items.get_visible_item(
        session, CAPABILITIES, actor, capability_id, for_update=True
    )
    policy.require(
        actor, "capability.edit", capability, message="只有提供单位可以续期此能力"
    )
    if capability.status != "published":
        raise Conflict("只有已发布的能力需要续期", code="not_renewable")
    audit.record(
        session, actor, "capability.renew", "capability", capability.id, at=now
    )
    capability.updated_at = now
    return capability
