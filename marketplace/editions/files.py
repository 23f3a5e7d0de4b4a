"""Generated downloads of editions, written once into the database's editions
directory and recorded with their SHA-256, so the page can show the hash of the very
file served.

A file is served only when it is its edition's own: its size and SHA-256 equal the
recorded ones. Hashing a large workbook on every download would cost more than
serving it, so a file once verified is remembered by its identity on disk (device,
inode, size, mtime and ctime: any write, rename or `touch` changes one of them) and
verified again only when that changes. Every writer is reproducible (the same
edition always gives the same bytes), so a lost or foreign file is written again
with the recorded hash; a file that cannot be is refused, never served.
"""

import hashlib
import io
import json
import os
import tempfile
import threading
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import orm

from marketplace.editions import exports
from marketplace.editions.models import Edition, EditionFile
from marketplace.editions.services import edition_payloads

FORMATS = {"xlsx": "Excel", "csv": "CSV", "json": "JSON"}
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "json": "application/json",
}


def file_path(directory: Path, edition: Edition, fmt: str) -> Path:
    return (
        directory / edition.list_kind / f"{edition.year}-{edition.sequence:02d}.{fmt}"
    )


def download_name(edition: Edition, fmt: str) -> str:
    """An ASCII name, which every browser and mail client keeps intact."""
    return f"{edition.list_kind}-{edition.year}-{edition.sequence:02d}.{fmt}"


def write_format(
    target: IO[bytes], edition: Edition, fmt: str, payloads: Iterable[str]
) -> None:
    """Write one download of an edition into a binary stream."""
    if fmt == "xlsx":
        exports.write_xlsx(target, edition, payloads)
        return
    text = io.TextIOWrapper(target, encoding="utf-8", newline="")
    writer = exports.write_csv if fmt == "csv" else exports.write_json
    writer(text, edition, payloads)
    text.flush()
    text.detach()


