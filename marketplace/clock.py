"""Time as the edges pass it to services: `now` in UTC, `today` in the city's zone."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from marketplace.db import utcnow

__all__ = [
    "local_today",
    "utcnow",
    "local_time",
    "year_bounds",
    "year_bounds_in",
    "month_bounds",
]


def local_today() -> date:
    return (
        utcnow().astimezone(ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])).date()
    )


def local_time(moment: datetime | str | None) -> str:
    """A UTC moment (or its ISO text, as JSON-shaped records carry it) shown in the
    configured zone, to the minute."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    zone = ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The UTC moments a calendar year of the city's zone starts and ends."""
    return year_bounds_in(year, ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"]))


def year_bounds_in(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start, end = (
        datetime(year, 1, 1, tzinfo=zone),
        datetime(year + 1, 1, 1, tzinfo=zone),
    )
    return start.astimezone(UTC), end.astimezone(UTC)


def month_bounds(year: int) -> list[tuple[datetime, datetime]]:
    """The UTC bounds [start, end) of each month of a year of the city's zone."""
    zone = ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])
    starts = [datetime(year, month, 1, tzinfo=zone) for month in range(1, 13)]
    starts.append(datetime(year + 1, 1, 1, tzinfo=zone))
    utc = [moment.astimezone(UTC) for moment in starts]
    return list(zip(utc, utc[1:], strict=False))
