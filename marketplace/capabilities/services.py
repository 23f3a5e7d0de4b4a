"""Capability use cases: the shared item workflow, configured for capabilities."""

from marketplace.capabilities import schemas
from marketplace.capabilities.models import Capability
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
)
