"""Backups an operator can restore: one consistent snapshot of the database, the
edition files beside it, and a manifest of what the snapshot holds.

SQLite is copied with its online backup API while the platform keeps writing;
PostgreSQL with `pg_dump -Fc` from an exported snapshot, the same one the manifest's
row counts are read in, so the counts describe exactly what was dumped. The files
are copied after the snapshot: every file the snapshot records was written before
it was recorded, so it is there to copy.
"""

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from marketplace.db import Base, get_engine, session_scope
from marketplace.editions.files import file_path, file_sha256
from marketplace.editions.jobs import editions_directory
from marketplace.editions.models import Edition, EditionFile
from marketplace.editions.services import verify_chain
from marketplace.schema import is_known_revision, upgrade_database

MANIFEST = "manifest.json"
SQLITE_COPY = "database.sqlite3"
POSTGRESQL_DUMP = "database.dump"
FILES = "editions"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, in Chinese."""


@dataclass
class Manifest:
    created_at: str
    backend: str
    revision: str | None
    counts: dict[str, int]
    files: int


@dataclass
class RestoreReport:
    manifest: Manifest
    mismatched: dict[str, tuple[int, int]]  # table → (in the backup, restored)
    chain_ok: bool
    files: int  # edition files copied
    bad_files: list[str]  # recorded files missing or not matching their SHA-256

    @property
    def ok(self) -> bool:
        return not self.mismatched and self.chain_ok and not self.bad_files


def _describe(connection: sa.Connection) -> tuple[dict[str, int], str | None]:
    """Row counts of every table the platform defines, and the schema revision."""
    present = set(sa.inspect(connection).get_table_names())
    counts = {
        table.name: int(
            connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        )
        for table in Base.metadata.sorted_tables
        if table.name in present
    }
    revision = (
        connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
        if "alembic_version" in present
        else None
    )
    return counts, revision


def _postgresql_command(
    program: str, url: sa.URL, arguments: list[str]
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL client program against the database of `url`, query options
    (host socket, sslmode) included."""
    env = dict(os.environ)
    if url.password:  # never on the command line, where ps would show it
        env["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None)
    database = f"--dbname={libpq.render_as_string(hide_password=False)}"
    try:
        done = subprocess.run(
            [program, database, *arguments],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as error:
        raise BackupError(
            f"找不到 {program}：请安装 PostgreSQL 客户端（apt-get install"
            " postgresql-client），版本不低于服务器"
        ) from error
    if done.returncode != 0:
        raise BackupError(f"{program} 失败：{done.stderr.strip()[-500:]}")
    return done


def _copy_files(source: Path, target: Path) -> int:
    """Copy the edition files not already at the target; returns how many."""
    copied = 0
    if not source.is_dir():
        return 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.suffix == ".part":
            continue
        destination = target / path.relative_to(source)
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied += 1
    return copied


def backup(app: Flask, destination: Path, *, now: datetime) -> Manifest:
    """Write a backup into `destination`, a new or empty directory."""
    if destination.exists() and (
        not destination.is_dir() or any(destination.iterdir())
    ):
        raise BackupError(f"“{destination}”已存在且不是空目录：请指定新的备份目录")
    destination.mkdir(parents=True, exist_ok=True)
    engine = get_engine(app)
    if engine.dialect.name == "sqlite":
        copy = destination / SQLITE_COPY
        _sqlite_copy(Path(str(engine.url.database)), copy)
        snapshot = sa.create_engine(f"sqlite:///{copy}")
        with snapshot.connect() as connection:
            counts, revision = _describe(connection)
        snapshot.dispose()
    else:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot_id = connection.scalar(sa.text("SELECT pg_export_snapshot()"))
                counts, revision = _describe(connection)
                _postgresql_command(
                    "pg_dump",
                    engine.url,
                    [
                        "--format=custom",
                        "--no-owner",
                        f"--snapshot={snapshot_id}",
                        f"--file={destination / POSTGRESQL_DUMP}",
                    ],
                )
    files = _copy_files(editions_directory(app), destination / FILES)
    manifest = Manifest(now.isoformat(), engine.dialect.name, revision, counts, files)
    (destination / MANIFEST).write_text(
        json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return manifest


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page (other writers carry on; the source
    is only read) and check the copy's integrity."""
    origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        origin.backup(copy)
        # One self-contained file (no -wal/-shm beside it), readable from read-only
        # media; the platform switches its database back to WAL when it connects.
        copy.execute("PRAGMA journal_mode=DELETE")
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        origin.close()
    if result != "ok":
        raise BackupError(f"数据库副本完整性检查未通过：{result}")


def read_manifest(source: Path) -> Manifest:
    try:
        raw: Any = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(**raw)
    except FileNotFoundError as error:
        raise BackupError(f"“{source}”不是备份目录：缺少 {MANIFEST}") from error
    except (ValueError, TypeError) as error:
        raise BackupError(f"{MANIFEST} 无法读取：{error}") from error


def _tables(engine: sa.Engine) -> list[str]:
    return sa.inspect(engine).get_table_names()


def restore(app: Flask, source: Path) -> RestoreReport:
    """Restore a backup into this app's database, which must have no tables yet,
    and its edition files; check the row counts against the manifest, bring the
    schema up to date (a backup may predate migrations), check that every recorded
    file is there with its SHA-256, and verify the edition chain."""
    manifest = read_manifest(source)
    engine = get_engine(app)
    if manifest.backend != engine.dialect.name:
        raise BackupError(
            f"备份来自 {manifest.backend} 数据库，当前数据库是 {engine.dialect.name}"
        )
    if manifest.revision is None or not is_known_revision(manifest.revision):
        raise BackupError(
            f"备份的数据库结构版本 {manifest.revision} 不在本版本的迁移中："
            "请用不早于备份时的程序版本恢复"
        )
    if tables := _tables(engine):
        raise BackupError(
            f"目标数据库不是空的（已有 {len(tables)} 张表）：恢复只写入全新的空数据库，"
            "请新建数据库后再恢复（不要先运行 migrate）"
        )
    engine.dispose()
    if engine.dialect.name == "sqlite":
        _sqlite_copy(source / SQLITE_COPY, Path(str(engine.url.database)))
    else:
        _postgresql_command(
            "pg_restore",
            engine.url,
            [
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",  # all or nothing: a failure leaves it empty
                str(source / POSTGRESQL_DUMP),
            ],
        )
    engine.dispose()
    with engine.connect() as connection:
        counts, _ = _describe(connection)
    mismatched = {
        table: (expected, counts.get(table, 0))
        for table, expected in manifest.counts.items()
        if counts.get(table, 0) != expected
    }
    upgrade_database(app.config["DATABASE_URL"])
    directory = editions_directory(app)
    copied = _copy_files(source / FILES, directory)
    with session_scope(app) as session:
        chain_ok = verify_chain(session).ok
        bad_files = _files_not_as_recorded(session, directory)
    return RestoreReport(manifest, mismatched, chain_ok, copied, bad_files)


def _files_not_as_recorded(session: Any, directory: Path) -> list[str]:
    """Recorded edition files that are missing or differ from their SHA-256."""
    bad = []
    rows = session.execute(sa.select(Edition, EditionFile).join(EditionFile)).all()
    for edition, recorded in rows:
        path = file_path(directory, edition, recorded.format)
        if not path.is_file() or file_sha256(path) != recorded.sha256:
            bad.append(str(path))
    return bad
