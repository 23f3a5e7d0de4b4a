"""Scene use cases: the shared item workflow, configured for scene opportunities."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.items import services as items
from marketplace.scenes import schemas
from marketplace.scenes.models import Scene

SCENES = items.ItemKind(
    name="scene",
    plural="scenes",
    label="场景机会",
    model=Scene,
    owner_role="unit",
    fields=schemas.SCENE_FIELDS,
    assign=schemas.assign,
    filters=schemas.apply_filters,
    filter_fields=schemas.FILTER_FIELDS,
    to_json=schemas.scene_to_json,
    tags="industry_links",
)


def expire_past_deadline(session: orm.Session, *, today: date, now: datetime) -> int:
    """Expire every open scene whose deadline has passed; returns how many."""
    expiring = session.scalars(
        sa.select(Scene)
        .where(
            Scene.deadline < today,
            Scene.status.in_(("submitted", "approved", "published")),
        )
        .with_for_update(of=Scene)
    ).all()
    for scene in expiring:
        items.apply_transition(
            session,
            SCENES,
            None,
            scene,
            "expired",
            comment=f"征集截止日期{scene.deadline}已过",
            now=now,
        )
    return len(expiring)
