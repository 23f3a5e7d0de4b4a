"""Editions of the lists (immutable: triggers refuse UPDATE and DELETE), their items
and files, publication schedules, and the record of job runs.

Revision ID: 86bdeecdf012
Revises: 36ad4aea4c04
Create Date: 2026-11-23 18:00:18.926378
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "86bdeecdf012"
down_revision: str | None = "36ad4aea4c04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_kind", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=40), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=100), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("previous_digest", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editions")),
        sa.UniqueConstraint("digest", name=op.f("uq_editions_digest")),
        sa.UniqueConstraint("list_kind", "period_key", name="uq_editions_list_period"),
        sa.UniqueConstraint(
            "list_kind", "year", "sequence", name="uq_editions_list_year_sequence"
        ),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=60), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_runs_job_started", ["job_id", "started_at"], unique=False
        )

    op.create_table(
        "publication_schedules",
        sa.Column("list_kind", sa.String(length=20), nullable=False),
        sa.Column("cadence", sa.String(length=20), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("list_kind", name=op.f("pk_publication_schedules")),
    )
    op.create_table(
        "edition_files",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_files_edition_id_editions"),
        ),
        sa.PrimaryKeyConstraint("edition_id", "format", name=op.f("pk_edition_files")),
    )
    op.create_table(
        "edition_items",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_items_edition_id_editions"),
        ),
        sa.PrimaryKeyConstraint(
            "edition_id", "position", name=op.f("pk_edition_items")
        ),
    )
    protect_published_rows()


IMMUTABLE = ("editions", "edition_items", "edition_files")


def protect_published_rows() -> None:
    """Published editions never change: the database itself refuses it."""
    if op.get_bind().dialect.name == "sqlite":
        for table in IMMUTABLE:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON "
                    f"{table} BEGIN SELECT RAISE(ABORT, 'published editions are "
                    "immutable'); END"
                )
        return
    op.execute(
        "CREATE FUNCTION refuse_edition_change() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'published editions are immutable'; END $$ LANGUAGE plpgsql"
    )
    for table in IMMUTABLE:
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_edition_change()"
        )


def unprotect_published_rows() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in IMMUTABLE:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
        return
    for table in IMMUTABLE:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    op.execute("DROP FUNCTION IF EXISTS refuse_edition_change()")


def downgrade() -> None:
    unprotect_published_rows()

    op.drop_table("edition_items")
    op.drop_table("edition_files")
    op.drop_table("publication_schedules")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_job_started")

    op.drop_table("job_runs")
    op.drop_table("editions")
