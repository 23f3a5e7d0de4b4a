"""The promotion center's annual quantified work lists, their indicators and the
evidence officers add for what the platform cannot count.

Revision ID: 5b9d3f2e7a18
Revises: 3e8f1a6c2d47
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from marketplace.db import UTCDateTime

revision: str = "5b9d3f2e7a18"
down_revision: str | None = "3e8f1a6c2d47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_work_lists_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_work_lists_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_lists")),
        sa.UniqueConstraint("year", "scope", name=op.f("uq_work_lists_year")),
    )
    op.create_table(
        "work_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_list_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("approved_actual", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_list_id"],
            ["work_lists.id"],
            name=op.f("fk_work_indicators_work_list_id_work_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_indicators")),
    )
    op.create_index(
        op.f("ix_work_indicators_work_list_id"), "work_indicators", ["work_list_id"]
    )
    op.create_table(
        "work_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["work_indicators.id"],
            name=op.f("fk_work_evidence_indicator_id_work_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name=op.f("fk_work_evidence_recorded_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_evidence")),
    )
    op.create_index(
        op.f("ix_work_evidence_indicator_id"), "work_evidence", ["indicator_id"]
    )


def downgrade() -> None:
    op.drop_table("work_evidence")
    op.drop_table("work_indicators")
    op.drop_table("work_lists")
