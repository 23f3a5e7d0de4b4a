"""Annual scene construction plans (年度场景建设计划, scene measures art. 1):
a municipal unit's goods-procurement budget for a year, the scenes it puts in the
plan with their amounts, and the reviews of the Development and Reform Commission and
the Finance Bureau. An approved plan is frozen; a change is a new version reviewed
again."""

from datetime import datetime
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
