"""Reading an uploaded workbook safely, and writing the blank template.

The upload is checked as a zip before openpyxl sees it: entry count, declared
uncompressed size and compression ratio (zip bombs), macros and external links are
refused. The first sheet's XML is then scanned once, with defusedxml and a budget of
rows and cells, for what would make openpyxl hang or fail (a far-away cell, a value
that is not a number, a truncated file); openpyxl reads it only after that, in
read-only mode and within the rows and columns that hold data.
"""

import dataclasses
import io
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any
from xml.parsers import expat

from openpyxl import Workbook, load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import CellCoordinatesException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.constants import SHEET_MAIN_NS

from marketplace import spreadsheets
from marketplace.errors import DomainError, Invalid, TooLarge
from marketplace.items.fields import Field
from marketplace.taxonomy import Taxonomy

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_ENTRIES = 200
MAX_UNCOMPRESSED = 80 * 1024 * 1024
MAX_RATIO = 200
# What is scanned, blank rows and empty cells included, is bounded, not only the rows
# that count: a sheet claiming A1:XFD1048576 is 17 billion cells to openpyxl.
MAX_SHEET_ROWS = 2 * MAX_ROWS  # the last row number that may hold data
MAX_COLUMNS = 100  # columns read; the template has fewer than 20
MAX_SCANNED = 300_000  # elements of the sheet XML: under a second to walk
# Excel's own calendar: serial 1 is 1900-01-01 and 2958465 is 9999-12-31.
LAST_EXCEL_SERIAL = 2958465
# expat names elements "namespace}local"
ROW_TAG = f"{SHEET_MAIN_NS}}}row"
CELL_TAG = f"{SHEET_MAIN_NS}}}c"
VALUE_TAG = f"{SHEET_MAIN_NS}}}v"
VALUE_TAGS = {f"{SHEET_MAIN_NS}}}{name}" for name in ("v", "is", "f")}
LIST_SEPARATORS = ("、", "，", ",", "；", ";", "\n")
ORGANIZATION_HEADER = "发布单位（全称）"


def header_of(field: Field) -> str:
    return field.label + ("（多个用、分隔）" if field.kind == "choices" else "")


@dataclass
class SheetRow:
    number: int  # the row number Excel shows
    values: dict[str, Any]
    problems: dict[str, str] = dataclasses.field(default_factory=dict)


def _refuse(message: str) -> None:
    raise Invalid(message, code="bad_workbook", fields={"file": message})


def check_container(data: bytes) -> None:
    """Refuse what is not a plain, reasonably sized XLSX before parsing any XML."""
    if len(data) > MAX_BYTES:
        raise TooLarge("文件超过5 MB，请拆分后上传", code="file_too_large")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        _refuse("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后上传")
    if data[:4] != b"PK\x03\x04":
        _refuse("文件不是 Excel 工作簿（.xlsx），请使用下载的模板填写")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except zipfile.BadZipFile:
        _refuse("文件已损坏，无法作为 .xlsx 打开")
    if len(entries) > MAX_ENTRIES:
        _refuse("工作簿结构异常（文件条目过多），已拒绝")
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        _refuse("文件不是 Excel 工作簿（缺少 workbook.xml）")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        _refuse("工作簿含有宏，已拒绝；请另存为不含宏的 .xlsx")
    if any(name.startswith("xl/externalLinks/") for name in names):
        _refuse("工作簿含有外部链接，已拒绝；请粘贴为数值后再上传")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED:
        _refuse("工作簿解压后过大，疑似压缩炸弹，已拒绝")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if ratio > MAX_RATIO and entry.file_size > 1024 * 1024:
            _refuse("工作簿压缩比异常，疑似压缩炸弹，已拒绝")


@dataclass
class Damage:
    """The first cell (or row) of the sheet XML that cannot be read."""

    row: int
    column: int | None
    reason: str


