"""Indexes the dashboard's funnel reads by: a scene's meetings by outcome and its
pairings by status (10,000 scenes against 4,000 meetings scanned every meeting once
per scene on SQLite).

Revision ID: 8e2c4a6f1b39
Revises: 5b9d3f2e7a18
Create Date: 2026-12-04 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8e2c4a6f1b39"
down_revision: str | None = "5b9d3f2e7a18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_event_meetings_scene_outcome", "event_meetings", ["scene_id", "outcome"]
    )
    op.create_index(
        "ix_event_pairings_scene_status", "event_pairings", ["scene_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_event_pairings_scene_status", table_name="event_pairings")
    op.drop_index("ix_event_meetings_scene_outcome", table_name="event_meetings")
