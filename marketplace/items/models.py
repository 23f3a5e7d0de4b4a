from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import UTCDateTime
from marketplace.items.workflow import PUBLIC_STATUSES
from marketplace.organizations.models import Organization


class ListingMixin:
    """Columns every listed item (scene opportunity or capability) carries."""

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    title: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    description: orm.Mapped[str] = orm.mapped_column(sa.Text)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), index=True)
    contact_name: orm.Mapped[str] = orm.mapped_column(sa.String(50), default="")
    contact_phone: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="")
    contact_email: orm.Mapped[str] = orm.mapped_column(sa.String(120), default="")
    contact_public: orm.Mapped[bool] = orm.mapped_column(default=False)
    # jieba words of title and description, space-separated, written with the item so
    # the full-text index (FTS5 / tsvector) never re-tokenises at query time.
    search_tokens: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    updated_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime(), index=True)
    published_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())

    @orm.declared_attr
    def organization_id(cls) -> orm.Mapped[int]:
        return orm.mapped_column(sa.ForeignKey("organizations.id"), index=True)

    @orm.declared_attr
    def organization(cls) -> orm.Mapped[Organization]:
        return orm.relationship(lazy="joined", innerjoin=True)

    @orm.declared_attr
    def created_by_id(cls) -> orm.Mapped[int | None]:
        return orm.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES
