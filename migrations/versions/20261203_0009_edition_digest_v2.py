"""Edition digests of version 2, signed chain heads, and edition items that cannot
be inserted after publication (issue 12 #10).

Editions published before keep digest version 1 and verify as they were; `flask
migrate` signs the head of each list that has editions.

Revision ID: b7c1e2d4f5a6
Revises: 10facd8956a4
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c1e2d4f5a6"
down_revision: str | None = "10facd8956a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Publication inserts positions 0 .. item_count - 1 in the edition's own
# transaction, and (edition_id, position) is the primary key: any later insert
# repeats a position (refused by the key) or lies beyond the count (refused here).
REFUSED = (
    "NEW.position < 0 OR NEW.position >= COALESCE("
    "(SELECT item_count FROM editions WHERE id = NEW.edition_id), 0)"
)


def upgrade() -> None:
    # A constant default fills existing rows without an UPDATE, so the triggers
    # that refuse changes to editions do not fire.
    op.add_column(
        "editions",
        sa.Column("digest_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "edition_heads",
        sa.Column("list_kind", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("edition_count", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("list_kind", name=op.f("pk_edition_heads")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER edition_items_no_insert BEFORE INSERT ON edition_items "
            f"WHEN {REFUSED} BEGIN SELECT RAISE(ABORT, 'published editions are "
            "immutable'); END"
        )
        return
    op.execute(
        "CREATE FUNCTION refuse_edition_item_insert() RETURNS trigger AS $$ BEGIN "
        f"IF {REFUSED} THEN RAISE EXCEPTION 'published editions are immutable'; "
        "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE TRIGGER edition_items_no_insert BEFORE INSERT ON edition_items "
        "FOR EACH ROW EXECUTE FUNCTION refuse_edition_item_insert()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS edition_items_no_insert")
    else:
        op.execute("DROP TRIGGER IF EXISTS edition_items_no_insert ON edition_items")
        op.execute("DROP FUNCTION IF EXISTS refuse_edition_item_insert()")
    op.drop_table("edition_heads")
    # A native DROP COLUMN (SQLite 3.35+): a batch rebuild would lose the triggers.
    op.execute("ALTER TABLE editions DROP COLUMN digest_version")
