"""Unified price inquiries on approved plan lines: invitations, sealed quotes, the
chosen quote with its reason, the contract and the payments.

Revision ID: 161b811a969b
Revises: fd08ec81529c
Create Date: 2026-12-03 17:31:17.080615
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from marketplace.db import UTCDateTime

revision: str = "161b811a969b"
down_revision: str | None = "fd08ec81529c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_line_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("chosen_quote_id", sa.Integer(), nullable=True),
        sa.Column("choice_reason", sa.String(length=2000), nullable=False),
        sa.Column("contract_number", sa.String(length=100), nullable=False),
        sa.Column("contract_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("contract_signed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_inquiries_opened_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["plan_line_id"],
            ["plan_lines.id"],
            name=op.f("fk_inquiries_plan_line_id_plan_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiries")),
        sa.UniqueConstraint("plan_line_id", name=op.f("uq_inquiries_plan_line_id")),
    )
    op.create_table(
        "inquiry_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("capability_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["capability_id"],
            ["capabilities.id"],
            name=op.f("fk_inquiry_invitations_capability_id_capabilities"),
        ),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["inquiries.id"],
            name=op.f("fk_inquiry_invitations_inquiry_id_inquiries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_inquiry_invitations_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_invitations")),
        sa.UniqueConstraint(
            "inquiry_id",
            "organization_id",
            name=op.f("uq_inquiry_invitations_inquiry_id"),
        ),
    )
    with op.batch_alter_table("inquiry_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inquiry_invitations_inquiry_id"),
            ["inquiry_id"],
            unique=False,
        )

    op.create_table(
        "inquiry_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["inquiries.id"],
            name=op.f("fk_inquiry_payments_inquiry_id_inquiries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name=op.f("fk_inquiry_payments_recorded_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_payments")),
    )
    with op.batch_alter_table("inquiry_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inquiry_payments_inquiry_id"), ["inquiry_id"], unique=False
        )

    op.create_table(
        "inquiry_quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inquiry_id"],
            ["inquiries.id"],
            name=op.f("fk_inquiry_quotes_inquiry_id_inquiries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_inquiry_quotes_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["users.id"],
            name=op.f("fk_inquiry_quotes_submitted_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry_quotes")),
        sa.UniqueConstraint(
            "inquiry_id", "organization_id", name=op.f("uq_inquiry_quotes_inquiry_id")
        ),
    )
    with op.batch_alter_table("inquiry_quotes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inquiry_quotes_inquiry_id"), ["inquiry_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inquiry_quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inquiry_quotes_inquiry_id"))

    op.drop_table("inquiry_quotes")
    with op.batch_alter_table("inquiry_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inquiry_payments_inquiry_id"))

    op.drop_table("inquiry_payments")
    with op.batch_alter_table("inquiry_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inquiry_invitations_inquiry_id"))

    op.drop_table("inquiry_invitations")
    op.drop_table("inquiries")
