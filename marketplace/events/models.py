"""Matchmaking events (分领域供需对接会): participants, pairings, meetings, outcomes.

The database guards what the planner promises: one row per participant per event,
one pairing per scene and capability, and no (slot, table), (slot, scene) or
(slot, capability) held twice, so even two schedulers racing cannot double-book.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.capabilities.models import Capability
from marketplace.db import Base, UTCDateTime
from marketplace.scenes.models import Scene

EVENT_STATUSES = {"planning": "筹备中", "scheduled": "已排期", "closed": "已结束"}
INVITATION_STATUSES = {"invited": "待确认", "accepted": "已接受", "declined": "已谢绝"}
PAIRING_STATUSES = {"proposed": "建议", "locked": "已锁定", "removed": "已移除"}
OUTCOMES = {
    "no_show": "未出席",
    "no_interest": "无意向",
    "follow_up": "持续跟进",
    "intent": "达成意向",
    "signed": "签约",
}


class Event(Base):
    __tablename__ = "events"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    domain: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    date: orm.Mapped[date] = orm.mapped_column(sa.Date, index=True)
    venue: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    # [{"start": "09:00", "end": "11:30"}, ...] in order; slots count across them.
    sessions: orm.Mapped[list[dict[str, str]]] = orm.mapped_column(sa.JSON)
    meeting_minutes: orm.Mapped[int]
    tables: orm.Mapped[int]
    max_meetings_per_scene: orm.Mapped[int]
    max_meetings_per_capability: orm.Mapped[int]
    min_score: orm.Mapped[float]
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="planning")
    # Participants who have not accepted their invitation get meetings only when
    # the center says so.
    schedule_unconfirmed: orm.Mapped[bool] = orm.mapped_column(
        default=False, server_default=sa.false()
    )
    # People an organization sends, by organization id (as text, JSON keys); absent
    # means one: an organization is in one meeting at a time per person.
    delegates: orm.Mapped[dict[str, int]] = orm.mapped_column(
        sa.JSON, default=dict, server_default=sa.text("'{}'")
    )
    # The last proposal's totals and the last schedule's report (unplaced, moved).
    proposal_summary: orm.Mapped[dict[str, Any]] = orm.mapped_column(
        sa.JSON, default=dict
    )
    schedule_report: orm.Mapped[dict[str, Any]] = orm.mapped_column(
        sa.JSON, default=dict
    )
    created_by_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    updated_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())

    participants: orm.Mapped[list["EventParticipant"]] = orm.relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="EventParticipant.id",
    )

    @property
    def status_label(self) -> str:
        return EVENT_STATUSES.get(self.status, self.status)


class EventParticipant(Base):
    """A scene or a capability taking part; its organization answers the invitation."""

    __tablename__ = "event_participants"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "scene_id", name="uq_event_participants_scene"),
        sa.UniqueConstraint(
            "event_id", "capability_id", name="uq_event_participants_capability"
        ),
        sa.CheckConstraint(
            "(scene_id IS NULL) <> (capability_id IS NULL)", name="one_item"
        ),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    event_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    scene_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("scenes.id", ondelete="CASCADE")
    )
    capability_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("capabilities.id", ondelete="CASCADE")
    )
    organization_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("organizations.id"), index=True
    )
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="invited")
    # None: available throughout; else [{"start": "HH:MM", "end": "HH:MM"}, ...].
    availability: orm.Mapped[list[dict[str, str]] | None] = orm.mapped_column(sa.JSON)
    responded_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())

    event: orm.Mapped[Event] = orm.relationship(back_populates="participants")
    scene: orm.Mapped[Scene | None] = orm.relationship(lazy="joined")
    capability: orm.Mapped[Capability | None] = orm.relationship(lazy="joined")

    @property
    def kind(self) -> str:
        return "scene" if self.scene_id is not None else "capability"

    @property
    def item(self) -> Any:
        return self.scene if self.scene_id is not None else self.capability

    @property
    def item_id(self) -> int:
        return self.scene_id if self.scene_id is not None else self.capability_id  # type: ignore[return-value]

    @property
    def status_label(self) -> str:
        return INVITATION_STATUSES.get(self.status, self.status)


class EventPairing(Base):
    """A proposed, locked, hand-added or removed pairing of a scene and a capability.

    Removed pairings stay as rows so a later proposal does not bring them back.
    """

    __tablename__ = "event_pairings"
    __table_args__ = (
        sa.UniqueConstraint(
            "event_id", "scene_id", "capability_id", name="uq_event_pairings_pair"
        ),
        sa.Index("ix_event_pairings_scene_status", "scene_id", "status"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    event_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    scene_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("scenes.id"))
    capability_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("capabilities.id"))
    score: orm.Mapped[float] = orm.mapped_column(default=0.0)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="proposed")
    # "matcher" for the solver's proposals, "center" for pairings added by hand.
    source: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="matcher")
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())

    scene: orm.Mapped[Scene] = orm.relationship(lazy="joined")
    capability: orm.Mapped[Capability] = orm.relationship(lazy="joined")

    @property
    def status_label(self) -> str:
        return PAIRING_STATUSES.get(self.status, self.status)


class EventMeeting(Base):
    """A scheduled 1:1 meeting, and after the event its outcome."""

    __tablename__ = "event_meetings"
    __table_args__ = (
        sa.UniqueConstraint(
            "event_id", "slot", "table_number", name="uq_event_meetings_table"
        ),
        sa.UniqueConstraint(
            "event_id", "slot", "scene_id", name="uq_event_meetings_scene"
        ),
        sa.UniqueConstraint(
            "event_id", "slot", "capability_id", name="uq_event_meetings_capability"
        ),
        sa.UniqueConstraint(
            "event_id", "scene_id", "capability_id", name="uq_event_meetings_pair"
        ),
        sa.Index("ix_event_meetings_scene_outcome", "scene_id", "outcome"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    event_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    scene_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("scenes.id"))
    capability_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("capabilities.id"))
    slot: orm.Mapped[int]
    table_number: orm.Mapped[int]
    score: orm.Mapped[float] = orm.mapped_column(default=0.0)
    outcome: orm.Mapped[str | None] = orm.mapped_column(sa.String(20))
    amount: orm.Mapped[Decimal | None] = orm.mapped_column(sa.Numeric(14, 2))
    outcome_note: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    outcome_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())

    scene: orm.Mapped[Scene] = orm.relationship(lazy="joined")
    capability: orm.Mapped[Capability] = orm.relationship(lazy="joined")

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome or "", "未记录")
