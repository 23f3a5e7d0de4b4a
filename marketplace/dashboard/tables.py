"""The dashboard as tables: what each chart draws, the table beside it, and the
workbook's sheets all come from here, so the three never disagree."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font

from marketplace import spreadsheets
from marketplace.dashboard.services import Dashboard, KindFigures, rate

# link(kind, **list arguments) -> the list page's URL, or None where none is wanted.
Link = Callable[..., str | None]
TEN_THOUSAND = Decimal(10_000)


@dataclass
class Row:
    label: str
    values: list[Any]
    links: list[str | None] = field(default_factory=list)


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[Row]
    chart: str = "bar"  # bar | line | funnel | none
    note: str = ""

    @property
    def largest(self) -> int:
        numbers = [v for r in self.rows for v in r.values if isinstance(v, int)]
        return max(numbers, default=0)


def _by(
    figures: KindFigures,
    counts: dict[str, int],
    key: str,
    title: str,
    header: str,
    argument: str | None,
    link: Link,
    *,
    skip_zero: bool = False,
) -> Table:
    rows = [
        Row(
            name,
            [count],
            [link(figures.kind, **{argument: name}) if argument else None],
        )
        for name, count in counts.items()
        if count or not skip_zero
    ]
    return Table(key, title, [header, "数量"], rows)


def _wan(amount: Decimal) -> str:
    return f"{amount / TEN_THOUSAND:,.2f}"


def build_tables(board: Dashboard, link: Link) -> list[Table]:
    tables: list[Table] = []
    for figures in (board.scenes, board.capabilities):
        prefix = figures.kind
        noun = figures.label
        # A published scene is one still collecting solutions (征集中).
        state = "征集中" if figures.kind == "scene" else "已发布"
        tables.append(
            _by(
                figures,
                figures.by_domain,
                f"{prefix}_domain",
                f"{noun}：按领域（{state}）",
                "领域",
                "domain",
                link,
            )
        )
        tables.append(
            _by(
                figures,
                figures.by_district,
                f"{prefix}_district",
                f"{noun}：按板块（{state}）",
                "板块",
                "district",
                link,
            )
        )
        tables.append(
            _by(
                figures,
                figures.by_industry,
                f"{prefix}_industry",
                f"{noun}：按产业方向（{state}）",
                "产业方向",
                "industry",
                link,
                skip_zero=True,
            )
        )
        groups = Table(
            f"{prefix}_industry_group",
            f"{noun}：按产业集群（“465”与“5+X”）",
            ["产业集群", "数量"],
            [
                Row(name, [count], [None])
                for name, count in figures.by_industry_group.items()
            ],
            note="一个条目可属于多个产业方向，各组之和可大于条目数。",
        )
        tables.append(groups)
        for category, counts in figures.by_category.items():
            tables.append(
                Table(
                    f"{prefix}_{category}",
                    f"{noun}：按{category}（{state}）",
                    [category, "数量"],
                    [Row(name, [count], [None]) for name, count in counts.items()],
                )
            )
        status_keys = list(figures.by_status_key)
        tables.append(
            Table(
                f"{prefix}_status",
                f"{noun}：按状态",
                ["状态", "数量"],
                [
                    Row(label, [count], [link(figures.kind, status=key)])
                    for (label, count), key in zip(
                        figures.by_status.items(), status_keys, strict=True
                    )
                ],
            )
        )
    months = [f"{m}月" for m in range(1, 13)]
    tables.append(
        Table(
            "monthly",
            f"{board.year}年月度趋势",
            ["月份", "新征集场景", "新发布场景", "新征集能力", "新发布能力"],
            [
                Row(
                    months[i],
                    [
                        board.scenes.monthly_posted[i],
                        board.scenes.monthly_published[i],
                        board.capabilities.monthly_posted[i],
                        board.capabilities.monthly_published[i],
                    ],
                    [None] * 4,
                )
                for i in range(12)
            ],
            chart="line",
            note="按提交与发布的月份（北京时间）计；征集数含审核中的条目"
            if board.internal
            else "按提交与发布的月份（北京时间）计，只含目前公开的条目",
        )
    )
    previous = None
    funnel_rows = []
    for stage in board.funnel:
        funnel_rows.append(
            Row(
                stage.label,
                [stage.count, "—" if previous is None else rate(stage.count, previous)],
                [link("scene", status=stage.status) if stage.status else None, None],
            )
        )
        previous = stage.count
    tables.append(
        Table(
            "funnel",
            "场景转化漏斗",
            ["阶段", "场景数", "较上一阶段"],
            funnel_rows,
            chart="funnel",
            note="已对接：对接会上锁定配对或洽谈有意向，或已进入已匹配；达成意向、已签约"
            "同时计入对接会的洽谈结果。",
        )
    )
    labels = [stage.label for stage in board.funnel]
    for key, title, counts in (
        ("funnel_domain", "各领域转化", board.funnel_by_domain),
        ("funnel_district", "各板块转化", board.funnel_by_district),
    ):
        rows = []
        for name, values in counts.items():
            if not any(values):
                continue
            last = values[-1]
            first = values[0]
            rows.append(
                Row(name, [*values, rate(last, first)], [None] * (len(values) + 1))
            )
        tables.append(
            Table(
                key,
                title,
                ["", *labels, f"{labels[-1]}/{labels[0]}"],
                rows,
                chart="none",
            )
        )
    tables.append(
        Table(
            "budget",
            "征集中场景的预算（万元）",
            ["领域", "预算合计（万元）"],
            [
                Row(name, [_wan(amount)], [link("scene", domain=name)])
                for name, amount in board.budget_by_domain.items()
                if amount
            ]
            + [Row("合计", [_wan(board.budget_total)], [None])],
            chart="none",
        )
    )
    activity = [
        Row(f"{board.year}年发布的场景清单", [board.editions["scenes"]], [None]),
        Row(f"{board.year}年发布的能力清单", [board.editions["capabilities"]], [None]),
        Row(f"{board.year}年已举办的对接活动", [board.events_held], [None]),
        Row(f"{board.year}年已洽谈的一对一对接", [board.meetings_held], [None]),
    ]
    if board.signed_amount is not None:
        activity.append(
            Row("对接会签约金额（万元）", [_wan(board.signed_amount)], [None])
        )
    tables.append(
        Table(
            "activity", "清单发布与对接活动", ["项目", "数量"], activity, chart="none"
        )
    )
    tables.append(
        Table(
            "targets",
            "2030年目标进展",
            ["目标", "目标值", "当前", "完成率", "平台的计数口径"],
            [
                Row(
                    t.text,
                    [t.target, t.actual, f"{t.rate:.0%}", t.counted_as],
                    [None] * 4,
                )
                for t in board.targets
            ],
            chart="none",
            note="出自"
            + board.targets[0].source
            + "；园区、产业规模等目标不在平台统计范围。"
            if board.targets
            else "",
        )
    )
    return tables


def write_workbook(target: IO[bytes], tables: list[Table], title: str) -> None:
    """Every table as a sheet of one workbook (formula-safe cells)."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for table in tables:
        name = _sheet_name(table.title, used)
        sheet = workbook.create_sheet(name)
        sheet.append([spreadsheets.cell(sheet, f"{title}：{table.title}", font=bold)])
        sheet.append([spreadsheets.cell(sheet, h, font=bold) for h in table.header])
        for row in table.rows:
            sheet.append(spreadsheets.row(sheet, [row.label, *row.values]))
        if table.note:
            sheet.append(spreadsheets.row(sheet, [table.note]))
    workbook.save(target)


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title)[:28]
    name, n = cleaned, 2
    while name in used:
        name, n = f"{cleaned[:26]}{n}", n + 1
    used.add(name)
    return name
