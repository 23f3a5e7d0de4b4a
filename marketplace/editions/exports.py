"""Edition downloads: XLSX, CSV (UTF-8 with BOM) and JSON, written as streams.

Every XLSX and CSV cell goes through `marketplace.spreadsheets`, so text that a
spreadsheet would run as a formula stays text. The JSON keeps every value exactly as
published.
"""

import json
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from marketplace import spreadsheets
from marketplace.editions.models import Edition


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int


COLUMNS: dict[str, tuple[Column, ...]] = {
    "scenes": (
        Column("id", "编号", 8),
        Column("title", "场景名称", 40),
        Column("organization", "发布单位", 30),
        Column("domain", "领域", 10),
        Column("category", "场景类别", 10),
        Column("kind", "场景类型", 12),
        Column("industries", "产业方向", 24),
        Column("district", "板块", 10),
        Column("budget", "预算（元）", 14),
        Column("funding_source", "资金来源", 10),
        Column("deadline", "征集截止", 12),
        Column("description", "场景描述", 80),
        Column("contact_name", "联系人", 10),
        Column("contact_phone", "联系电话", 16),
        Column("contact_email", "联系邮箱", 24),
    ),
    "capabilities": (
        Column("id", "编号", 8),
        Column("title", "能力名称", 40),
        Column("organization", "提供单位", 30),
        Column("type", "能力类型", 10),
        Column("maturity", "成熟度", 12),
        Column("domains", "适用领域", 20),
        Column("industries", "产业方向", 24),
        Column("districts", "服务板块", 24),
        Column("description", "能力描述", 80),
        Column("contact_name", "联系人", 10),
        Column("contact_phone", "联系电话", 16),
        Column("contact_email", "联系邮箱", 24),
    ),
}


def utc_text(moment: datetime) -> str:
    """The publication time as the digest covers it."""
    return moment.astimezone(UTC).isoformat()


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _rows(edition: Edition, payloads: Iterable[str]) -> Iterator[list[str]]:
    for line in payloads:
        item = json.loads(line)
        yield [cell_text(item.get(c.key)) for c in COLUMNS[edition.list_kind]]


def write_xlsx(
    target: IO[bytes] | Path,
    edition: Edition,
    payloads: Iterable[str],
) -> None:
    """A summary sheet and the list's sheet: frozen Chinese header, set widths."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("汇总")
    summary.column_dimensions["A"].width = 18
    summary.column_dimensions["B"].width = 70
    bold = Font(bold=True)
    for label, value in _summary_rows(edition):
        summary.append(
            [
                spreadsheets.cell(summary, label, font=bold),
                spreadsheets.cell(summary, value),
            ]
        )
    sheet = workbook.create_sheet(edition.list_label)
    columns = COLUMNS[edition.list_kind]
    for index, column in enumerate(columns):
        sheet.column_dimensions[_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.append([spreadsheets.cell(sheet, c.header, font=bold) for c in columns])
    for row in _rows(edition, payloads):
        sheet.append(spreadsheets.row(sheet, row))
    save_reproducibly(workbook, target, edition.published_at)


class _ReproducibleZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed time, so equal content gives equal
    bytes (zipfile stamps each entry with the clock or the temporary file's mtime)."""

    def __init__(self, target: IO[bytes] | Path, moment: datetime) -> None:
        super().__init__(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        local = moment.astimezone(UTC)
        self._date_time = (
            max(local.year, 1980),
            local.month,
            local.day,
            local.hour,
            local.minute,
            local.second,
        )

    def _info(self, name: str, size: int = 0) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.file_size = size
        return info

    def writestr(  # type: ignore[override]
        self, zinfo_or_arcname: str | zipfile.ZipInfo, data: bytes | str, *args: Any
    ) -> None:
        name = (
            zinfo_or_arcname.filename
            if isinstance(zinfo_or_arcname, zipfile.ZipInfo)
            else zinfo_or_arcname
        )
        super().writestr(self._info(name), data)

    def write(  # type: ignore[override]
        self, filename: str, arcname: str | None = None, *args: Any
    ) -> None:
        # A write-only sheet arrives as a temporary file: streamed, never in memory.
        info = self._info(arcname or filename, os.path.getsize(filename))
        with open(filename, "rb") as source, self.open(info, "w") as entry:
            shutil.copyfileobj(source, entry, 1 << 20)


def save_reproducibly(
    workbook: Workbook, target: IO[bytes] | Path, moment: datetime
) -> None:
    """Save a workbook so that the same content always gives the same bytes.

    A download whose file is lost or overwritten is then written again with exactly
    the SHA-256 recorded at publication. openpyxl's `save` stamps the document with
    the clock; its `ExcelWriter` lets the archive and the stamps be chosen.
    """
    stamp = moment.astimezone(UTC).replace(tzinfo=None)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    ExcelWriter(workbook, _ReproducibleZip(target, moment)).save()


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _summary_rows(edition: Edition) -> list[tuple[str, str]]:
    summary = edition.summary
    rows = [
        ("清单", edition.list_label),
        ("期次", edition.label),
        ("发布时间（UTC）", utc_text(edition.published_at)),
        ("条目数", str(edition.item_count)),
        ("新增", str(len(summary["new"]))),
        ("变更", str(len(summary["changed"]))),
        ("撤下", str(len(summary["withdrawn"]))),
        ("本期摘要 SHA-256", edition.digest),
        ("上期摘要 SHA-256", edition.previous_digest),
    ]
    for key, title in (
        ("by_domain", "按领域"),
        ("by_district", "按板块"),
        ("by_industry", "按产业"),
    ):
        rows.append((title, "；".join(f"{k} {v}" for k, v in summary[key].items())))
    return rows


def write_csv(target: IO[str], edition: Edition, payloads: Iterable[str]) -> None:
    """UTF-8 with a BOM, so Excel opens the Chinese text cleanly."""
    target.write("\ufeff")
    writer = spreadsheets.CsvWriter(target)
    writer.writerow([c.header for c in COLUMNS[edition.list_kind]])
    writer.writerows(_rows(edition, payloads))


def write_json(target: IO[str], edition: Edition, payloads: Iterable[str]) -> None:
    """The edition and its items exactly as published, item by item."""
    header = {
        "list": edition.list_kind,
        "list_label": edition.list_label,
        "label": edition.label,
        "year": edition.year,
        "sequence": edition.sequence,
        "published_at": utc_text(edition.published_at),
        "item_count": edition.item_count,
        "digest": edition.digest,
        "previous_digest": edition.previous_digest,
        "summary": edition.summary,
    }
    if edition.digest_version >= 2:
        # What the version 2 digest also covers, so that anyone can recompute it.
        # Version 1 files keep their exact bytes (their recorded SHA-256).
        header.update(
            digest_version=edition.digest_version,
            published_by=edition.published_by,
            period=edition.period_key,
        )
    head = json.dumps(header, ensure_ascii=False)
    target.write(head[:-1] + ', "items": [')
    for index, line in enumerate(payloads):
        target.write(("," if index else "") + "\n" + line)
    target.write("\n]}\n")
