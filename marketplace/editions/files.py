"""Generated downloads of editions, written once under instance/editions/ and
recorded with their SHA-256, so the page can show the hash of the very file served."""

import hashlib
import os
import tempfile
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


def _write(path: Path, edition: Edition, fmt: str, payloads: list[str]) -> str:
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
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def ensure_files(
    session: orm.Session, edition: Edition, directory: Path, *, now: datetime
) -> dict[str, EditionFile]:
    """Generate the downloads an edition lacks and record their hashes."""
    recorded = {
        f.format: f
        for f in session.scalars(
            sa.select(EditionFile).where(EditionFile.edition_id == edition.id)
        )
    }
    payloads: list[str] | None = None
    for fmt in FORMATS:
        path = file_path(directory, edition, fmt)
        if fmt in recorded and path.exists():
            continue
        if payloads is None:
            payloads = edition_payloads(session, edition)
        sha256 = _write(path, edition, fmt, payloads)
        if fmt not in recorded:
            recorded[fmt] = EditionFile(
                edition_id=edition.id,
                format=fmt,
                sha256=sha256,
                size=path.stat().st_size,
                created_at=now,
            )
            session.add(recorded[fmt])
    return recorded


def editions_missing_files(session: orm.Session) -> list[Edition]:
    complete = (
        sa.select(EditionFile.edition_id)
        .group_by(EditionFile.edition_id)
        .having(sa.func.count() >= len(FORMATS))
    )
    return list(session.scalars(sa.select(Edition).where(Edition.id.notin_(complete))))