@dataclass
class SheetScan:
    last_row: int  # the last row number holding a value; 0 for an empty sheet
    damage: Damage | None = None


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    """The part name of the first worksheet, found as openpyxl finds it."""
    from openpyxl.reader.workbook import WorkbookParser

    parser = WorkbookParser(archive, "xl/workbook.xml")
    parser.parse()
    for _sheet, rel in parser.find_sheets():
        if "chartsheet" not in rel.Type:
            return rel.target
    raise KeyError("no worksheet")


def _unreadable_value(kind: str, raw: str) -> str | None:
    """Why openpyxl could not read a cell of type `kind` holding `raw`, or None."""
    if not raw or kind not in ("n", "b", "d"):
        return None
    try:
        if kind == "d":
            from_ISO8601(raw)
            return None
        # openpyxl's own rule: a "." or an exponent makes a float, else an int
        floating = kind == "n" and any(c in raw for c in ".eE")
        number = float(raw) if floating else int(raw)
    except (ValueError, OverflowError):
        return f"值“{raw[:20]}”不是有效的{'日期' if kind == 'd' else '数字'}"
    if not math.isfinite(number):
        return f"值“{raw[:20]}”超出了数字的范围"
    return None


class _Found(Exception):
    """Stops the scan at the first damaged cell."""

    def __init__(self, damage: Damage) -> None:
        self.damage = damage


class _SheetScanner:
    """expat callbacks over the sheet XML: cheap enough (about 2 µs an element on
    this hardware) to run before openpyxl, whose defusedxml parser is pure Python."""

    def __init__(self) -> None:
        self.scanned = self.row = self.column = self.last_row = 0
        self.in_row = False
        self.cell_type = ""
        self.has_value = False
        self.text: list[str] | None = None  # the <v> text being read, if any

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.scanned += 1
        if self.scanned > MAX_SCANNED:
            _refuse(
                f"工作表的内容过多（超过{MAX_SCANNED // 10000}万个单元格或元素，"
                "含空单元格），请删除多余的行列后上传"
            )
        if name == ROW_TAG:
            self.row = int(attributes.get("r") or self.row + 1)
            self.column = 0
            self.in_row = True
        elif name == CELL_TAG:
            reference = attributes.get("r")
            if reference:
                letters, self.row = coordinate_from_string(reference)
                self.column = column_index_from_string(letters)
            else:
                self.column += 1
            self.cell_type = attributes.get("t", "n")
            self.has_value = False
        elif name in VALUE_TAGS:
            self.has_value = True
            if name == VALUE_TAG:
                self.text = []

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, name: str) -> None:
        if name == VALUE_TAG and self.text is not None:
            raw = "".join(self.text).strip()
            self.text = None
            reason = _unreadable_value(self.cell_type, raw)
            if reason:
                raise _Found(Damage(self.row, self.column, reason))
        elif name == CELL_TAG and self.has_value:
            if self.row > MAX_SHEET_ROWS:
                _refuse(
                    f"单元格 {get_column_letter(self.column)}{self.row}"
                    f"（第{self.row}行）有内容，超出可导入的范围：数据须在前"
                    f"{MAX_SHEET_ROWS}行内，请删除多余的行后上传"
                )
            self.last_row = max(self.last_row, self.row)
        elif name == ROW_TAG:
            self.in_row = False


def _no_dtd(*_args: Any) -> None:
    # Excel never writes a DTD; refusing every one closes entity bombs (B5).
    _refuse("工作表含有不安全的XML内容（DTD或实体），已拒绝")


