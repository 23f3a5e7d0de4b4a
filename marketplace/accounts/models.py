from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime
from marketplace.organizations.models import Organization

ROLES: dict[str, str] = {
    "admin": "系统管理员",
    "center": "场景创新促进中心",
    "reviewer": "审核部门（发改委、财政局）",
    "unit": "场景应用单位",
    "vendor": "场景能力企业",
}


class User(Base):
    __tablename__ = "users"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    username: orm.Mapped[str] = orm.mapped_column(sa.String(50), unique=True)
    display_name: orm.Mapped[str] = orm.mapped_column(sa.String(50), default="")
    password_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    role: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    organization_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("organizations.id")
    )
    active: orm.Mapped[bool] = orm.mapped_column(default=True)
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    # Where notification digests go (none: in-app only), and how often: daily,
    # weekly or off (marketplace/notifications).
    email: orm.Mapped[str | None] = orm.mapped_column(sa.String(254))
    digest_frequency: orm.Mapped[str] = orm.mapped_column(
        sa.String(10), default="daily", server_default="daily"
    )

    organization: orm.Mapped[Organization | None] = orm.relationship(lazy="joined")

    @property
    def display_label(self) -> str:
        return self.display_name or self.username

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


class UserSession(Base):
    """A revocable login: a browser session or an API token.

    Only a SHA-256 of the secret is stored, so a copy of the database opens no session.
    """

    __tablename__ = "user_sessions"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    secret_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    user_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(10))
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    expires_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())

    user: orm.Mapped[User] = orm.relationship(lazy="joined")


class LoginAttempt(Base):
    """Failed log-ins, counted in the database so every worker sees the same count."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_username_at", "username", "at"),
        sa.Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    username: orm.Mapped[str] = orm.mapped_column(sa.String(50))
    remote_addr: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="")
    at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
