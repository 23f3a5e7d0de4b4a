"""Generated downloads of editions, written once under instance/editions/ and
recorded with their SHA-256, so the page can show the hash of the very file served."""

import hashlib
import os
import tempfile
from collections.abc import Iterable
from contextlib import closing
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
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


def _write(path: Path, edition: Edition, fmt: str, payloads: Iterable[str]) -> str:
    """Write to a temporary file beside the target, then rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        if fmt == "xlsx":
            with os.fdopen(handle, "wb") as binary:
                exports.write_xlsx(binary, edition, payloads)
        else:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as text:
                writer = exports.write_csv if fmt == "csv" else exports.write_json
                writer(text, edition, payloads)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return file_sha256(path)


def file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


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