def _write(
    path: Path,
    edition: Edition,
    fmt: str,
    payloads: Iterable[str],
    expected_sha256: str | None = None,
) -> str | None:
    """Write to a temporary file beside the target, then rename: never half a file.

    With `expected_sha256`, the file replaces the target only if it has that hash;
    returns the new file's hash, or None when it was not put in place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as binary:
            write_format(binary, edition, fmt, payloads)
        sha256 = file_sha256(Path(temporary))
        if expected_sha256 is not None and sha256 != expected_sha256:
            Path(temporary).unlink()
            return None
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256


def file_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return _stream_sha256(stream)


def _stream_sha256(stream: IO[bytes]) -> str:
    hasher = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        hasher.update(chunk)
    return hasher.hexdigest()


# (path, device, inode, size, mtime, ctime) → the SHA-256 that file was found to have.
_verified: dict[tuple[Any, ...], str] = {}
_verified_lock = threading.Lock()
_VERIFIED_MAX = 4096


def open_verified(path: Path, recorded: EditionFile) -> IO[bytes] | None:
    """The file opened for reading if it is the recorded one, else None.

    The check and the serving use one open handle, so a file swapped in between
    is never the one served.
    """
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        return None
    status = os.fstat(stream.fileno())
    key = (
        str(path),
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )
    if status.st_size == recorded.size:
        with _verified_lock:
            known = _verified.get(key)
        if known is None:
            known = _stream_sha256(stream)
            stream.seek(0)
            with _verified_lock:
                if len(_verified) >= _VERIFIED_MAX:
                    _verified.clear()
                _verified[key] = known
        if known == recorded.sha256:
            return stream
    stream.close()
    return None


def restore_file(
    session: orm.Session, edition: Edition, fmt: str, directory: Path, sha256: str
) -> bool:
    """Write an edition's file again; put it in place only if it has the recorded
    hash. False when this code cannot reproduce the recorded file."""
    path = file_path(directory, edition, fmt)
    with closing(edition_payloads(session, edition)) as payloads:
        return _write(path, edition, fmt, payloads, expected_sha256=sha256) is not None


def missing_formats(
    session: orm.Session, edition: Edition, directory: Path
) -> list[str]:
    recorded = set(
        session.scalars(
            sa.select(EditionFile.format).where(EditionFile.edition_id == edition.id)
        )
    )
    return [
        fmt
        for fmt in FORMATS
        if fmt not in recorded or not file_path(directory, edition, fmt).exists()
    ]


def write_missing(
    session: orm.Session,
    edition: Edition,
    directory: Path,
) -> dict[str, tuple[str, int]]:
    """Write the files an edition lacks; returns {format: (sha256, size)}.

    Only reads the database, so it holds no write lock while files are generated.
    """
    written = {}
    for fmt in missing_formats(session, edition, directory):
        path = file_path(directory, edition, fmt)
        with closing(edition_payloads(session, edition)) as payloads:
            sha256 = _write(path, edition, fmt, payloads)
        assert sha256 is not None  # no expected hash: always put in place
        written[fmt] = (sha256, path.stat().st_size)
    return written


def record_files(
    session: orm.Session,
    edition_id: int,
    written: dict[str, tuple[str, int]],
    *,
    now: datetime,
) -> None:
    """Record the hashes of newly written files (the first record of a format stays)."""
    recorded = set(
        session.scalars(
            sa.select(EditionFile.format).where(EditionFile.edition_id == edition_id)
        )
    )
    for fmt, (sha256, size) in written.items():
        if fmt not in recorded:
            session.add(
                EditionFile(
                    edition_id=edition_id,
                    format=fmt,
                    sha256=sha256,
                    size=size,
                    created_at=now,
                )
            )


def editions_missing_files(session: orm.Session) -> list[Edition]:
    complete = (
        sa.select(EditionFile.edition_id)
        .group_by(EditionFile.edition_id)
        .having(sa.func.count() >= len(FORMATS))
    )
    return list(session.scalars(sa.select(Edition).where(Edition.id.notin_(complete))))


@dataclass(frozen=True)
class FileProblem:
    edition: Edition
    format: str
    reason: str


def verify_files(session: orm.Session, directory: Path) -> list[FileProblem]:
    """Check every recorded download: present, with its recorded size and SHA-256,
    and holding its edition's content (so a file swapped together with its recorded
    hash is found too)."""
    problems = []
    rows = session.execute(
        sa.select(Edition, EditionFile)
        .join(EditionFile)
        .order_by(Edition.published_at, Edition.id, EditionFile.format)
    ).all()
    for edition, recorded in rows:
        path = file_path(directory, edition, recorded.format)
        reason = _file_problem(session, edition, recorded, path)
        if reason:
            problems.append(FileProblem(edition, recorded.format, reason))
    return problems


def _file_problem(
    session: orm.Session, edition: Edition, recorded: EditionFile, path: Path
) -> str:
    label = FORMATS[recorded.format]
    if not path.is_file():
        return f"{label} 下载文件缺失（{path}）"
    if path.stat().st_size != recorded.size or file_sha256(path) != recorded.sha256:
        return f"{label} 下载文件与记录的 SHA-256 不符（{path}）"
    with tempfile.TemporaryFile() as expected:
        with closing(edition_payloads(session, edition)) as payloads:
            write_format(expected, edition, recorded.format, payloads)
        expected.seek(0)
        if _stream_sha256(expected) == recorded.sha256:
            return ""
        # Not byte for byte: a workbook written before downloads were reproducible
        # differs in its time stamps only. Compare what a reader sees.
        expected.seek(0)
        with path.open("rb") as actual:
            if _content(recorded.format, actual) == _content(recorded.format, expected):
                return ""
    return f"{label} 下载文件的内容与本期清单不符（{path}）"


def _content(fmt: str, stream: IO[bytes]) -> Any:
    if fmt == "json":
        return json.load(stream)
    if fmt == "csv":
        return stream.read().decode("utf-8")
    workbook = load_workbook(stream, read_only=True)
    try:
        return {
            sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in workbook.worksheets
        }
    finally:
        workbook.close()
