"""How long the import takes to refuse hostile workbooks (issue 12, finding 5).

A benchmark, not a test: tests/imports/test_imports.py asserts the refusals and
their messages; this prints how long each one takes, which depends on the machine.
It needs no database: it calls `marketplace.imports.workbook.read_rows` directly.

Run from the project root::

    .venv/bin/python bench/hostile_workbooks.py

Cases: a workbook of a few KB whose <dimension> claims A1:XFD1048576 with one cell in
the last row (before the fix: over a minute at 100% CPU); the same with a styled
empty far cell (accepted, one row); and a sheet of empty cells past the scan budget.
"""

import io
import re
import time
import zipfile

from openpyxl import Workbook

from marketplace.errors import Invalid
from marketplace.imports.workbook import (
    ORGANIZATION_HEADER,
    header_of,
    read_rows,
)
from marketplace.scenes.schemas import SCENE_FIELDS


def workbook(change) -> bytes:
    book = Workbook()
    book.active.append([ORGANIZATION_HEADER] + [header_of(f) for f in SCENE_FIELDS])
    book.active.append(["无锡市惠山区文体旅游局", "惠山古镇游客客流热力监测"])
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(plain)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            archive.writestr(entry.filename, content)
    return buffer.getvalue()


def far_cell(cell: bytes):
    def change(xml: bytes) -> bytes:
        xml = re.sub(
            rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', xml
        )
        return xml.replace(
            b"</sheetData>", b'<row r="1048576">' + cell + b"</row></sheetData>"
        )

    return change


def empty_cells(rows: int):
    cells = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" s="0"/>' for c in "ABCDEFGHIJ")
        + "</row>"
        for r in range(3, rows)
    ).encode()
    return lambda xml: xml.replace(b"</sheetData>", cells + b"</sheetData>")


CASES = {
    "dimension A1:XFD1048576, one cell in the last row": far_cell(
        b'<c r="XFD1048576"><v>1</v></c>'
    ),
    "dimension A1:XFD1048576, a styled empty far cell": far_cell(
        b'<c r="XFD1048576" s="0"/>'
    ),
    "45,000 rows of ten empty cells": empty_cells(45_000),
}


def main() -> None:
    for name, change in CASES.items():
        data = workbook(change)
        started = time.perf_counter()
        try:
            outcome = f"accepted, {len(list(read_rows(data, SCENE_FIELDS)))} row(s)"
        except Invalid as error:
            outcome = f"refused: {error.message}"
        elapsed = time.perf_counter() - started
        print(
            f"{elapsed * 1000:8.1f} ms  {len(data) / 1024:7.1f} KB  {name}: {outcome}"
        )


if __name__ == "__main__":
    main()
