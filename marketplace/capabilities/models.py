import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base
from marketplace.items.models import ListingMixin

TAG_FIELDS = ("domains", "industries", "districts")


class CapabilityTag(Base):
    """One value of a capability's list fields (domains, industries, districts)."""

    __tablename__ = "capability_tags"
    __table_args__ = (
        sa.Index("ix_capability_tags_lookup", "field", "name", "capability_id"),
    )

    capability_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("capabilities.id", ondelete="CASCADE"), primary_key=True
    )
    field: orm.Mapped[str] = orm.mapped_column(sa.String(20), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(60), primary_key=True)
    position: orm.Mapped[int] = orm.mapped_column(default=0)


class Capability(ListingMixin, Base):
    __tablename__ = "capabilities"
    __table_args__ = (
        sa.Index("ix_capabilities_status_published", "status", "published_at"),
    )

    type: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    maturity: orm.Mapped[str] = orm.mapped_column(sa.String(20))

    tag_links: orm.Mapped[list[CapabilityTag]] = orm.relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by=(CapabilityTag.field, CapabilityTag.position),
    )

    def _tags(self, field: str) -> list[str]:
        return [link.name for link in self.tag_links if link.field == field]

    def set_tags(self, field: str, names: list[str]) -> None:
        # Reuse unchanged rows: a deleted and re-added row with the same key would
        # otherwise be an INSERT racing its own DELETE in one flush.
        existing = {link.name: link for link in self.tag_links if link.field == field}
        kept = [link for link in self.tag_links if link.field != field]
        for position, name in enumerate(names):
            link = existing.get(name) or CapabilityTag(field=field, name=name)
            link.position = position
            kept.append(link)
        self.tag_links = kept

    @property
    def keywords(self) -> list[str]:
        """Taxonomy terms that the search index includes with the text."""
        return [*self.domains, *self.industries]

    @property
    def domains(self) -> list[str]:
        return self._tags("domains")

    @property
    def industries(self) -> list[str]:
        return self._tags("industries")

    @property
    def districts(self) -> list[str]:
        return self._tags("districts")
