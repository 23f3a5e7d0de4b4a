"""The one formula-safe path for every XLSX and CSV cell the platform writes.

A spreadsheet runs text that starts with =, +, -, @, a tab or a carriage return as a
formula (OWASP "CSV injection"), and openpyxl turns *any* string that starts with `=`
into a formula cell, even in write-only mode. Every exporter builds its cells here:
in XLSX such text is typed as a string with a quote prefix (shown as written, never
run); in CSV it gets a leading apostrophe. Characters that XML 1.0 cannot carry are
dropped, so an odd title never turns a download into an error.
"""

import csv
from collections.abc import Iterable
from typing import IO, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula."""
    return text.startswith(FORMULA_PREFIXES)


def xlsx_text(value: str) -> str:
    """Text as an XLSX cell can hold it (no XML-illegal control characters)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def cell(sheet: Worksheet, value: Any, **style: Any) -> Cell:
    """A write-only cell; text is always a string cell, never a formula.

    `style` sets cell attributes such as `font` or `alignment`.
    """
    written = WriteOnlyCell(sheet)
    _set(written, value)
    for name, setting in style.items():
        setattr(written, name, setting)
    return written


def row(sheet: Worksheet, values: Iterable[Any]) -> list[Cell]:
    """A row of write-only cells for `sheet.append`, every value made safe."""
    return [v if isinstance(v, Cell) else cell(sheet, v) for v in values]


def set_value(target: Cell, value: Any) -> None:
    """Set a cell of an ordinary (not write-only) worksheet safely."""
    _set(target, value)


def _set(target: Cell, value: Any) -> None:
    if not isinstance(value, str):
        target.value = value
        return
    text = xlsx_text(value)
    # Assigning a str makes openpyxl guess its type ("=..." becomes a formula), so the
    # type is set after the value, and the quote prefix tells Excel to keep it text.
    target.value = text
    target.data_type = "s"
    if is_formula_like(text):
        target.quotePrefix = True


def csv_field(value: Any) -> Any:
    """A CSV field a spreadsheet shows as text even when it looks like a formula."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


class CsvWriter:
    """`csv.writer` whose every field passes through `csv_field`."""

    def __init__(self, target: IO[str], **options: Any) -> None:
        self._writer = csv.writer(target, **options)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow([csv_field(v) for v in values])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)
