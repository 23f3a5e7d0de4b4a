"""The audit log: every change of state, who made it, when, from what to what."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    actor_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # A snapshot, so the log still reads correctly after a user is renamed or removed.
    actor_name: orm.Mapped[str] = orm.mapped_column(sa.String(100))
    action: orm.Mapped[str] = orm.mapped_column(sa.String(60), index=True)
    object_type: orm.Mapped[str] = orm.mapped_column(sa.String(40))
    object_id: orm.Mapped[int | None]
    before: orm.Mapped[str | None] = orm.mapped_column(sa.String(40))
    after: orm.Mapped[str | None] = orm.mapped_column(sa.String(40))
    comment: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    details: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON, default=dict)


SYSTEM_ACTOR = "系统"


def record(
    session: orm.Session,
    actor: Any,
    action: str,
    object_type: str,
    object_id: int | None,
    *,
    at: datetime,
    before: str | None = None,
    after: str | None = None,
    comment: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; `actor` is a User or None for the system."""
    entry = AuditEntry(
        at=at,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.display_label if actor is not None else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        comment=comment,
        details=details or {},
    )
    session.add(entry)
    return entry


def list_entries(
    session: orm.Session, object_type: str, object_id: int
) -> list[AuditEntry]:
    """The history of one object, oldest first."""
    query = (
        sa.select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(session.scalars(query))
