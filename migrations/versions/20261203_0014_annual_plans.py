"""Annual scene construction plans: a municipal unit's goods-procurement budget for a
year, its lines (scenes and amounts) and the two review bodies' decisions.

Revision ID: fd08ec81529c
Revises: dddb2c7e5233
Create Date: 2026-12-03 17:17:21.255924
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from marketplace.db import UTCDateTime

revision: str = "fd08ec81529c"
down_revision: str | None = "dddb2c7e5233"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annual_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "procurement_budget", sa.Numeric(precision=14, scale=2), nullable=False
        ),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_annual_plans_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_annual_plans_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["annual_plans.id"],
            name=op.f("fk_annual_plans_replaces_id_annual_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annual_plans")),
        sa.UniqueConstraint(
            "organization_id",
            "year",
            "version",
            name=op.f("uq_annual_plans_organization_id"),
        ),
    )
    with op.batch_alter_table("annual_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_annual_plans_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "plan_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["annual_plans.id"],
            name=op.f("fk_plan_lines_plan_id_annual_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name=op.f("fk_plan_lines_scene_id_scenes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_lines")),
        sa.UniqueConstraint("plan_id", "scene_id", name=op.f("uq_plan_lines_plan_id")),
    )
    with op.batch_alter_table("plan_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_lines_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "plan_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["annual_plans.id"],
            name=op.f("fk_plan_reviews_plan_id_annual_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_plan_reviews_reviewer_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reviews")),
        sa.UniqueConstraint(
            "plan_id", "review_round", "body", name=op.f("uq_plan_reviews_plan_id")
        ),
    )
    with op.batch_alter_table("plan_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_reviews_plan_id"), ["plan_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_reviews_plan_id"))

    op.drop_table("plan_reviews")
    with op.batch_alter_table("plan_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_lines_plan_id"))

    op.drop_table("plan_lines")
    with op.batch_alter_table("annual_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annual_plans_organization_id"))

    op.drop_table("annual_plans")
