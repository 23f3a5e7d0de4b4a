"""Digests: one e-mail per user per period, through a real local SMTP server."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.db import session_scope
from marketplace.jobs import JobRun
from marketplace.notifications import jobs, services
from marketplace.notifications.jobs import DigestDeliveryError, deliver_digests
from marketplace.notifications.models import Digest, Notification
from marketplace.notifications.store import Notice, store_notices
from marketplace.scheduler import run_job

# 2026-11-23 is a Monday; 01:00 UTC is 09:00 in Shanghai.
MONDAY_9 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def give_notices(app, user, count, *, at, title="新的场景机会", start=0):
    notices = [
        Notice(
            user_id=user.id,
            kind="saved_search",
            item_kind="scene",
            item_id=1000 + start + i,
            key="search:1",
            title=f"{title}第{start + i + 1}条",
            body="发布单位：无锡测试单位。",
            link=f"/scenes/{1000 + start + i}",
        )
        for i in range(count)
    ]
    with session_scope(app) as session:
        store_notices(session, notices, now=at)


def prefer(db, user, email, frequency="daily"):
    row = db.get(User, user.id)
    row.email, row.digest_frequency = email, frequency
    db.commit()


def digests(db):
    db.rollback()
    db.expire_all()
    return db.scalars(sa.select(Digest).order_by(Digest.id)).all()


def test_one_digest_per_user_and_period_with_every_notice(
    app, db, make_user, smtp_server, use_smtp
):
    use_smtp(smtp_server.port)
    daily, other, weekly = make_user("unit"), make_user("vendor"), make_user("unit")
    quiet, no_address = make_user("unit"), make_user("unit")
    prefer(db, daily, "daily@wuxi.example")
    prefer(db, other, "other@wuxi.example")
    prefer(db, weekly, "weekly@wuxi.example", "weekly")
    prefer(db, quiet, "quiet@wuxi.example", "off")
    for user, count in ((daily, 5), (other, 2), (weekly, 3), (quiet, 4)):
        give_notices(app, user, count, at=MONDAY_9 - HOUR)
    give_notices(app, no_address, 2, at=MONDAY_9 - HOUR)

    assert deliver_digests(app, MONDAY_9) == "新摘要 3 份，发出 3 封"
    by_recipient = {m.recipients[0]: m for m in smtp_server.messages}
    assert sorted(by_recipient) == [
        "daily@wuxi.example",
        "other@wuxi.example",
        "weekly@wuxi.example",
    ]
    mail = by_recipient["daily@wuxi.example"]
    assert (
        mail.subject == "【无锡场景创新供需对接平台】每日摘要（2026-11-23）：5条新通知"
    )
    assert all(f"新的场景机会第{n}条" in mail.text for n in range(1, 6))
    assert "https://cj.wuxi.example/scenes/1000" in mail.text
    assert "https://cj.wuxi.example/notifications/settings" in mail.text
    assert mail.message["Message-ID"].startswith("<digest-")
    assert (
        "每周摘要（2026年第48周）：3条" in by_recipient["weekly@wuxi.example"].subject
    )

    rows = digests(db)
    assert {(r.user_id, r.status, r.notice_count, r.attempts) for r in rows} == {
        (daily.id, "sent", 5, 1),
        (other.id, "sent", 2, 1),
        (weekly.id, "sent", 3, 1),
    }
    # The off and address-less users keep their notices in-app, undelivered.
    assert (
        db.scalar(
            sa.select(sa.func.count()).where(
                Notification.user_id.in_([quiet.id, no_address.id]),
                Notification.digest_id.is_(None),
            )
        )
        == 6
    )

    # The same day again, later the same day: nothing more.
    deliver_digests(app, MONDAY_9)
    give_notices(app, daily, 1, at=MONDAY_9 + HOUR, start=10)
    deliver_digests(app, MONDAY_9 + 5 * HOUR)
    assert len(smtp_server.messages) == 3
    # Tuesday 07:00 is before the digest hour; 08:00 sends the new one.
    deliver_digests(app, MONDAY_9 + DAY - 2 * HOUR)
    assert len(smtp_server.messages) == 3
    deliver_digests(app, MONDAY_9 + DAY - HOUR)
    assert len(smtp_server.messages) == 4
    tuesday = smtp_server.messages[-1]
    assert tuesday.recipients == ["daily@wuxi.example"]
    assert "每日摘要（2026-11-24）：1条新通知" in tuesday.subject


def test_weekly_users_get_theirs_on_mondays_only(
    app, db, make_user, smtp_server, use_smtp
):
    use_smtp(smtp_server.port)
    weekly = make_user("vendor")
    prefer(db, weekly, "weekly@wuxi.example", "weekly")
    give_notices(app, weekly, 2, at=MONDAY_9 + DAY)
    for day in range(1, 7):  # Tuesday to Sunday
        deliver_digests(app, MONDAY_9 + day * DAY + HOUR)
    assert smtp_server.messages == []
    give_notices(app, weekly, 1, at=MONDAY_9 + 4 * DAY, start=5)
    deliver_digests(app, MONDAY_9 + 7 * DAY)
    assert len(smtp_server.messages) == 1
    assert "2026年第49周）：3条新通知" in smtp_server.messages[0].subject


def test_notices_read_in_app_are_not_mailed(app, db, make_user, smtp_server, use_smtp):
    use_smtp(smtp_server.port)
    reader = make_user("unit")
    prefer(db, reader, "reader@wuxi.example")
    give_notices(app, reader, 3, at=MONDAY_9 - HOUR)
    with session_scope(app) as session:
        services.mark_read(session, session.get(User, reader.id), None, now=MONDAY_9)
    deliver_digests(app, MONDAY_9 + HOUR)
    assert smtp_server.messages == [] and digests(db) == []


def test_without_a_mail_server_notices_stay_in_app(app, db, make_user):
    user = make_user("unit")
    prefer(db, user, "user@wuxi.example")
    give_notices(app, user, 2, at=MONDAY_9 - HOUR)
    assert "未配置邮件服务器" in deliver_digests(app, MONDAY_9)
    assert digests(db) == []


def test_email_is_escaped_and_plain_text_is_verbatim(
    app, db, make_user, smtp_server, use_smtp
):
    use_smtp(smtp_server.port)
    user = make_user("unit")
    prefer(db, user, "user@wuxi.example")
    give_notices(app, user, 1, at=MONDAY_9 - HOUR, title="<script>alert(1)</script>")
    deliver_digests(app, MONDAY_9)
    (mail,) = smtp_server.messages
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "<script>" not in mail.html
    assert "<script>alert(1)</script>第1条" in mail.text


@pytest.fixture
def closed_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe closes


def job_runs(db):
    db.rollback()
    db.expire_all()
    return db.scalars(
        sa.select(JobRun).where(JobRun.job_id == "send-digests").order_by(JobRun.id)
    ).all()


def test_smtp_down_keeps_digests_queued_and_recovery_sends_exactly_one(
    app, db, client, make_user, login, smtp_server, use_smtp, closed_port, monkeypatch
):
    first, second = make_user("unit"), make_user("vendor")
    prefer(db, first, "first@wuxi.example")
    prefer(db, second, "second@wuxi.example")
    give_notices(app, first, 3, at=MONDAY_9 - HOUR)
    give_notices(app, second, 2, at=MONDAY_9 - HOUR)
    use_smtp(closed_port)
    monkeypatch.setattr(jobs, "utcnow", lambda: MONDAY_9)

    run_job(app, "send-digests")  # raises nothing
    (run,) = job_runs(db)
    assert run.status == "error"
    assert "发送失败" in run.message and "ConnectionRefusedError" in run.message
    rows = digests(db)
    assert [(r.status, r.attempts) for r in rows] == [("failed", 1), ("pending", 0)]
    assert "ConnectionRefusedError" in rows[0].last_error
    with pytest.raises(DigestDeliveryError):
        deliver_digests(app, MONDAY_9)

    # The web is unaffected meanwhile.
    login(first)
    page = client.get("/notifications")
    assert page.status_code == 200 and "新的场景机会第1条" in page.get_data(
        as_text=True
    )

    use_smtp(smtp_server.port)
    monkeypatch.setattr(jobs, "utcnow", lambda: MONDAY_9 + HOUR)
    run_job(app, "send-digests")
    run_job(app, "send-digests")
    assert [r.status for r in job_runs(db)] == ["error", "ok", "ok"]
    assert sorted(m.recipients[0] for m in smtp_server.messages) == [
        "first@wuxi.example",
        "second@wuxi.example",
    ]
    assert [(r.status, r.attempts) for r in digests(db)] == [("sent", 3), ("sent", 1)]


def test_a_claim_abandoned_mid_send_is_retried_a_fresh_one_is_not(app, db, make_user):
    user = make_user("unit")
    prefer(db, user, "user@wuxi.example")
    give_notices(app, user, 1, at=MONDAY_9 - HOUR)
    with session_scope(app) as session:
        services.assemble_digests(session, now=MONDAY_9, timezone="Asia/Shanghai")
    (digest,) = digests(db)
    with session_scope(app) as session:
        assert services.claim_digest(session, digest.id, now=MONDAY_9)
    with session_scope(app) as session:
        assert not services.claim_digest(session, digest.id, now=MONDAY_9)
        assert services.due_digests(session, now=MONDAY_9 + timedelta(minutes=5)) == []
    later = MONDAY_9 + timedelta(minutes=11)
    with session_scope(app) as session:
        assert services.due_digests(session, now=later) == [digest.id]
        assert services.claim_digest(session, digest.id, now=later)
        services.finish_digest(session, digest.id, "sent", now=later, recipient="x")
    with session_scope(app) as session:
        assert not services.claim_digest(session, digest.id, now=later + DAY)
        assert services.due_digests(session, now=later + DAY) == []


def test_switching_frequency_on_a_monday_sends_no_second_digest_that_day(
    app, db, make_user, smtp_server, use_smtp
):
    use_smtp(smtp_server.port)
    to_weekly, to_daily = make_user("unit"), make_user("vendor")
    prefer(db, to_weekly, "to-weekly@wuxi.example", "daily")
    prefer(db, to_daily, "to-daily@wuxi.example", "weekly")
    for user in (to_weekly, to_daily):
        give_notices(app, user, 2, at=MONDAY_9 - HOUR)
    deliver_digests(app, MONDAY_9)
    assert len(smtp_server.messages) == 2

    prefer(db, to_weekly, "to-weekly@wuxi.example", "weekly")
    prefer(db, to_daily, "to-daily@wuxi.example", "daily")
    for user in (to_weekly, to_daily):
        give_notices(app, user, 1, at=MONDAY_9 + HOUR, start=10)
    deliver_digests(app, MONDAY_9 + 2 * HOUR)
    assert len(smtp_server.messages) == 2

    # Tuesday brings the new daily user theirs; next Monday the new weekly user's.
    deliver_digests(app, MONDAY_9 + DAY)
    assert [m.recipients for m in smtp_server.messages[2:]] == [
        ["to-daily@wuxi.example"]
    ]
    deliver_digests(app, MONDAY_9 + 7 * DAY)
    assert [m.recipients for m in smtp_server.messages[3:]] == [
        ["to-weekly@wuxi.example"]
    ]
    assert "2026年第49周）：1条新通知" in smtp_server.messages[3].subject
