"""Notices to users, the digests that carry them by e-mail, and saved searches."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime

KINDS: dict[str, str] = {
    "deadline_reminder": "征集截止提醒",
    "renewal_request": "能力续期提醒",
    "strong_match": "新的高匹配",
    "saved_search": "保存的搜索有新结果",
    # Workflow steps (notifications.workflow).
    "item_submitted": "待审核",
    "item_returned": "退回修改",
    "item_approved": "审核通过",
    "item_published": "已发布",
    "item_withdrawn": "已撤回",
    "item_expired": "已到期",
    "item_progress": "进展更新",
    "event_invitation": "活动邀请",
    "pairing_proposed": "对接建议",
    "meeting_scheduled": "洽谈排期",
    "meeting_moved": "洽谈调整",
    "meeting_outcome": "洽谈结果",
}
FREQUENCIES: dict[str, str] = {
    "daily": "每日摘要",
    "weekly": "每周摘要（周一）",
    "off": "不发送邮件（仅站内通知）",
}
LISTS: dict[str, str] = {"scenes": "场景机会", "capabilities": "场景能力"}


class Notification(Base):
    """One notice to one user. The dedupe key makes a repeated job run a no-op: one
    notice per (user, kind, subject item, key), where the key names what the notice is
    about (the deadline, the renewal period, the counterpart, the saved search)."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id",
            "kind",
            "item_kind",
            "item_id",
            "key",
            name="uq_notifications_dedupe",
        ),
        sa.Index("ix_notifications_user_read", "user_id", "read_at"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    user_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    item_kind: orm.Mapped[str] = orm.mapped_column(sa.String(20))  # scene | capability
    item_id: orm.Mapped[int]
    key: orm.Mapped[str] = orm.mapped_column(sa.String(60), default="")
    title: orm.Mapped[str] = orm.mapped_column(sa.String(300))
    body: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    link: orm.Mapped[str] = orm.mapped_column(sa.String(300), default="")
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    read_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())
    # Set once, when a digest takes the notice: it is then never mailed again.
    digest_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey("notification_digests.id", ondelete="SET NULL"), index=True
    )

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


class Digest(Base):
    """One e-mail per user per period (`2026-11-23` daily, `2026-W48` weekly).

    pending → sending (claimed by one process) → sent; a failed attempt goes to
    failed and is retried; skipped when there is no address or no mail server.
    """

    __tablename__ = "notification_digests"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id", "period", name="uq_notification_digests_user_period"
        ),
        sa.Index("ix_notification_digests_status", "status", "created_at"),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    user_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    period: orm.Mapped[str] = orm.mapped_column(sa.String(10))
    frequency: orm.Mapped[str] = orm.mapped_column(sa.String(10))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(10))
    notice_count: orm.Mapped[int] = orm.mapped_column(default=0)
    recipient: orm.Mapped[str] = orm.mapped_column(sa.String(254), default="")
    attempts: orm.Mapped[int] = orm.mapped_column(default=0)
    last_error: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    claimed_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())
    sent_at: orm.Mapped[datetime | None] = orm.mapped_column(UTCDateTime())


class SavedSearch(Base):
    """A user's search of one list; new published items that match it become notices.

    `checked_until` is the high-water mark: items published after it are new.
    """

    __tablename__ = "saved_searches"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    user_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    list_kind: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(100))
    words: orm.Mapped[str] = orm.mapped_column(sa.String(200), default="")
    domain: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="")
    district: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="")
    created_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    checked_until: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())

    @property
    def list_label(self) -> str:
        return LISTS.get(self.list_kind, self.list_kind)
