from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime


class Organization(Base):
    __tablename__ = "organizations"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(100), unique=True)
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    district: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    credit_code: orm.Mapped[str] = orm.mapped_column(sa.String(18), unique=True)
    contact_name: orm.Mapped[str] = orm.mapped_column(sa.String(50), default="")
    contact_phone: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="")
    contact_email: orm.Mapped[str] = orm.mapped_column(sa.String(120), default="")
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
