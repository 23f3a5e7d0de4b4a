"""Events: how many people each organization sends (its delegations), and whether
participants who have not confirmed are scheduled.

Revision ID: 3a7d9c2e5f14
Revises: 8e4f2a6c1d37
Create Date: 2026-12-03 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3a7d9c2e5f14"
down_revision: str | None = "8e4f2a6c1d37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column(
                "schedule_unconfirmed",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(
            sa.Column(
                "delegates", sa.JSON(), nullable=False, server_default=sa.text("'{}'")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("delegates")
        batch.drop_column("schedule_unconfirmed")