def scan_sheet(source: IO[bytes]) -> SheetScan:
    """Walk the sheet XML once within a budget; refuse what is too large to read.

    A damaged value or a truncated file is reported as `damage` rather than raised,
    so the refusal can name the column by its header.
    """
    scanner = _SheetScanner()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.CharacterDataHandler = scanner.data
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    try:
        parser.ParseFile(source)
    except _Found as found:
        return SheetScan(scanner.last_row, found.damage)
    except (expat.ExpatError, ValueError, CellCoordinatesException):
        # A truncated or garbled file: the rows before this one were whole.
        row = scanner.row if scanner.in_row else scanner.row + 1
        return SheetScan(scanner.last_row, Damage(row, None, "起的数据不完整或已损坏"))
    return SheetScan(scanner.last_row)


def _excel_date(serial: float) -> str:
    """An Excel date serial as YYYY-MM-DD; ValueError where Excel has no such day."""
    if not math.isfinite(serial) or not 1 <= serial < LAST_EXCEL_SERIAL + 1:
        raise ValueError(
            f"日期序号 {serial:g} 超出 Excel 的日期范围（1900-01-01 至 9999-12-31）"
        )
    try:
        return from_excel(serial).date().isoformat()
    except (OverflowError, ValueError):
        raise ValueError(f"日期序号 {serial:g} 超出 Excel 的日期范围") from None


def _cell_value(cell: Any, kind: str) -> Any:
    """The cell as the text a form would send; ValueError when it cannot be read."""
    value = cell.value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and (kind == "date" or cell.is_date):
        return _excel_date(value)
    if number and kind == "money":
        return f"{value:.2f}" if value >= 0 else str(value)
    if number:
        return str(int(value)) if float(value).is_integer() else str(value)
    if cell.data_type == "e":
        raise ValueError(f"单元格是错误值 {value}")
    if kind == "bool":
        return "1" if str(value).strip() in ("是", "1", "TRUE", "true", "公开") else ""
    if isinstance(value, str):
        if kind == "choices":
            for separator in LIST_SEPARATORS[1:]:
                value = value.replace(separator, LIST_SEPARATORS[0])
            return [
                part.strip() for part in value.split(LIST_SEPARATORS[0]) if part.strip()
            ]
        return value
    return "" if value is None else str(value)


def _damaged(damage: Damage, headers: list[str]) -> None:
    where = f"第{damage.row}行"
    if damage.column is not None:
        letter = get_column_letter(damage.column)
        header = headers[damage.column - 1] if damage.column <= len(headers) else ""
        where += f"「{header}」（{letter}列）" if header else f"{letter}列"
    _refuse(
        f"无法读取该工作簿：{where}{damage.reason}；"
        "请用 Excel 打开、修改后重新保存为 .xlsx 再上传"
    )


