"""Subsidies: quotes of projects against the support rules, the awards reviewers
approve from them, and the admin's versions of guideline tier values.

Revision ID: dddb2c7e5233
Revises: 3a7d9c2e5f14
Create Date: 2026-12-03 16:52:10.185062
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from marketplace.db import UTCDateTime

revision: str = "dddb2c7e5233"
down_revision: str | None = "3a7d9c2e5f14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subsidy_guidelines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_subsidy_guidelines_set_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_guidelines")),
        sa.UniqueConstraint(
            "target", "version", name=op.f("uq_subsidy_guidelines_target")
        ),
    )
    with op.batch_alter_table("subsidy_guidelines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_guidelines_target"), ["target"], unique=False
        )

    op.create_table(
        "subsidy_quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("insurer_id", sa.Integer(), nullable=True),
        sa.Column("scene_id", sa.Integer(), nullable=True),
        sa.Column("application_date", sa.Date(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("awarded_by", sa.Integer(), nullable=True),
        sa.Column("awarded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("award_comment", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["organizations.id"],
            name=op.f("fk_subsidy_quotes_applicant_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["awarded_by"],
            ["users.id"],
            name=op.f("fk_subsidy_quotes_awarded_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_subsidy_quotes_created_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["insurer_id"],
            ["organizations.id"],
            name=op.f("fk_subsidy_quotes_insurer_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organizations.id"],
            name=op.f("fk_subsidy_quotes_provider_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name=op.f("fk_subsidy_quotes_scene_id_scenes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_quotes")),
    )
    with op.batch_alter_table("subsidy_quotes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_quotes_applicant_id"), ["applicant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_quotes_scene_id"), ["scene_id"], unique=False
        )

    op.create_table(
        "subsidy_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=60), nullable=False),
        sa.Column("policy", sa.String(length=40), nullable=False),
        sa.Column("exclusion_group", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=60), nullable=False),
        sa.Column("recipient_name", sa.String(length=120), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("base", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("application_date", sa.Date(), nullable=False),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["subsidy_quotes.id"],
            name=op.f("fk_subsidy_awards_quote_id_subsidy_quotes"),
        ),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name=op.f("fk_subsidy_awards_scene_id_scenes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_awards")),
    )
    with op.batch_alter_table("subsidy_awards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_awards_quote_id"), ["quote_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_awards_recipient"), ["recipient"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_awards_scene_id"), ["scene_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subsidy_awards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_awards_scene_id"))
        batch_op.drop_index(batch_op.f("ix_subsidy_awards_recipient"))
        batch_op.drop_index(batch_op.f("ix_subsidy_awards_quote_id"))

    op.drop_table("subsidy_awards")
    with op.batch_alter_table("subsidy_quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_quotes_scene_id"))
        batch_op.drop_index(batch_op.f("ix_subsidy_quotes_applicant_id"))

    op.drop_table("subsidy_quotes")
    with op.batch_alter_table("subsidy_guidelines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_guidelines_target"))

    op.drop_table("subsidy_guidelines")
