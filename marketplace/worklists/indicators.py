"""What each indicator of a work list counts, from the platform's own records.

Every measure is one SQL statement over the rows behind it (the items an officer
can open from the report); its actual is an aggregate of that statement in the
database, so the figure and the list behind it cannot disagree. A scope narrows a
measure to one domain (a sub-centre's list); measures with no domain (editions,
which list the whole city) belong on the center's own list only.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.capabilities.models import Capability, CapabilityTag
from marketplace.editions.models import Edition
from marketplace.events.models import Event, EventMeeting
from marketplace.plans.models import AnnualPlan, Inquiry, PlanLine
from marketplace.scenes.models import Scene

EVIDENCE = "evidence"
TEN_THOUSAND = Decimal(10_000)
LIST_LABELS = {"scenes": "场景机会清单", "capabilities": "场景能力清单"}


@dataclass(frozen=True)
class Period:
    """The year an indicator counts: its UTC bounds (for moments) and its dates."""

    year: int
    starts: datetime
    ends: datetime
    today: date

    @property
    def first_day(self) -> date:
        return date(self.year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 12, 31)


# Columns of every statement: what the row is, which page opens it, its title, its
# date and, for money, its amount in yuan.
Statement = Callable[[Period, str], sa.Select[Any]]


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    unit: str
    counted_as: str  # how the actual is counted, in plain words
    statement: Statement | None  # None: counted from evidence
    city_only: bool = False
    money: bool = False  # the actual is the sum of amounts, in 万元


def _columns(kind: str, item_id: Any, title: Any, on: Any, amount: Any = None) -> list:
    return [
        sa.literal(kind).label("kind"),
        item_id.label("item_id"),
        title.label("title"),
        on.label("on"),
        (amount if amount is not None else sa.null()).label("amount"),
    ]


def _scenes_collected(period: Period, scope: str) -> sa.Select[Any]:
    statement = sa.select(
        *_columns("scene", Scene.id, Scene.title, Scene.created_at)
    ).where(
        Scene.status != "draft",
        Scene.created_at >= period.starts,
        Scene.created_at < period.ends,
    )
    return statement.where(Scene.domain == scope) if scope else statement


def _capabilities_collected(period: Period, scope: str) -> sa.Select[Any]:
    statement = sa.select(
        *_columns("capability", Capability.id, Capability.title, Capability.created_at)
    ).where(
        Capability.status != "draft",
        Capability.created_at >= period.starts,
        Capability.created_at < period.ends,
    )
    if scope:
        statement = statement.where(
            Capability.id.in_(
                sa.select(CapabilityTag.capability_id).where(
                    CapabilityTag.field == "domains", CapabilityTag.name == scope
                )
            )
        )
    return statement


def _editions(period: Period, scope: str) -> sa.Select[Any]:
    title = (
        sa.case(
            *(
                (Edition.list_kind == kind, sa.literal(label))
                for kind, label in LIST_LABELS.items()
            ),
            else_=Edition.list_kind,
        )
        + sa.literal(" 第")
        + sa.cast(Edition.sequence, sa.String)
        + sa.literal("期")
    )
    return sa.select(
        *_columns("edition", Edition.id, title, Edition.published_at)
    ).where(Edition.year == period.year)


def _held_events(period: Period, scope: str) -> Any:
    where = [
        Event.date >= period.first_day,
        Event.date <= min(period.last_day, period.today),
        Event.status != "planning",
    ]
    if scope:
        where.append(Event.domain == scope)
    return where


def _events_held(period: Period, scope: str) -> sa.Select[Any]:
    return sa.select(*_columns("event", Event.id, Event.name, Event.date)).where(
        *_held_events(period, scope)
    )


def _meetings(period: Period, scope: str, outcomes: tuple[str, ...] | None) -> Any:
    title = Event.name + sa.literal("：") + Scene.title
    statement = (
        sa.select(*_columns("event", Event.id, title, Event.date, EventMeeting.amount))
        .select_from(EventMeeting)
        .join(Event, Event.id == EventMeeting.event_id)
        .join(Scene, Scene.id == EventMeeting.scene_id)
        .where(*_held_events(period, ""))
    )
    if outcomes is None:
        statement = statement.where(
            EventMeeting.outcome.is_not(None), EventMeeting.outcome != "no_show"
        )
    else:
        statement = statement.where(EventMeeting.outcome.in_(outcomes))
    return statement.where(Scene.domain == scope) if scope else statement


def _meetings_held(period: Period, scope: str) -> sa.Select[Any]:
    return _meetings(period, scope, None)


def _intentions(period: Period, scope: str) -> sa.Select[Any]:
    return _meetings(period, scope, ("intent", "signed"))


def _contracts(period: Period, scope: str) -> Any:
    """Contracts signed at events and contracts of unified price inquiries."""
    inquiries = (
        sa.select(
            *_columns(
                "scene",
                Scene.id,
                Scene.title,
                Inquiry.contract_signed_on,
                Inquiry.contract_amount,
            )
        )
        .select_from(Inquiry)
        .join(PlanLine, PlanLine.id == Inquiry.plan_line_id)
        .join(Scene, Scene.id == PlanLine.scene_id)
        .where(
            Inquiry.contract_signed_on >= period.first_day,
            Inquiry.contract_signed_on <= period.last_day,
        )
    )
    if scope:
        inquiries = inquiries.where(Scene.domain == scope)
    return sa.union_all(_meetings(period, scope, ("signed",)), inquiries)


def _planned_scenes(period: Period, scope: str) -> sa.Select[Any]:
    in_plans = (
        sa.select(PlanLine.scene_id)
        .join(AnnualPlan, AnnualPlan.id == PlanLine.plan_id)
        .where(
            AnnualPlan.year == period.year,
            AnnualPlan.status.in_(("approved", "superseded")),
        )
    )
    statement = sa.select(
        *_columns("scene", Scene.id, Scene.title, Scene.created_at)
    ).where(Scene.id.in_(in_plans))
    return statement.where(Scene.domain == scope) if scope else statement


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure(
            "scenes_collected",
            "征集场景机会",
            "个",
            "当年提交的场景机会（草稿不计）",
            _scenes_collected,
        ),
        Measure(
            "capabilities_collected",
            "征集场景能力",
            "个",
            "当年提交的场景能力（草稿不计）",
            _capabilities_collected,
        ),
        Measure(
            "editions_published",
            "发布场景清单",
            "期",
            "当年发布的场景机会清单和场景能力清单期数",
            _editions,
            city_only=True,
        ),
        Measure(
            "events_held",
            "举办供需对接活动",
            "场",
            "当年已举办的对接活动（筹备中的不计）",
            _events_held,
        ),
        Measure(
            "meetings_held",
            "组织对接洽谈",
            "次",
            "当年对接活动中已记录结果的洽谈（未出席不计）",
            _meetings_held,
        ),
        Measure(
            "intentions",
            "达成合作意向",
            "个",
            "当年洽谈结果为达成意向或签约的",
            _intentions,
        ),
        Measure(
            "contracts",
            "签约项目",
            "个",
            "当年对接活动中的签约，加上统一询价后当年签订的合同",
            _contracts,
        ),
        Measure(
            "contract_amount",
            "签约金额",
            "万元",
            "上述签约项目的金额合计",
            _contracts,
            money=True,
        ),
        Measure(
            "planned_scenes",
            "纳入年度计划的场景",
            "个",
            "当年已审定的年度场景建设计划中的场景（同一场景只计一次）",
            _planned_scenes,
        ),
        Measure(
            "competition_entries",
            "场景创新大赛参赛项目",
            "个",
            "按佐证材料填报的数量合计（平台暂未承办大赛）",
            None,
        ),
        Measure(EVIDENCE, "其他指标", "项", "按佐证材料填报的数量合计", None),
    )
}


def measures_for(scope: str) -> list[Measure]:
    """The measures a list of this scope may hold, in the order of the form."""
    return [m for m in MEASURES.values() if not (scope and m.city_only)]


def counted_from_evidence(measure: Measure) -> bool:
    return measure.statement is None


def actual(
    session: orm.Session, measure: Measure, period: Period, scope: str
) -> Decimal:
    """The measure's figure for the year, computed in the database."""
    assert measure.statement is not None
    rows = measure.statement(period, scope).subquery()
    if measure.money:
        total = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(rows.c.amount), 0))
        )
        return (Decimal(total) / TEN_THOUSAND).quantize(Decimal("0.01"))
    return Decimal(session.scalar(sa.select(sa.func.count()).select_from(rows)) or 0)


def behind(
    session: orm.Session,
    measure: Measure,
    period: Period,
    scope: str,
    limit: int | None,
) -> list[sa.Row[Any]]:
    """The rows behind the figure, newest first."""
    assert measure.statement is not None
    rows = measure.statement(period, scope).subquery()
    statement = sa.select(rows).order_by(rows.c.on.desc(), rows.c.item_id.desc())
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement))
