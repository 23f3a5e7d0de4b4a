from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime
from marketplace.editions.digest import DIGEST_VERSION

LISTS = {"scenes": "场景机会清单", "capabilities": "场景能力清单"}


class Edition(Base):
    """One published issue of a list. Never changed after insert (database triggers)."""

    __tablename__ = "editions"
    __table_args__ = (
        sa.UniqueConstraint(
            "list_kind", "year", "sequence", name="uq_editions_list_year_sequence"
        ),
        sa.UniqueConstraint("list_kind", "period_key", name="uq_editions_list_period"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    list_kind: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    year: orm.Mapped[int]
    sequence: orm.Mapped[int]
    # The scheduled period this edition publishes (None for "publish now").
    period_key: orm.Mapped[str | None] = orm.mapped_column(sa.String(40))
    published_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    published_by: orm.Mapped[str] = orm.mapped_column(sa.String(100))
    item_count: orm.Mapped[int]
    summary: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON)
    previous_digest: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    digest: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    # Which fields the digest covers (marketplace.editions.digest); editions
    # published before version 2 keep version 1 and verify as they were.
    digest_version: orm.Mapped[int] = orm.mapped_column(
        default=DIGEST_VERSION, server_default="1"
    )

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.sequence}期"

    @property
    def list_label(self) -> str:
        return LISTS[self.list_kind]


class EditionItem(Base):
    """The frozen public fields of one item in an edition, as canonical JSON text."""

    __tablename__ = "edition_items"

    edition_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("editions.id"), primary_key=True
    )
    position: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    item_id: orm.Mapped[int]
    payload: orm.Mapped[str] = orm.mapped_column(sa.Text)


class EditionHead(Base):
    """The latest edition of a list, signed with a key kept outside the database.

    The digest chain shows any change to an edition or its predecessors, but not
    the loss of the latest editions, nor a chain rewritten from some point on with
    fresh digests. The signed head does: it names the last digest and how many
    editions the chain holds, and nobody without the key can sign another.
    """

    __tablename__ = "edition_heads"

    list_kind: orm.Mapped[str] = orm.mapped_column(sa.String(20), primary_key=True)
    digest: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    edition_count: orm.Mapped[int]
    signature: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    signed_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())


class EditionFile(Base):
    """A generated download of an edition and its SHA-256, recorded once."""

    __tablename__ = "edition_files"

    edition_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("editions.id"), primary_key=True
    )
    format: orm.Mapped[str] = orm.mapped_column(sa.String(10), primary_key=True)
    sha256: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    size: orm.Mapped[int]
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())


class PublicationSchedule(Base):
    """When each list is published; the scheduler only asks this table what is due."""

    __tablename__ = "publication_schedules"

    list_kind: orm.Mapped[str] = orm.mapped_column(sa.String(20), primary_key=True)
    cadence: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="monthly")
    # Five-field cron (minute hour day month day_of_week) for cadence "cron".
    cron: orm.Mapped[str] = orm.mapped_column(sa.String(100), default="")
    enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    # Periods before this moment are never caught up (a new or changed schedule).
    effective_from: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
