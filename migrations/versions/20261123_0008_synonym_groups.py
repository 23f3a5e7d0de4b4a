"""Synonym groups the promotion center adds beside the bundled table.

Revision ID: 10facd8956a4
Revises: 8d20e2749c66
Create Date: 2026-11-23 22:29:04.601025
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "10facd8956a4"
down_revision: str | None = "8d20e2749c66"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "synonym_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_synonym_groups_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synonym_groups")),
    )


def downgrade() -> None:
    op.drop_table("synonym_groups")
