from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime


class ImportBatch(Base):
    """An uploaded sheet, checked and waiting for the center to confirm it."""

    __tablename__ = "import_batches"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    filename: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    user_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: orm.Mapped[str] = orm.mapped_column(sa.String(10))  # preview | imported
    rows: orm.Mapped[list[dict[str, Any]]] = orm.mapped_column(sa.JSON)
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    expires_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    imported_ids: orm.Mapped[list[int]] = orm.mapped_column(sa.JSON, default=list)

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row["problems"])
