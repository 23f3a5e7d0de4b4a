from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base
from marketplace.items.models import ListingMixin


class SceneIndustry(Base):
    __tablename__ = "scene_industries"
    __table_args__ = (sa.Index("ix_scene_industries_name", "name", "scene_id"),)

    scene_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True
    )
    name: orm.Mapped[str] = orm.mapped_column(sa.String(60), primary_key=True)
    position: orm.Mapped[int] = orm.mapped_column(default=0)


class Scene(ListingMixin, Base):
    __tablename__ = "scenes"
    __table_args__ = (
        sa.Index("ix_scenes_status_published", "status", "published_at"),
        sa.Index("ix_scenes_deadline", "deadline"),
    )

    category: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    domain: orm.Mapped[str] = orm.mapped_column(sa.String(20), index=True)
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    district: orm.Mapped[str] = orm.mapped_column(sa.String(20), index=True)
    # None means 面议 (to be negotiated).
    budget: orm.Mapped[Decimal | None] = orm.mapped_column(sa.Numeric(14, 2))
    funding_source: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    deadline: orm.Mapped[date] = orm.mapped_column(sa.Date)

    industry_links: orm.Mapped[list[SceneIndustry]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=SceneIndustry.position
    )

    @property
    def keywords(self) -> list[str]:
        """Taxonomy terms that the search index includes with the text."""
        return [self.domain, *self.industries]

    @property
    def industries(self) -> list[str]:
        return [link.name for link in self.industry_links]

    @industries.setter
    def industries(self, names: list[str]) -> None:
        existing = {link.name: link for link in self.industry_links}
        links = []
        for position, name in enumerate(names):
            link = existing.get(name) or SceneIndustry(name=name)
            link.position = position
            links.append(link)
        self.industry_links = links
