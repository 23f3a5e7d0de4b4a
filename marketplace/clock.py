"""Time as the edges pass it to services: `now` in UTC, `today` in the city's zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from marketplace.db import utcnow

__all__ = ["local_today", "utcnow", "local_time"]


def local_today() -> date:
    return (
        utcnow().astimezone(ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])).date()
    )


def local_time(moment: datetime | None) -> str:
    """A UTC moment shown in the configured zone, to the minute."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
