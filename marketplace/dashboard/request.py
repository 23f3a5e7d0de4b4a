"""Reading the dashboard's filters from a request, shared by the page and the API."""

from typing import Any

from marketplace import clock
from marketplace.dashboard import services
from marketplace.db import get_session
from marketplace.errors import Invalid
from marketplace.items.services import parse_year
from marketplace.taxonomy import Taxonomy, get_taxonomy

VOCABULARIES = {"domain": "domains", "district": "districts", "industry": "industries"}
LABELS = {"domain": "领域", "district": "板块", "industry": "产业方向"}


def parse_filters(
    args: Any, taxonomy: Taxonomy, *, blank_is_absent: bool = True
) -> services.Filters:
    """The filters, or Invalid naming each parameter that is not a known value.

    A page's form sends unused filters empty; the API refuses `domain=` as it
    does on the lists (`items.parse_item_query`)."""
    problems: dict[str, str] = {}
    if not blank_is_absent:
        problems.update(
            (name, "不能为空：不需要时请不带这个参数")
            for name in ("year", *VOCABULARIES)
            if args.get(name) == ""
        )
    year = parse_year(args.get("year"), problems)
    picked: dict[str, str | None] = {}
    for name, vocabulary in VOCABULARIES.items():
        value = args.get(name) or None
        if value is not None and value not in taxonomy.names(vocabulary):
            problems[name] = f"{LABELS[name]}“{value[:20]}”不在分类表中"
        picked[name] = value
    if problems:
        raise Invalid("查询参数有误", fields=problems)
    return services.Filters(year=year, **picked)


def dashboard_for(
    args: Any, actor: Any, *, blank_is_absent: bool = True
) -> services.Dashboard:
    session = get_session()
    taxonomy = get_taxonomy(session)
    filters = parse_filters(args, taxonomy, blank_is_absent=blank_is_absent)
    year = filters.year or clock.local_today().year
    return services.build(
        session,
        actor,
        filters,
        taxonomy,
        session.get_bind().dialect.name,
        year=year,
        created_between=clock.year_bounds(filters.year) if filters.year else None,
        months=clock.month_bounds(year),
        today=clock.local_today(),
    )
