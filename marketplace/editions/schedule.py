"""When each list is published: monthly (default: the 1st at 09:00), quarterly, or a
cron expression, in MARKETPLACE_TIMEZONE. The schedule lives in the database; the
scheduler only ticks and asks what is due, so a period missed while the servers were
down is published once at the next tick, and never once per missed period."""

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import exc, orm

from marketplace import audit
from marketplace.editions.models import LISTS, PublicationSchedule
from marketplace.editions.services import check_list, publish_edition
from marketplace.errors import Invalid

CADENCES = {
    "monthly": "每月1日 09:00",
    "quarterly": "每季度首月1日 09:00",
    "cron": "自定义",
}
# How far back to look for the latest due moment, widening until one is found.
LOOKBACK = (
    timedelta(minutes=5),
    timedelta(hours=6),
    timedelta(days=3),
    timedelta(days=40),
    timedelta(days=400),
)


def default_schedule(list_kind: str, now: datetime) -> PublicationSchedule:
    return PublicationSchedule(
        list_kind=list_kind,
        cadence="monthly",
        cron="",
        enabled=True,
        effective_from=now,
    )


def trigger_for(schedule: PublicationSchedule, timezone: str) -> CronTrigger:
    zone = ZoneInfo(timezone)
    if schedule.cadence == "quarterly":
        return CronTrigger(month="1,4,7,10", day=1, hour=9, minute=0, timezone=zone)
    if schedule.cadence == "cron":
        return CronTrigger.from_crontab(schedule.cron, timezone=zone)
    return CronTrigger(day=1, hour=9, minute=0, timezone=zone)


def next_run(
    schedule: PublicationSchedule,
    now: datetime,
    timezone: str,
) -> datetime | None:
    if not schedule.enabled:
        return None
    return trigger_for(schedule, timezone).get_next_fire_time(None, now)


def latest_due(
    schedule: PublicationSchedule,
    now: datetime,
    timezone: str,
) -> datetime | None:
    """The most recent scheduled moment in (effective_from, now], if any."""
    if not schedule.enabled:
        return None
    trigger = trigger_for(schedule, timezone)
    for window in LOOKBACK:
        start = max(now - window, schedule.effective_from)
        moment = trigger.get_next_fire_time(None, start)
        latest = None
        while moment is not None and moment <= now:
            latest = moment
            moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        if latest is not None:
            return latest
        if start == schedule.effective_from:
            return None
    return None


def get_schedules(
    session: orm.Session, now: datetime
) -> dict[str, PublicationSchedule]:
    """Every list's schedule; the default for a list that has none stored yet."""
    stored = {s.list_kind: s for s in session.scalars(sa.select(PublicationSchedule))}
    return {kind: stored.get(kind) or default_schedule(kind, now) for kind in LISTS}


def set_schedule(
    session: orm.Session,
    actor: object,
    list_kind: str,
    cadence: str,
    cron: str,
    enabled: bool,
    *,
    now: datetime,
    timezone: str,
) -> PublicationSchedule:
    """Change a list's cadence; periods before the change are not caught up."""
    check_list(list_kind)
    if cadence not in CADENCES:
        raise Invalid(
            "发布频率有误", fields={"cadence": "可选：" + "、".join(CADENCES)}
        )
    cron = cron.strip() if cadence == "cron" else ""
    if cadence == "cron":
        try:
            CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))
        except ValueError as error:
            raise Invalid(
                f"cron 表达式无效：{error}",
                fields={"cron": "应为5段，如“0 9 1 * *”（分 时 日 月 周）"},
            ) from None
    schedule = session.get(PublicationSchedule, list_kind)
    if schedule is None:
        schedule = default_schedule(list_kind, now)
        session.add(schedule)
    schedule.cadence, schedule.cron, schedule.enabled = cadence, cron, enabled
    schedule.effective_from = now
    audit.record(
        session,
        actor,
        "edition.schedule",
        "publication_schedule",
        None,
        at=now,
        details={
            "list": list_kind,
            "cadence": cadence,
            "cron": cron,
            "enabled": enabled,
        },
    )
    return schedule


def publish_due(
    session_factory: Callable[[], orm.Session], *, now: datetime, timezone: str
) -> list[int]:
    """Publish each list whose latest scheduled moment has no edition yet.

    Each list in its own transaction. Safe to run in any number of processes at once:
    all but one find the edition already there and do nothing.
    """
    published = []
    for list_kind in LISTS:
        session = session_factory()
        try:
            schedule = get_schedules(session, now)[list_kind]
            if session.get(PublicationSchedule, list_kind) is None:
                session.add(schedule)
            due = latest_due(schedule, now, timezone)
            edition = None
            if due is not None:
                local = due.astimezone(ZoneInfo(timezone))
                edition = publish_edition(
                    session,
                    list_kind,
                    now=now,
                    year=local.year,
                    period_key=local.isoformat(),
                )
            session.commit()
            if edition is not None:
                published.append(edition.id)
        except exc.IntegrityError:
            # Another process inserted the same edition first: nothing left to do.
            session.rollback()
        finally:
            session.close()
    return published
