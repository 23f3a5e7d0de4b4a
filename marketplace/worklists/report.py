"""The year-end performance report: each indicator's target, actual, rate, the
items behind it and its weighed score, on a page and in a workbook."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import orm

from marketplace import spreadsheets
from marketplace.worklists import indicators, services
from marketplace.worklists.indicators import Period
from marketplace.worklists.models import LIST_STATUSES, WorkList
from marketplace.worklists.services import Progress

KIND_LABELS = {
    "scene": "场景机会",
    "capability": "场景能力",
    "edition": "清单",
    "event": "对接活动",
}
SHOWN_PER_INDICATOR = 50


@dataclass(frozen=True)
class Line:
    """One record behind a figure; `on` is the city's date."""

    kind: str
    item_id: int
    title: str
    on: date | None
    amount: Decimal | None  # yuan


@dataclass(frozen=True)
class Behind:
    """What an indicator's actual is made of: counted rows or evidence."""

    lines: list[Line]
    total: int


def behind(
    session: orm.Session,
    row: Progress,
    period: Period,
    scope: str,
    local_date: Callable[[datetime], date],
    *,
    limit: int | None = SHOWN_PER_INDICATOR,
) -> Behind:
    """The records behind a counted indicator (none for one counted from evidence).
    `local_date` turns a stored UTC moment into the city's date."""
    if indicators.counted_from_evidence(row.measure):
        return Behind([], 0)
    found = indicators.behind(session, row.measure, period, scope, None)
    shown = found if limit is None else found[:limit]
    return Behind(
        [
            Line(
                item.kind,
                item.item_id,
                item.title,
                local_date(item.on) if isinstance(item.on, datetime) else item.on,
                None if item.amount is None else Decimal(item.amount),
            )
            for item in shown
        ],
        len(found),
    )


def write_report(
    target: IO[bytes],
    session: orm.Session,
    work_list: WorkList,
    rows: list[Progress],
    period: Period,
    local_date: Callable[[datetime], date],
) -> None:
    """The report as a workbook: numbers as numbers, every text cell formula-safe."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def number(sheet: Any, value: Decimal | None, pattern: str) -> Any:
        written = spreadsheets.cell(sheet, None if value is None else float(value))
        written.number_format = pattern
        return written

    summary = workbook.create_sheet("绩效报告")
    for column, width in zip(
        "ABCDEFGHI", (28, 8, 12, 12, 10, 8, 8, 12, 48), strict=True
    ):
        summary.column_dimensions[column].width = width
    summary.append([spreadsheets.cell(summary, services.title(work_list), font=bold)])
    summary.append(
        spreadsheets.row(
            summary,
            [
                f"状态：{LIST_STATUSES[work_list.status]}",
                f"统计至：{period.today.isoformat()}",
            ],
        )
    )
    header = [
        "指标",
        "单位",
        "目标",
        "实际",
        "完成率",
        "权重",
        "得分",
        "进度",
        "统计口径",
    ]
    summary.append([spreadsheets.cell(summary, h, font=bold) for h in header])
    for row in rows:
        summary.append(
            [
                spreadsheets.cell(summary, row.indicator.label),
                spreadsheets.cell(summary, row.indicator.unit),
                number(summary, row.indicator.target, "#,##0.##"),
                number(summary, row.actual, "#,##0.##"),
                number(summary, row.rate, "0.0%"),
                number(summary, row.indicator.weight, "0.##"),
                number(summary, row.score, "0.00"),
                spreadsheets.cell(summary, row.state),
                spreadsheets.cell(summary, row.measure.counted_as, alignment=wrap),
            ]
        )
    total = services.total_score(rows)
    summary.append(
        [
            spreadsheets.cell(summary, "综合得分（百分制）", font=bold),
            *[spreadsheets.cell(summary, None) for _ in range(5)],
            number(summary, total, "0.00"),
        ]
    )

    details = workbook.create_sheet("指标明细")
    for column, width in zip("ABCDEF", (24, 10, 10, 56, 12, 12), strict=True):
        details.column_dimensions[column].width = width
    details.append(
        [
            spreadsheets.cell(details, h, font=bold)
            for h in ("指标", "类型", "编号", "名称", "日期", "金额（万元）")
        ]
    )
    for row in rows:
        for line in behind(
            session, row, period, work_list.scope, local_date, limit=None
        ).lines:
            amount = None if line.amount is None else line.amount / 10_000
            details.append(
                [
                    spreadsheets.cell(details, row.indicator.label),
                    spreadsheets.cell(details, KIND_LABELS.get(line.kind, line.kind)),
                    spreadsheets.cell(details, line.item_id),
                    spreadsheets.cell(details, line.title, alignment=wrap),
                    spreadsheets.cell(details, None)
                    if line.on is None
                    else _date_cell(details, line.on),
                    number(details, amount, "#,##0.00"),
                ]
            )

    evidence = workbook.create_sheet("佐证材料")
    for column, width in zip("ABCDE", (24, 12, 10, 56, 30), strict=True):
        evidence.column_dimensions[column].width = width
    evidence.append(
        [
            spreadsheets.cell(evidence, h, font=bold)
            for h in ("指标", "日期", "数量", "说明", "文号或链接")
        ]
    )
    for row in rows:
        for item in row.indicator.evidence:
            evidence.append(
                [
                    spreadsheets.cell(evidence, row.indicator.label),
                    _date_cell(evidence, item.happened_on),
                    number(evidence, item.quantity, "#,##0.##"),
                    spreadsheets.cell(evidence, item.description, alignment=wrap),
                    spreadsheets.cell(evidence, item.reference),
                ]
            )
    workbook.save(target)


def _date_cell(sheet: Any, on: date) -> Any:
    written = spreadsheets.cell(sheet, on)
    written.number_format = "yyyy-mm-dd"
    return written
