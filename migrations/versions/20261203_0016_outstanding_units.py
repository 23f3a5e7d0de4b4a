"""Annual plans: the reviewers' mark that a unit's scene work in the year was
outstanding (scene measures art. 1: priority for next year's budget).

Revision ID: 7c4e2b9a1f60
Revises: 161b811a969b
Create Date: 2026-12-03 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c4e2b9a1f60"
down_revision: str | None = "161b811a969b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN, not a batch copy: SQLite would drop and recreate annual_plans, which
    # fails while plan lines refer to it (foreign keys are enforced).
    op.add_column(
        "annual_plans",
        sa.Column(
            "outstanding", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.add_column(
        "annual_plans",
        sa.Column(
            "outstanding_note", sa.String(length=500), nullable=False, server_default=""
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("annual_plans") as batch:
        batch.drop_column("outstanding_note")
        batch.drop_column("outstanding")
