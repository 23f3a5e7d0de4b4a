"""The notification jobs as the scheduler runs them: find notices, then mail digests.

Both are safe to repeat and to run in several processes at once (see services).
"""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from marketplace.db import session_scope, utcnow
from marketplace.matches.index import get_indexes
from marketplace.notifications import services
from marketplace.notifications.mail import (
    Mailer,
    MailError,
    MailSettings,
    digest_message,
)
from marketplace.notifications.store import store_notices

log = logging.getLogger(__name__)


class DigestDeliveryError(Exception):
    """Some digests could not be sent this run; they stay queued for the next."""


def create_notices(app: Flask) -> str:
    """Deadline reminders, renewal requests, new strong matches, saved searches."""
    return find_and_store_notices(app, utcnow())


def find_and_store_notices(app: Flask, now: datetime) -> str:
    timezone = app.config["MARKETPLACE_TIMEZONE"]
    today = now.astimezone(ZoneInfo(timezone)).date()
    # The finding only reads (matching and full-text search take a while); the
    # storing is one short write transaction.
    reader = app.extensions["db"]["read_sessionmaker"]()
    try:
        dialect = reader.get_bind().dialect.name
        found = {
            "deadline_reminder": services.deadline_notices(reader, today=today),
            "renewal_request": services.renewal_notices(reader, now=now),
            "strong_match": services.strong_match_notices(
                reader, get_indexes(app), now=now
            ),
        }
        searches = services.saved_search_notices(reader, now=now, dialect=dialect)
        found["saved_search"] = searches.notices
    finally:
        reader.close()
    notices = [notice for group in found.values() for notice in group]
    with session_scope(app) as session:
        created = store_notices(session, notices, now=now, marks=searches.marks)
    counts = "，".join(f"{kind} {len(group)}" for kind, group in found.items())
    return f"新通知 {created} 条（候选：{counts}）"


def send_digests(app: Flask) -> str:
    """Put together the digests that are due, then e-mail every queued one."""
    return deliver_digests(app, utcnow())


def deliver_digests(app: Flask, now: datetime) -> str:
    settings = MailSettings.from_config(app.config)
    timezone = app.config["MARKETPLACE_TIMEZONE"]
    if not settings.enabled:
        return "未配置邮件服务器：通知仅在站内显示"
    with session_scope(app) as session:
        created = services.assemble_digests(session, now=now, timezone=timezone)
    with session_scope(app) as session:
        due = services.due_digests(session, now=now)
    sent, failures = 0, []
    with Mailer(settings) as mailer:
        for digest_id in due:
            with session_scope(app) as session:
                if not services.claim_digest(session, digest_id, now=now):
                    continue  # another process has it
                content = services.digest_content(session, digest_id)
                recipient = content.user.email or ""
                if not recipient or not content.user.active:
                    services.finish_digest(session, digest_id, "skipped", now=now)
                    continue
                message = digest_message(content, settings, now=now, timezone=timezone)
            try:
                mailer.send(message)
            except MailError as error:
                failures.append(str(error))
                with session_scope(app) as session:
                    services.finish_digest(
                        session, digest_id, "failed", now=now, error=str(error)
                    )
                if error.connection:
                    break
                continue
            with session_scope(app) as session:
                services.finish_digest(
                    session, digest_id, "sent", now=now, recipient=recipient
                )
            sent += 1
    summary = f"新摘要 {created} 份，发出 {sent} 封"
    if failures:
        # The job run is recorded as failed with the reason; the digests stay queued.
        raise DigestDeliveryError(
            f"{summary}；{len(failures)} 封发送失败，将在下次运行时重试：{failures[-1]}"
        )
    return summary
