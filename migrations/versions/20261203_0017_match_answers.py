"""Match answers computed ahead and shared by every worker (the matches API reads
one row for an item no worker has answered yet).

Revision ID: 3e8f1a6c2d47
Revises: 7c4e2b9a1f60
Create Date: 2026-12-03 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e8f1a6c2d47"
down_revision: str | None = "7c4e2b9a1f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_answers",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "item_id", "k", name=op.f("pk_match_answers")),
    )


def downgrade() -> None:
    op.drop_table("match_answers")
