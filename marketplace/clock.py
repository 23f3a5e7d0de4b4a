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


def local_time(moment: datetime | str | None) -> str:
    """A UTC moment (or its ISO text, as JSON-shaped records carry it) shown in the
    configured zone, to the minute."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    zone = ZoneInfo(current_app.config["MARKETPLACE_TIMEZONE"])
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
