from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime

# The IndexVersion kind bumped when the center's synonym groups change.
SYNONYMS_VERSION = "synonyms"


class IndexVersion(Base):
    """A counter per index, bumped in the same transaction as any change that alters
    what the index should hold; every worker compares it with the one it built."""

    __tablename__ = "match_index_versions"

    kind: orm.Mapped[str] = orm.mapped_column(sa.String(20), primary_key=True)
    version: orm.Mapped[int] = orm.mapped_column(default=0)


class MatchFeedback(Base):
    """A person's judgment of a proposed pairing; survives every recomputation."""

    __tablename__ = "match_feedback"
    __table_args__ = (sa.UniqueConstraint("scene_id", "capability_id", "source"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    scene_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("scenes.id", ondelete="CASCADE"), index=True
    )
    capability_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("capabilities.id", ondelete="CASCADE"), index=True
    )
    relevant: orm.Mapped[bool]
    # "center" for a promotion-center officer's mark; meeting outcomes come later.
    source: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="center")
    score: orm.Mapped[float | None]
    user_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())


class MatchWeights(Base):
    """Fitted feature weights; the newest row is the one in use."""

    __tablename__ = "match_weights"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    weights: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON)
    # {"scale", "intercept"} of the logistic curve fitted with the weights; rows from
    # before calibration have none and use the matcher's default curve.
    calibration: orm.Mapped[dict[str, float] | None] = orm.mapped_column(sa.JSON)
    metrics: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON, default=dict)
    pairs: orm.Mapped[int] = orm.mapped_column(default=0)
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())


def bump_index_version(session: orm.Session, kind: str) -> None:
    """Tell every worker that index `kind` changed (in the caller's transaction)."""
    updated = session.execute(
        sa.update(IndexVersion)
        .where(IndexVersion.kind == kind)
        .values(version=IndexVersion.version + 1)
    )
    if not updated.rowcount:
        session.add(IndexVersion(kind=kind, version=1))
        session.flush()


def read_index_versions(session: orm.Session) -> dict[str, int]:
    return dict(
        session.execute(sa.select(IndexVersion.kind, IndexVersion.version)).all()
    )


class SynonymGroup(Base):
    """Words the matcher reads as one, added by the promotion center beside the
    bundled table (`seed_data/synonyms.txt`); the first word is canonical."""

    __tablename__ = "synonym_groups"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    words: orm.Mapped[list[str]] = orm.mapped_column(sa.JSON)
    added_by_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    added_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    retired_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())


class ItemVector(Base):
    """An item's sentence vector (float32, L2-normalised), with the model that made
    it and a digest of the text it was made from: a vector of another model or of an
    older text is stale and is recomputed, never mixed with current ones."""

    __tablename__ = "item_vectors"

    kind: orm.Mapped[str] = orm.mapped_column(sa.String(20), primary_key=True)
    item_id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    model: orm.Mapped[str] = orm.mapped_column(sa.String(100))
    text_digest: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    vector: orm.Mapped[bytes] = orm.mapped_column(sa.LargeBinary)
    computed_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())


class MatchAnswer(Base):
    """A finished public answer (the JSON body) of the matches API, computed ahead
    by the job for every published item and shared by every worker and host.

    `stamp` says what it was computed from (the item's status and last edit, the
    versions of the index, weights and synonyms, and the model); a row whose stamp
    is not the item's current one is never served.
    """

    __tablename__ = "match_answers"

    kind: orm.Mapped[str] = orm.mapped_column(sa.String(20), primary_key=True)
    item_id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    k: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    stamp: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    body: orm.Mapped[bytes] = orm.mapped_column(sa.LargeBinary)
    computed_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
