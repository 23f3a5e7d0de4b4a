"""The master schedule of an event as a real Excel workbook.

Two sheets: every meeting as a row (sortable, filterable), and the room as a grid of
time slots by tables, as organisers pin it on the wall. Titles come from users, so
every text cell goes through the formula-safe writer.
"""

from collections.abc import Sequence
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from marketplace.editions.exports import safe_text_cell
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
    title = WriteOnlyCell(
        sheet, value=f"{event.name}（{event.date.isoformat()}，{event.venue}）"
    )
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    header = []
    for label, _ in MEETING_COLUMNS:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for meeting in meetings:
        slot = slots[meeting.slot]
        sheet.append(
            [
                slot.number + 1,
                slot.start,
                slot.end,
                meeting.table_number,
                meeting.scene_id,
                safe_text_cell(sheet, meeting.scene.title),
                safe_text_cell(sheet, meeting.scene.organization.name),
                meeting.capability_id,
                safe_text_cell(sheet, meeting.capability.title),
                safe_text_cell(sheet, meeting.capability.organization.name),
                round(meeting.score, 4),
                meeting.outcome_label if meeting.outcome else "",
            ]
        )

    grid = workbook.create_sheet("桌位总览")
    grid.column_dimensions["A"].width = 14
    for table in range(1, event.tables + 1):
        grid.column_dimensions[get_column_letter(table + 1)].width = 30
    grid.freeze_panes = "B2"
    header = [WriteOnlyCell(grid, value="时段")]
    for table in range(1, event.tables + 1):
        cell = WriteOnlyCell(grid, value=f"{table}号桌")
        cell.font = bold
        header.append(cell)
    grid.append(header)
    placed = {(m.slot, m.table_number): m for m in meetings}
    wrap = Alignment(wrap_text=True, vertical="top")
    for slot in slots:
        row = [WriteOnlyCell(grid, value=f"{slot.start}–{slot.end}")]
        for table in range(1, event.tables + 1):
            meeting = placed.get((slot.number, table))
            text = (
                f"{meeting.scene.title}\n× {meeting.capability.title}"
                if meeting
                else ""
            )
            cell = safe_text_cell(grid, text)
            cell.alignment = wrap
            row.append(cell)
        grid.append(row)
    workbook.save(target)
