"""Reading an uploaded workbook safely, and writing the blank template.

The upload is checked as a zip before openpyxl sees it: entry count, declared
uncompressed size and compression ratio (zip bombs), macros and external links are
refused. openpyxl then reads it with defusedxml (entity bombs) in read-only mode.
"""

import dataclasses
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from marketplace import spreadsheets
from marketplace.errors import Invalid, TooLarge
from marketplace.items.fields import Field
from marketplace.taxonomy import Taxonomy

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_ENTRIES = 200
MAX_UNCOMPRESSED = 80 * 1024 * 1024
MAX_RATIO = 200
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


def _cell_value(cell: Any, kind: str) -> Any:
    value = cell.value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if (
        kind == "date"
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return from_excel(value).date().isoformat()
    if (
        kind == "money"
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return f"{value:.2f}" if value >= 0 else str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
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


def read_rows(data: bytes, fields: tuple[Field, ...]) -> Iterator[SheetRow]:
    """Rows of the first sheet, by header name; blank rows are skipped."""
    check_container(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file
        _refuse("无法读取该工作簿，请确认是用 Excel 保存的 .xlsx 文件")
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows()
    try:
        header_cells = next(rows)
    except StopIteration:
        _refuse("工作表是空的")
    headers = [
        str(c.value).strip() if c.value is not None else "" for c in header_cells
    ]
    by_header = {header_of(f): f for f in fields}
    by_header[ORGANIZATION_HEADER] = Field("organization", "发布单位", "text")
    missing = [h for h, f in by_header.items() if f.required and h not in headers]
    if missing:
        _refuse("表头缺少列：" + "、".join(missing) + "；请使用下载的模板")
    columns = {i: by_header[h] for i, h in enumerate(headers) if h in by_header}
    counted = 0
    for number, cells in enumerate(rows, start=2):
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
            row.values[target.name] = _cell_value(cell, target.kind)
        yield row
    workbook.close()


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