def read_rows(data: bytes, fields: tuple[Field, ...]) -> Iterator[SheetRow]:
    """Rows of the first sheet, by header name; blank rows are skipped."""
    check_container(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        with archive.open(_first_sheet_path(archive)) as source:
            scan = scan_sheet(source)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except DomainError:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged file
        _refuse("无法读取该工作簿，请确认是用 Excel 保存的 .xlsx 文件")
    # openpyxl turns date-styled numbers into dates itself and, for a serial Excel
    # has no day for, only warns and yields "#VALUE!"; reading every serial through
    # `_excel_date` instead names the cell in the preview.
    workbook._date_formats = set()
    try:
        yield from _sheet_rows(workbook.worksheets[0], scan, fields)
    finally:
        workbook.close()


def _guarded(rows: Iterator[Any]) -> Iterator[tuple[int, Any]]:
    """Number the rows, and turn what openpyxl raises on a damaged one (a shared
    string that is not there, say) into a refusal naming it."""
    number = 0
    while True:
        number += 1
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception:
            _refuse(
                f"无法读取该工作簿：第{number}行的数据已损坏；"
                "请用 Excel 打开后重新保存为 .xlsx 再上传"
            )
        yield number, cells


def _sheet_rows(
    sheet: Any, scan: SheetScan, fields: tuple[Field, ...]
) -> Iterator[SheetRow]:
    if scan.damage is not None and scan.damage.row <= 1:
        _damaged(scan.damage, [])
    if scan.last_row == 0:
        _refuse("工作表是空的")
    # The <dimension> element is the writer's claim, not the content: openpyxl pads
    # every row to it. Read only the rows and columns the scan found data in.
    sheet.reset_dimensions()
    last_row = scan.last_row if scan.damage is None else scan.damage.row - 1
    rows = _guarded(sheet.iter_rows(max_row=max(last_row, 1), max_col=MAX_COLUMNS))
    headers = [
        str(c.value).strip() if c.value is not None else "" for c in next(rows)[1]
    ]
    while headers and not headers[-1]:
        headers.pop()
    if scan.damage is not None:
        _damaged(scan.damage, headers)
    by_header = {header_of(f): f for f in fields}
    by_header[ORGANIZATION_HEADER] = Field("organization", "发布单位", "text")
    missing = [h for h, f in by_header.items() if f.required and h not in headers]
    if missing:
        _refuse("表头缺少列：" + "、".join(missing) + "；请使用下载的模板")
    columns = {i: by_header[h] for i, h in enumerate(headers) if h in by_header}
    counted = 0
    for number, cells in rows:
        cells = cells[: len(headers)]
        if all(c.value in (None, "") for c in cells):
            continue
        counted += 1
        if counted > MAX_ROWS:
            _refuse(f"数据超过{MAX_ROWS}行，请拆分后上传")
        row = SheetRow(number=number, values={})
        for index, target in columns.items():
            if index >= len(cells):
                continue
            cell = cells[index]
            if cell.data_type == "f":
                row.problems[target.name] = f"{target.label}：含公式，请粘贴为数值"
                continue
            try:
                row.values[target.name] = _cell_value(cell, target.kind)
            except ValueError as error:
                row.problems[target.name] = f"{target.label}：无法读取，{error}"
        yield row


def build_template(fields: tuple[Field, ...], taxonomy: Taxonomy, title: str) -> bytes:
    """A blank sheet with Chinese headers, drop-down lists and an instructions sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    headers = [ORGANIZATION_HEADER] + [header_of(f) for f in fields]
    for column, header in enumerate(headers, start=1):
        spreadsheets.set_value(sheet.cell(row=1, column=column), header)
    sheet.freeze_panes = "A2"
    options = workbook.create_sheet("选项")
    option_column = 1
    for index, field in enumerate(fields, start=2):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = (
            40 if field.name in ("title", "description") else 18
        )
        if field.kind != "choice" or not field.vocabulary:
            continue
        names = taxonomy.names(field.vocabulary)
        option_letter = get_column_letter(option_column)
        # Taxonomy names are editable data: written as text, never as formulas.
        spreadsheets.set_value(options.cell(row=1, column=option_column), field.label)
        for offset, name in enumerate(names, start=2):
            spreadsheets.set_value(options.cell(row=offset, column=option_column), name)
        validation = DataValidation(
            type="list",
            allow_blank=not field.required,
            formula1=f"=选项!${option_letter}$2:${option_letter}${len(names) + 1}",
            showErrorMessage=True,
            errorTitle="取值无效",
            error=f"请从列表中选择{field.label}",
        )
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        option_column += 1
    sheet.column_dimensions["A"].width = 30
    options.sheet_state = "hidden"
    notes = workbook.create_sheet("填写说明")
    for number, line in enumerate(
        (
            "每行一条；第1行是表头，请勿修改。",
            "发布单位须与平台中登记的单位全称一致。",
            "带下拉框的列请从列表中选择；多个取值用顿号（、）分隔。",
            "金额以元为单位，不带逗号；留空表示面议。日期格式为 YYYY-MM-DD。",
            "请勿使用公式；单个文件不超过5 MB、5000行。",
        ),
        start=1,
    ):
        spreadsheets.set_value(notes.cell(row=number, column=1), line)
    notes.column_dimensions["A"].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
