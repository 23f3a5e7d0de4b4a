"""Jinja filters: money in 万元, local times, status labels."""

from decimal import Decimal
from urllib.parse import urlencode

from flask import Flask, request

from marketplace.clock import local_time
from marketplace.items.workflow import STATUS_LABELS
from marketplace.subsidies.rules import yuan


def money(amount: Decimal | None) -> str:
    """1250000 → '125万元'; None → '面议'."""
    if amount is None:
        return "面议"
    if amount >= 10000:
        wan = (amount / 10000).quantize(Decimal("0.01")).normalize()
        return f"{wan:f}万元"
    return f"{amount:,.2f}元"


def number(value: Decimal | int | float | None) -> str:
    """A figure as people read it: 1,234.5 (no trailing zeros); '' for None."""
    if value is None:
        return ""
    figure = Decimal(value).quantize(Decimal("0.01")).normalize()
    return f"{figure:,f}"


def page_url(page: int) -> str:
    """The current list URL with another page number, other parameters kept."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    args.append(("page", str(page)))
    return f"{request.path}?{urlencode(args)}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["number"] = number
    # Exact to the fen (subsidies): "62000.00" → "6.2万元", "516666.67" → "516,666.67元"
    app.jinja_env.filters["yuan"] = lambda amount: yuan(Decimal(amount))
    app.jinja_env.filters["status_label"] = lambda s: STATUS_LABELS.get(s, s or "")
    app.jinja_env.globals["page_url"] = page_url
