"""Failed sign-ins looked up by address as well as by account (throttling per account
and address together, issue 12 finding 11).

Revision ID: 8e4f2a6c1d37
Revises: 5d1c0e7a9b21
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8e4f2a6c1d37"
down_revision: str | None = "5d1c0e7a9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_login_attempts_remote_addr_at", "login_attempts", ["remote_addr", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_login_attempts_remote_addr_at", table_name="login_attempts")
