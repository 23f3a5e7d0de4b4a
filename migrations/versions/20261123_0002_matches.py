"""Matching: feedback marks, fitted weights, index version counters, and an index on
updated_at so workers read only what changed since their last look.

Revision ID: 36ad4aea4c04
Revises: 955c20648c96
Create Date: 2026-11-23 17:44:58.732771
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "36ad4aea4c04"
down_revision: str | None = "955c20648c96"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "match_index_versions",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_match_index_versions")),
    )
    op.create_table(
        "match_weights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_weights")),
    )
    op.create_table(
        "match_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("capability_id", sa.Integer(), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["capability_id"],
            ["capabilities.id"],
            name=op.f("fk_match_feedback_capability_id_capabilities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scene_id"],
            ["scenes.id"],
            name=op.f("fk_match_feedback_scene_id_scenes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_match_feedback_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_feedback")),
        sa.UniqueConstraint(
            "scene_id",
            "capability_id",
            "source",
            name=op.f("uq_match_feedback_scene_id"),
        ),
    )
    with op.batch_alter_table("match_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_feedback_capability_id"),
            ["capability_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_match_feedback_scene_id"), ["scene_id"], unique=False
        )
    op.create_index("ix_scenes_updated_at", "scenes", ["updated_at"])
    op.create_index("ix_capabilities_updated_at", "capabilities", ["updated_at"])
    versions = sa.table("match_index_versions", sa.column("kind"), sa.column("version"))
    op.bulk_insert(
        versions,
        [
            {"kind": kind, "version": 0}
            for kind in ("scenes", "capabilities", "weights")
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_capabilities_updated_at", "capabilities")
    op.drop_index("ix_scenes_updated_at", "scenes")

    with op.batch_alter_table("match_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_feedback_scene_id"))
        batch_op.drop_index(batch_op.f("ix_match_feedback_capability_id"))

    op.drop_table("match_feedback")
    op.drop_table("match_weights")
    op.drop_table("match_index_versions")
