"""The figures of the data dashboard (数据看板), counted by the database.

Every count is an aggregate over the statement the list API itself runs
(`items.list_statement`), so a figure equals the `total` of the list with the same
filters, for the same reader: the public sees what the public lists hold; the
center, reviewers and admins also what is still in review. Nothing here loops over
rows in Python.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.capabilities.models import Capability, CapabilityTag
from marketplace.capabilities.services import CAPABILITIES
from marketplace.editions.models import Edition
from marketplace.events.models import Event, EventMeeting, EventPairing
from marketplace.items import services as items
from marketplace.items import workflow
from marketplace.items.services import ItemKind, ItemQuery
from marketplace.scenes.models import Scene, SceneIndustry
from marketplace.scenes.services import SCENES
from marketplace.taxonomy import Taxonomy

# Readers who see the internal figures (what is in review, contract amounts).
INTERNAL_ROLES = frozenset({"center", "reviewer", "admin"})
FUTURE_INDUSTRY_GROUPS = ("未来产业", "未来产业（X）")


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    domain: str | None = None
    district: str | None = None
    industry: str | None = None

    def list_args(self) -> dict[str, Any]:
        """The same filters as list parameters (for links and totals)."""
        args = {"year": self.year, "domain": self.domain, "district": self.district}
        args["industry"] = self.industry
        return {k: v for k, v in args.items() if v not in (None, "")}


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    count: int
    # The list status whose total equals the count, when one does.
    status: str | None = None


@dataclass(frozen=True)
class Target:
    text: str  # what the policy sets, in its words
    source: str
    target: int
    actual: int
    counted_as: str  # how the platform counts the actual

    @property
    def rate(self) -> float:
        return self.actual / self.target if self.target else 0.0


@dataclass
class KindFigures:
    kind: str
    label: str
    total: int
    by_domain: dict[str, int]
    by_district: dict[str, int]
    by_industry: dict[str, int]
    by_industry_group: dict[str, int]
    by_status: dict[str, int]  # by the status's Chinese label
    by_status_key: dict[str, int]
    by_category: dict[str, dict[str, int]] = field(default_factory=dict)
    monthly_posted: list[int] = field(default_factory=list)
    monthly_published: list[int] = field(default_factory=list)


@dataclass
class Dashboard:
    filters: Filters
    internal: bool
    year: int
    scenes: KindFigures
    capabilities: KindFigures
    funnel: list[Stage]
    funnel_by_domain: dict[str, list[int]]
    funnel_by_district: dict[str, list[int]]
    budget_total: Decimal
    budget_by_domain: dict[str, Decimal]
    editions: dict[str, int]
    events_held: int
    meetings_held: int
    signed_amount: Decimal | None
    targets: list[Target]


def _query(filters: Filters, status: str | None = None, **bounds: Any) -> ItemQuery:
    picked = {
        name: value
        for name, value in (
            ("domain", filters.domain),
            ("district", filters.district),
            ("industry", filters.industry),
        )
        if value
    }
    return ItemQuery(filters=picked, status=status, **bounds)


def _ids(
    kind: ItemKind,
    actor: Any,
    filters: Filters,
    bounds: dict[str, Any],
    dialect: str,
    *,
    any_status: bool = False,
) -> Any:
    """The ids the list API would count: published ones, or with `any_status`
    those of every status the reader may list."""
    statement = items.list_statement(
        kind, actor, _query(filters, **bounds), dialect, any_status=any_status
    )
    return statement.with_only_columns(kind.model.id).subquery()


def _grouped(
    session: orm.Session, column: Any, ids: Any, *where: Any
) -> dict[str, int]:
    return _tallies(session, [column], ids, *where)[0]


def _tallies(
    session: orm.Session,
    columns: list[Any],
    ids: Any,
    *where: Any,
    extra: Sequence[Any] = (),
) -> list[dict[Any, Any]]:
    """Counts by each of `columns` (and sums of each `extra` expression by each) in
    one statement: the database groups by all the columns at once and the few
    groups it returns are added up here, so the table is read once, not once per
    column. Returns one {value: count} per column, then one {value: sum} per extra
    expression of the first column."""
    rows = session.execute(
        sa.select(*columns, sa.func.count(), *extra)
        .where(*where, _id_column(columns[0]).in_(sa.select(ids.c.id)))
        .group_by(*columns)
    ).all()
    counts: list[dict[Any, Any]] = [{} for _ in columns]
    sums: list[dict[Any, Any]] = [{} for _ in extra]
    for row in rows:
        count = row[len(columns)]
        for tally, value in zip(counts, row[: len(columns)], strict=True):
            tally[value] = tally.get(value, 0) + count
        for tally, value in zip(sums, row[len(columns) + 1 :], strict=True):
            tally[row[0]] = tally.get(row[0], 0) + (value or 0)
    return counts + sums


def _id_column(column: Any) -> Any:
    table = column.table
    for name in ("capability_id", "scene_id", "id"):
        if name in table.c:
            return table.c[name]
    raise ValueError(column)


def _full(names: list[str], counts: dict[str, int]) -> dict[str, int]:
    """Every name of the vocabulary in its order, zeros included, then any other
    value still held by items (a retired term)."""
    result = {name: counts.get(name, 0) for name in names}
    result.update((k, v) for k, v in counts.items() if k not in result)
    return result


def _month_sums(column: Any, months: list[tuple[datetime, datetime]]) -> list[Any]:
    """Per month, a conditional sum counting the rows whose `column` falls in it."""
    return [
        sa.func.sum(sa.case((sa.and_(column >= start, column < end), 1), else_=0))
        for start, end in months
    ]


def _kind_figures(
    session: orm.Session,
    kind: ItemKind,
    actor: Any,
    filters: Filters,
    taxonomy: Taxonomy,
    dialect: str,
    bounds: dict[str, Any],
    months: list[tuple[datetime, datetime]],
) -> tuple[KindFigures, dict[str, Decimal]]:
    """The figures of one list, and (scenes only) the budgets offered by domain."""
    model = kind.model
    published = _ids(kind, actor, filters, bounds, dialect)
    listed = _ids(kind, actor, filters, bounds, dialect, any_status=True)
    budgets: dict[str, Decimal] = {}
    if kind is SCENES:
        by_domain, by_district, categories, kinds, budgets = _tallies(
            session,
            [Scene.domain, Scene.district, Scene.category, Scene.kind],
            published,
            extra=[sa.func.sum(Scene.budget)],
        )
        by_industry = _grouped(session, SceneIndustry.name, published)
        by_category = {
            "场景类别": _full(taxonomy.names("scene_categories"), categories),
            "场景类型": _full(taxonomy.names("scene_kinds"), kinds),
        }
        total = sum(by_domain.values())
    else:
        tags: dict[str, dict[str, int]] = {}
        for field_name, name, count in session.execute(
            sa.select(CapabilityTag.field, CapabilityTag.name, sa.func.count())
            .where(
                CapabilityTag.field.in_(("domains", "districts", "industries")),
                CapabilityTag.capability_id.in_(sa.select(published.c.id)),
            )
            .group_by(CapabilityTag.field, CapabilityTag.name)
        ):
            tags.setdefault(field_name, {})[name] = count
        by_domain, by_district = tags.get("domains", {}), tags.get("districts", {})
        by_industry = tags.get("industries", {})
        types, maturities = _tallies(
            session, [Capability.type, Capability.maturity], published
        )
        by_category = {
            "能力类型": _full(taxonomy.names("capability_types"), types),
            "成熟度": _full(taxonomy.names("maturities"), maturities),
        }
        total = sum(types.values())
    statuses, *monthly = _tallies(
        session,
        [model.status],
        listed,
        extra=[
            *_month_sums(model.created_at, months),
            *_month_sums(model.published_at, months),
        ],
    )
    monthly_totals = [int(sum(per_status.values())) for per_status in monthly]
    shown = [
        s
        for s in workflow.STATUSES[kind.name]
        if s in statuses or s in workflow.PUBLIC_STATUSES or _internal(actor)
    ]
    by_status_key = {s: statuses.get(s, 0) for s in shown}
    groups: dict[str, int] = {}
    for term in taxonomy.terms.get("industries", []):
        groups[term.group] = groups.get(term.group, 0) + by_industry.get(term.name, 0)
    figures = KindFigures(
        kind=kind.name,
        label=kind.label,
        total=total,
        by_domain=_full(taxonomy.names("domains"), by_domain),
        by_district=_full(taxonomy.names("districts"), by_district),
        by_industry=_full(taxonomy.names("industries"), by_industry),
        by_industry_group=groups,
        by_status={workflow.STATUS_LABELS[s]: n for s, n in by_status_key.items()},
        by_status_key=by_status_key,
        by_category=by_category,
        monthly_posted=monthly_totals[: len(months)],
        monthly_published=monthly_totals[len(months) :],
    )
    return figures, budgets


def _internal(actor: Any) -> bool:
    return actor is not None and actor.role in INTERNAL_ROLES


FUNNEL = (
    ("posted", "已征集"),
    ("published", "已发布"),
    ("matched", "已对接"),
    ("intention", "达成意向"),
    ("contract", "已签约"),
    ("completed", "已落地"),
)


def _funnel_flags() -> dict[str, Any]:
    """Per scene, whether it reached each stage (SQL expressions over `scenes`).

    Matched: a pairing locked or a meeting held with interest at an event, or the
    scene moved on to 已匹配; intention and contract also read meeting outcomes,
    since a unit may sign at an event before the scene's status is moved.
    """

    def meeting(*outcomes: str) -> Any:
        return sa.exists().where(
            EventMeeting.scene_id == Scene.id, EventMeeting.outcome.in_(outcomes)
        )

    locked = sa.exists().where(
        EventPairing.scene_id == Scene.id, EventPairing.status == "locked"
    )
    status = Scene.status
    return {
        "posted": status != "draft",
        "published": Scene.published_at.is_not(None),
        "matched": sa.or_(
            locked,
            meeting("follow_up", "intent", "signed"),
            status.in_(("matched", "contracted", "completed")),
        ),
        "intention": sa.or_(
            meeting("intent", "signed"),
            status.in_(("matched", "contracted", "completed")),
        ),
        "contract": sa.or_(meeting("signed"), status.in_(("contracted", "completed"))),
        "completed": status == "completed",
    }


def _funnel_rows(
    session: orm.Session, ids: Any, keys: list[str]
) -> tuple[list[int], dict[str, list[int]], dict[str, list[int]]]:
    """Scenes at each stage of `keys`: overall, by domain and by district, from one
    statement grouped by (domain, district)."""
    flags = _funnel_flags()
    sums = [sa.func.sum(sa.case((flags[key], 1), else_=0)) for key in keys]
    rows = session.execute(
        sa.select(Scene.domain, Scene.district, *sums)
        .where(Scene.id.in_(sa.select(ids.c.id)))
        .group_by(Scene.domain, Scene.district)
    ).all()
    overall = [0] * len(keys)
    by_domain: dict[str, list[int]] = {}
    by_district: dict[str, list[int]] = {}
    for domain, district, *counts in rows:
        for tally in (
            overall,
            by_domain.setdefault(domain, [0] * len(keys)),
            by_district.setdefault(district, [0] * len(keys)),
        ):
            for position, count in enumerate(counts):
                tally[position] += int(count or 0)
    return overall, by_domain, by_district


def _future_targets(
    session: orm.Session, taxonomy: Taxonomy, listed: Any
) -> list[Target]:
    """The 2030 targets of the future-industries opinions that the platform's own
    records can count; the others (parks, output) are not counted here."""
    future = [
        term.name
        for term in taxonomy.terms.get("industries", [])
        if term.group in FUTURE_INDUSTRY_GROUPS
    ]
    in_future = Scene.id.in_(
        sa.select(SceneIndustry.scene_id).where(SceneIndustry.name.in_(future))
    )

    def count(*where: Any) -> int:
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Scene)
                .where(in_future, Scene.id.in_(sa.select(listed.c.id)), *where)
            )
            or 0
        )

    source = "《关于加快培育发展未来产业的实施意见》（2024）"
    return [
        Target(
            "到2030年建成50个以上融合应用场景",
            source,
            50,
            count(Scene.status == "completed"),
            "未来产业方向的场景中已落地（已完成）的",
        ),
        Target(
            "到2030年落地不少于20个成熟的商业运营场景",
            source,
            20,
            count(Scene.status.in_(("contracted", "completed"))),
            "未来产业方向的场景中已签约或已完成的",
        ),
    ]


def build(
    session: orm.Session,
    actor: Any,
    filters: Filters,
    taxonomy: Taxonomy,
    dialect: str,
    *,
    year: int,
    created_between: tuple[datetime, datetime] | None,
    months: list[tuple[datetime, datetime]],
    today: date,
) -> Dashboard:
    """All figures for the reader. `year` is the year of the trend, editions and
    events (the filter's year, else the current one), `months` its twelve months as
    UTC bounds, `created_between` the bounds of the year filter if any."""
    internal = _internal(actor)
    bounds = {"created_between": created_between} if created_between else {}
    scenes, budgets = _kind_figures(
        session, SCENES, actor, filters, taxonomy, dialect, bounds, months
    )
    capabilities, _ = _kind_figures(
        session, CAPABILITIES, actor, filters, taxonomy, dialect, bounds, months
    )
    listed = _ids(SCENES, actor, filters, bounds, dialect, any_status=True)
    keys = [key for key, _ in FUNNEL if internal or key != "posted"]
    labels = dict(FUNNEL)
    overall, by_domain, by_district = _funnel_rows(session, listed, keys)
    exact = {"completed": "completed"}
    funnel = [
        Stage(key, labels[key], count, exact.get(key))
        for key, count in zip(keys, overall, strict=True)
    ]
    editions = dict(
        session.execute(
            sa.select(Edition.list_kind, sa.func.count())
            .where(Edition.year == year)
            .group_by(Edition.list_kind)
        ).all()
    )
    event_where = [
        Event.date >= date(year, 1, 1),
        Event.date < date(year + 1, 1, 1),
        Event.date <= today,
        Event.status != "planning",
    ]
    if filters.domain:
        event_where.append(Event.domain == filters.domain)
    held_events = sa.select(Event.id).where(*event_where)
    events_held = int(
        session.scalar(sa.select(sa.func.count()).select_from(held_events.subquery()))
        or 0
    )
    meetings = sa.select(EventMeeting).where(
        EventMeeting.event_id.in_(sa.select(Event.id).where(*event_where)),
        EventMeeting.outcome.is_not(None),
        EventMeeting.outcome != "no_show",
    )
    meetings_held = int(
        session.scalar(sa.select(sa.func.count()).select_from(meetings.subquery())) or 0
    )
    signed = None
    if internal:
        signed = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(EventMeeting.amount), 0)).where(
                EventMeeting.event_id.in_(sa.select(Event.id).where(*event_where)),
                EventMeeting.outcome == "signed",
            )
        )
    return Dashboard(
        filters=filters,
        internal=internal,
        year=year,
        scenes=scenes,
        capabilities=capabilities,
        funnel=funnel,
        funnel_by_domain={
            name: by_domain.get(name, [0] * len(keys))
            for name in taxonomy.names("domains")
        },
        funnel_by_district={
            name: by_district.get(name, [0] * len(keys))
            for name in taxonomy.names("districts")
        },
        budget_total=sum((Decimal(v) for v in budgets.values()), Decimal(0)),
        budget_by_domain={
            name: Decimal(budgets.get(name, 0)) for name in taxonomy.names("domains")
        },
        editions={
            "scenes": editions.get("scenes", 0),
            "capabilities": editions.get("capabilities", 0),
        },
        events_held=events_held,
        meetings_held=meetings_held,
        signed_amount=None if signed is None else Decimal(signed),
        targets=_future_targets(session, taxonomy, listed),
    )


def rate(part: int, whole: int) -> str:
    """A conversion rate as people read it: 37.5%, or — when nothing to convert."""
    if not whole:
        return "—"
    return f"{part / whole:.1%}"
