"""The promotion center's annual quantified work list (年度工作量化清单, scene measures
2(五)): indicators with targets, evidence for what the platform cannot count, and the
year-end performance report that the Development and Reform Commission weighs and
approves. A sub-centre (分中心) has a list of its own, scoped to its domain."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime

# The status of the list and, from submission on, of its year-end report.
LIST_STATUSES = {
    "draft": "编制中",
    "submitted": "绩效报告待审定",
    "returned": "绩效报告已退回",
    "approved": "绩效报告已审定",
}
CITY_SCOPE = ""  # the center's own list; a sub-centre's scope is its domain


class WorkList(Base):
    __tablename__ = "work_lists"
    __table_args__ = (sa.UniqueConstraint("year", "scope"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    year: orm.Mapped[int]
    scope: orm.Mapped[str] = orm.mapped_column(sa.String(40), default=CITY_SCOPE)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="draft")
    created_by: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    updated_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    submitted_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())
    decided_by: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    decided_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())
    decision_comment: orm.Mapped[str] = orm.mapped_column(sa.String(2000), default="")

    indicators: orm.Mapped[list["WorkIndicator"]] = orm.relationship(
        back_populates="work_list",
        cascade="all, delete-orphan",
        order_by="WorkIndicator.position",
    )


class WorkIndicator(Base):
    __tablename__ = "work_indicators"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    work_list_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("work_lists.id", ondelete="CASCADE"), index=True
    )
    # A measure the platform counts (see indicators.MEASURES) or "evidence": the
    # actual is the sum of the quantities of its evidence.
    measure: orm.Mapped[str] = orm.mapped_column(sa.String(40))
    label: orm.Mapped[str] = orm.mapped_column(sa.String(100))
    unit: orm.Mapped[str] = orm.mapped_column(sa.String(10))
    target: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(16, 2))
    # Set by the reviewer for the performance score; 0 until then.
    weight: orm.Mapped[Decimal] = orm.mapped_column(sa.Numeric(6, 2), default=0)
    position: orm.Mapped[int] = orm.mapped_column(default=0)
    # Kept when the report is approved, so later records do not change it.
    approved_actual: orm.Mapped[Decimal | None] = orm.mapped_column(sa.Numeric(16, 2))

    work_list: orm.Mapped[WorkList] = orm.relationship(back_populates="indicators")
    evidence: orm.Mapped[list["WorkEvidence"]] = orm.relationship(
        back_populates="indicator",
        cascade="all, delete-orphan",
        order_by="WorkEvidence.id",
    )


class WorkEvidence(Base):
    __tablename__ = "work_evidence"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    indicator_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("work_indicators.id", ondelete="CASCADE"), index=True
    )
    description: orm.Mapped[str] = orm.mapped_column(sa.String(2000))
    # Counted into the actual of an evidence indicator; a note on a counted one.
    quantity: orm.Mapped[Decimal | None] = orm.mapped_column(sa.Numeric(16, 2))
    happened_on: orm.Mapped[date] = orm.mapped_column(sa.Date)
    reference: orm.Mapped[str] = orm.mapped_column(sa.String(500), default="")
    recorded_by: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"))
    recorded_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())

    indicator: orm.Mapped[WorkIndicator] = orm.relationship(back_populates="evidence")
