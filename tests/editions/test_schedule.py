from datetime import UTC, datetime, timedelta

from marketplace.editions.models import PublicationSchedule
from marketplace.editions.schedule import latest_due, next_run

TZ = "Asia/Shanghai"


def schedule(cadence="monthly", cron="", since=datetime(2026, 1, 1, tzinfo=UTC)):
    return PublicationSchedule(
        list_kind="scenes",
        cadence=cadence,
        cron=cron,
        enabled=True,
        effective_from=since,
    )


def test_default_is_the_first_of_the_month_at_nine_in_shanghai():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    due = latest_due(schedule(), now, TZ)
    assert due.isoformat() == "2026-11-01T09:00:00+08:00"
    assert next_run(schedule(), now, TZ).isoformat() == "2026-12-01T09:00:00+08:00"


def test_missed_periods_give_only_the_latest_one():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert (
        latest_due(schedule(since=datetime(2026, 5, 1, tzinfo=UTC)), now, TZ).month
        == 11
    )


def test_nothing_is_due_before_the_schedule_took_effect():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert latest_due(schedule(since=now - timedelta(days=1)), now, TZ) is None


def test_quarterly_and_cron_cadences():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert latest_due(schedule("quarterly"), now, TZ).month == 10
    every_ten_minutes = schedule("cron", "*/10 * * * *", since=now - timedelta(days=30))
    due = latest_due(every_ten_minutes, now + timedelta(minutes=7), TZ)
    assert due == now.astimezone(due.tzinfo)


def test_disabled_schedule_is_never_due():
    disabled = schedule()
    disabled.enabled = False
    assert latest_due(disabled, datetime(2026, 11, 23, tzinfo=UTC), TZ) is None
