"""The master schedule of an event as a real Excel workbook.

Two sheets: every meeting as a row (sortable, filterable), and the room as a grid of
time slots by tables, as organisers pin it on the wall. Names, venues and titles come
from users, so every cell, the title row included, goes through
`marketplace.spreadsheets`.
"""

from collections.abc import Sequence
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from marketplace import spreadsheets
from marketplace.events.models import Event, EventMeeting
from marketplace.events.timetable import Slot

MEETING_COLUMNS = (
    ("时段", 8),
    ("开始", 8),
    ("结束", 8),
    ("桌号", 8),
    ("场景编号", 10),
    ("场景机会", 40),
    ("需求单位", 28),
    ("能力编号", 10),
    ("场景能力", 40),
    ("供给企业", 28),
    ("匹配度", 10),
    ("洽谈结果", 12),
)


def write_master_schedule(
    target: IO[bytes],
    event: Event,
    slots: Sequence[Slot],
    meetings: Sequence[EventMeeting],
) -> None:
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    sheet = workbook.create_sheet("洽谈总表")
    for index, (_, width) in enumerate(MEETING_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    title = f"{event.name}（{event.date.isoformat()}，{event.venue}）"
    sheet.append([spreadsheets.cell(sheet, title, font=Font(bold=True, size=13))])
    sheet.append(
        [spreadsheets.cell(sheet, label, font=bold) for label, _ in MEETING_COLUMNS]
    )
    for meeting in meetings:
        slot = slots[meeting.slot]
        sheet.append(
            spreadsheets.row(
                sheet,
                [
                    slot.number + 1,
                    slot.start,
                    slot.end,
                    meeting.table_number,
                    meeting.scene_id,
                    meeting.scene.title,
                    meeting.scene.organization.name,
                    meeting.capability_id,
                    meeting.capability.title,
                    meeting.capability.organization.name,
                    round(meeting.score, 4),
                    meeting.outcome_label if meeting.outcome else "",
                ],
            )
        )

    grid = workbook.create_sheet("桌位总览")
    grid.column_dimensions["A"].width = 14
    for table in range(1, event.tables + 1):
        grid.column_dimensions[get_column_letter(table + 1)].width = 30
    grid.freeze_panes = "B2"
    grid.append(
        [spreadsheets.cell(grid, "时段")]
        + [
            spreadsheets.cell(grid, f"{table}号桌", font=bold)
            for table in range(1, event.tables + 1)
        ]
    )
    placed = {(m.slot, m.table_number): m for m in meetings}
    wrap = Alignment(wrap_text=True, vertical="top")
    for slot in slots:
        row = [spreadsheets.cell(grid, f"{slot.start}–{slot.end}")]
        for table in range(1, event.tables + 1):
            meeting = placed.get((slot.number, table))
            text = (
                f"{meeting.scene.title}\n× {meeting.capability.title}"
                if meeting
                else ""
            )
            row.append(spreadsheets.cell(grid, text, alignment=wrap))
        grid.append(row)
    workbook.save(target)
