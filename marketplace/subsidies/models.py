"""Subsidy quotes, the awards reviewers approve from them, and the admin's versions of
the guideline values (tier bounds the policies leave to implementing rules)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime

QUOTE_STATUSES = {"quoted": "已测算", "awarded": "已审定"}


class SubsidyGuideline(Base):
    """One version of a guideline value: a rule's tiers or a policy cap's amount."""

    __tablename__ = "subsidy_guidelines"
    __table_args__ = (sa.UniqueConstraint("target", "version"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    # "rule:<rule id>" (value: list of tiers) or "policy:<policy>" (value: amount)
    target: orm.Mapped[str] = orm.mapped_column(sa.String(80), index=True)
    version: orm.Mapped[int]
    value: orm.Mapped[Any] = orm.mapped_column(sa.JSON)
    note: orm.Mapped[str] = orm.mapped_column(sa.String(500), default="")
    set_by: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    set_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())


class SubsidyQuote(Base):
    """A project quoted against the rulebook; a reviewer may approve it as awards."""

    __tablename__ = "subsidy_quotes"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    created_by: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    applicant_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("organizations.id"), index=True
    )
    provider_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("organizations.id")
    )
    insurer_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("organizations.id")
    )
    scene_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("scenes.id"), index=True
    )
    application_date: orm.Mapped[date] = orm.mapped_column(sa.Date)
    # What was asked, as the API received it after checking, and what was answered.
    request: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON)
    result: orm.Mapped[dict[str, Any]] = orm.mapped_column(sa.JSON)
    total: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(14, 2))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="quoted")
    awarded_by: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    awarded_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())
    award_comment: orm.Mapped[str] = orm.mapped_column(sa.String(500), default="")


class SubsidyAward(Base):
    """One paid line of an approved quote: what later quotes count against caps."""

    __tablename__ = "subsidy_awards"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    quote_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("subsidy_quotes.id"), index=True
    )
    rule_id: orm.Mapped[str] = orm.mapped_column(sa.String(60))
    policy: orm.Mapped[str] = orm.mapped_column(sa.String(40))
    exclusion_group: orm.Mapped[str] = orm.mapped_column(sa.String(40))
    # "org:<id>" or "district:<name>", as the quote engine keys recipients.
    recipient: orm.Mapped[str] = orm.mapped_column(sa.String(60), index=True)
    recipient_name: orm.Mapped[str] = orm.mapped_column(sa.String(120))
    scene_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("scenes.id"), index=True
    )
    amount: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(14, 2))
    base: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(16, 2))
    application_date: orm.Mapped[date] = orm.mapped_column(sa.Date)
    approved_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
