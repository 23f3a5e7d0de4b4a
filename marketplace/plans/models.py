"""Annual scene construction plans (年度场景建设计划, scene measures art. 1):
a municipal unit's goods-procurement budget for a year, the scenes it puts in the
plan with their amounts, and the reviews of the Development and Reform Commission and
the Finance Bureau. An approved plan is frozen; a change is a new version reviewed
again."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime

PLAN_STATUSES = {
    "draft": "草稿",
    "submitted": "审核中",
    "returned": "已退回",
    "approved": "已审定",
    "superseded": "已被新版本替代",
}
REVIEW_BODIES = {"ndrc": "市发展改革委", "finance": "市财政局"}
DECISIONS = {"approved": "同意", "returned": "退回"}


class AnnualPlan(Base):
    __tablename__ = "annual_plans"
    __table_args__ = (sa.UniqueConstraint("organization_id", "year", "version"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    organization_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("organizations.id"), index=True
    )
    year: orm.Mapped[int]
    version: orm.Mapped[int] = orm.mapped_column(default=1)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="draft")
    procurement_budget: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(14, 2))
    # Each submission is a round; the reviews of a round decide it.
    review_round: orm.Mapped[int] = orm.mapped_column(default=0)
    replaces_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("annual_plans.id")
    )
    created_by: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    updated_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    approved_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())
    # Marked by a reviewer: the unit's scene work this year was outstanding (art. 1:
    # such units get next year's scene budget first, with more).
    outstanding: orm.Mapped[bool] = orm.mapped_column(
        default=False, server_default=sa.false()
    )
    outstanding_note: orm.Mapped[str] = orm.mapped_column(
        sa.String(500), default="", server_default=""
    )

    lines: orm.Mapped[list["PlanLine"]] = orm.relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        order_by="PlanLine.position",
    )
    reviews: orm.Mapped[list["PlanReview"]] = orm.relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanReview.id"
    )


class PlanLine(Base):
    __tablename__ = "plan_lines"
    __table_args__ = (sa.UniqueConstraint("plan_id", "scene_id"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    plan_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("annual_plans.id", ondelete="CASCADE"), index=True
    )
    scene_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("scenes.id"))
    amount: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(14, 2))
    position: orm.Mapped[int] = orm.mapped_column(default=0)

    plan: orm.Mapped[AnnualPlan] = orm.relationship(back_populates="lines")


class PlanReview(Base):
    """One review body's decision on one submission round of a plan."""

    __tablename__ = "plan_reviews"
    __table_args__ = (sa.UniqueConstraint("plan_id", "review_round", "body"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    plan_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("annual_plans.id", ondelete="CASCADE"), index=True
    )
    review_round: orm.Mapped[int]
    body: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    decision: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    comment: orm.Mapped[str] = orm.mapped_column(sa.String(2000), default="")
    reviewer_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"))
    at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())

    plan: orm.Mapped[AnnualPlan] = orm.relationship(back_populates="reviews")


INQUIRY_STATUSES = {
    "open": "询价中",
    "chosen": "已确定供应商",
    "contracted": "已签约",
    "completed": "已完成",
}


class Inquiry(Base):
    """Unified price inquiry (统一询价) for one line of an approved plan: the
    Development and Reform Commission invites capability enterprises, their quotes
    stay sealed until the closing time, one is chosen with a reason, and the contract
    and payments are recorded."""

    __tablename__ = "inquiries"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    plan_line_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("plan_lines.id"), unique=True
    )
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="open")
    opened_by: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"))
    opened_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    closes_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    # One of this inquiry's quotes (checked by the service: a foreign key here would
    # make the two tables refer to each other).
    chosen_quote_id: orm.Mapped[int | None]
    choice_reason: orm.Mapped[str] = orm.mapped_column(sa.String(2000), default="")
    contract_number: orm.Mapped[str] = orm.mapped_column(sa.String(100), default="")
    contract_amount: orm.Mapped[Decimal | None] = orm.mapped_column(sa.Numeric(14, 2))
    contract_signed_on: orm.Mapped[date | None] = orm.mapped_column(sa.Date)

    invitations: orm.Mapped[list["InquiryInvitation"]] = orm.relationship(
        cascade="all, delete-orphan", order_by="InquiryInvitation.id"
    )
    quotes: orm.Mapped[list["InquiryQuote"]] = orm.relationship(
        cascade="all, delete-orphan", order_by="InquiryQuote.id"
    )
    payments: orm.Mapped[list["InquiryPayment"]] = orm.relationship(
        cascade="all, delete-orphan", order_by="InquiryPayment.id"
    )


class InquiryInvitation(Base):
    __tablename__ = "inquiry_invitations"
    __table_args__ = (sa.UniqueConstraint("inquiry_id", "organization_id"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    inquiry_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    organization_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("organizations.id")
    )
    capability_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("capabilities.id")
    )


class InquiryQuote(Base):
    """An invited enterprise's quote; sealed until the inquiry closes. Quoting again
    before the close replaces the earlier quote."""

    __tablename__ = "inquiry_quotes"
    __table_args__ = (sa.UniqueConstraint("inquiry_id", "organization_id"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    inquiry_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    organization_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("organizations.id")
    )
    amount: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(14, 2))
    note: orm.Mapped[str] = orm.mapped_column(sa.String(2000), default="")
    submitted_by: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"))
    submitted_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())


class InquiryPayment(Base):
    __tablename__ = "inquiry_payments"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    inquiry_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    amount: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(14, 2))
    paid_on: orm.Mapped[date] = orm.mapped_column(sa.Date)
    final: orm.Mapped[bool] = orm.mapped_column(default=False)
    note: orm.Mapped[str] = orm.mapped_column(sa.String(500), default="")
    recorded_by: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"))
    recorded_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
