"""Where notices are written: one notice per (user, kind, item, key), inserted under a
lock after looking for what exists, so a repeated or concurrent run adds nothing twice.

Kept apart from the services that find notices, so the workflow (items, events) can
write its notices without importing the matcher and the searches.
"""

import zlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.accounts.models import User
from marketplace.notifications.models import Notification, SavedSearch


@dataclass(frozen=True)
class Notice:
    """A notice to store, unless one with the same dedupe key exists."""

    user_id: int
    kind: str
    item_kind: str
    item_id: int
    key: str
    title: str
    body: str
    link: str

    @property
    def dedupe_key(self) -> tuple[int, str, str, int, str]:
        return (self.user_id, self.kind, self.item_kind, self.item_id, self.key)


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lock(session: orm.Session, name: str) -> None:
    """Serialise one kind of write across processes, for this transaction."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(name.encode())
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        # The first statement opens the transaction, with BEGIN IMMEDIATE.
        session.execute(sa.text("SELECT 1"))


def recipients(
    session: orm.Session, organization_ids: set[int]
) -> dict[int, list[int]]:
    """The active users of each organization: who hears about its items."""
    result: dict[int, list[int]] = {}
    if not organization_ids:
        return result
    rows = session.execute(
        sa.select(User.organization_id, User.id)
        .where(User.organization_id.in_(organization_ids), User.active.is_(True))
        .order_by(User.id)
    )
    for organization_id, user_id in rows:
        result.setdefault(organization_id, []).append(user_id)
    return result


def staff_recipients(session: orm.Session, role: str) -> list[int]:
    """The active accounts of a staff role (the center's officers, say)."""
    return list(
        session.scalars(
            sa.select(User.id)
            .where(User.role == role, User.active.is_(True))
            .order_by(User.id)
        )
    )


def store_notices(
    session: orm.Session,
    notices: list[Notice],
    *,
    now: datetime,
    marks: dict[int, datetime] | None = None,
) -> int:
    """Insert the notices not stored yet and advance saved searches; how many new."""
    lock(session, "notifications:notices")
    unique = {notice.dedupe_key: notice for notice in notices}
    existing: set[tuple[int, str, str, int, str]] = set()
    by_kind: dict[tuple[str, str], set[int]] = {}
    for kind, item_kind, item_id in {(n.kind, n.item_kind, n.item_id) for n in notices}:
        by_kind.setdefault((kind, item_kind), set()).add(item_id)
    for (kind, item_kind), item_ids in by_kind.items():
        ordered = sorted(item_ids)
        for start in range(0, len(ordered), 500):
            existing.update(
                tuple(row)
                for row in session.execute(
                    sa.select(
                        Notification.user_id,
                        Notification.kind,
                        Notification.item_kind,
                        Notification.item_id,
                        Notification.key,
                    ).where(
                        Notification.kind == kind,
                        Notification.item_kind == item_kind,
                        Notification.item_id.in_(ordered[start : start + 500]),
                    )
                ).all()
            )
    new = [notice for key, notice in unique.items() if key not in existing]
    session.add_all(
        Notification(
            user_id=n.user_id,
            kind=n.kind,
            item_kind=n.item_kind,
            item_id=n.item_id,
            key=n.key,
            title=n.title[:300],
            body=n.body,
            link=n.link,
            created_at=now,
        )
        for n in new
    )
    for search_id, mark in (marks or {}).items():
        session.execute(
            sa.update(SavedSearch)
            .where(SavedSearch.id == search_id, SavedSearch.checked_until < mark)
            .values(checked_until=mark)
        )
    session.flush()
    return len(new)
