"""Publication as the edges run it: one transaction to publish, then the files.

The CLI, the scheduler and the "publish now" button all come through here, so a
publication always gets its downloads, and a crash between the two is mended by
`write_missing_files` on the next tick.
"""

import errno
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import exc

from marketplace.accounts.models import User
from marketplace.db import session_scope, utcnow
from marketplace.editions import files, schedule
from marketplace.editions.models import Edition
from marketplace.editions.services import publish_edition
from marketplace.errors import Unavailable

log = logging.getLogger(__name__)


def editions_directory(app: Flask) -> Path:
    return Path(app.config["EDITIONS_DIRECTORY"])


def publish_now(
    app: Flask,
    list_kind: str,
    *,
    actor_id: int | None = None,
    requested_at: datetime | None = None,
) -> Edition | None:
    """Publish an edition now; None when a racing request or the schedule just did."""
    now = utcnow()
    year = now.astimezone(ZoneInfo(app.config["MARKETPLACE_TIMEZONE"])).year
    try:
        with session_scope(app) as session:
            actor = session.get(User, actor_id) if actor_id else None
            edition = publish_edition(
                session,
                list_kind,
                now=now,
                year=year,
                actor=actor,
                requested_at=requested_at or now,
            )
    except exc.IntegrityError:
        return None
    if edition is not None:
        write_files(app, edition.id)
    return edition


class EditionFilesUnwritable(Unavailable):
    """The edition stands (it is committed) but its downloads could not be written;
    the publication job writes them on a later tick."""

    code = "edition_files_unavailable"

    def __init__(self, edition_id: int, message: str) -> None:
        super().__init__(message)
        self.edition_id = edition_id


DISK_PROBLEMS = {
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "磁盘配额已满",
    errno.EROFS: "文件目录只读",
    errno.EACCES: "没有文件目录的写入权限",
    errno.EPERM: "没有文件目录的写入权限",
    errno.ENOTDIR: "文件目录的路径被文件占用",
    errno.ENOENT: "文件目录不存在",
    errno.EIO: "磁盘读写错误",
}


def disk_problem(error: OSError) -> str:
    """The cause in Chinese, for the center's flash, the jobs page and a download."""
    known = DISK_PROBLEMS.get(error.errno or 0)
    if known:
        return known
    return f"文件写入失败，错误码 {errno.errorcode.get(error.errno or 0, error.errno)}"


def write_files(app: Flask, edition_id: int) -> None:
    """Generate an edition's missing downloads, then record their hashes.

    The files are written while only reading, and recorded in a short write
    transaction, so publication elsewhere never waits for a workbook to be built.
    """
    directory = editions_directory(app)
    reader = app.extensions["db"]["read_sessionmaker"]()
    try:
        edition = reader.get(Edition, edition_id)
        written = files.write_missing(reader, edition, directory) if edition else {}
    except OSError as error:
        # A warning, not a traceback: every download asks again while the disk is out.
        log.warning("cannot write the files of edition %s: %s", edition_id, error)
        raise EditionFilesUnwritable(
            edition_id,
            f"{edition.list_label}{edition.label}的下载文件暂时无法生成"
            f"（{disk_problem(error)}）。"
            "本期已发布，系统每分钟重试生成文件，请稍后再下载。",
        ) from error
    finally:
        reader.close()
    if written:
        with session_scope(app) as session:
            files.record_files(session, edition_id, written, now=utcnow())


def publish_due_editions(app: Flask) -> str:
    """The scheduler's tick: publish what is due, then any missing files."""
    published = schedule.publish_due(
        app.extensions["db"]["sessionmaker"],
        now=utcnow(),
        timezone=app.config["MARKETPLACE_TIMEZONE"],
    )
    for edition_id in published:
        write_files(app, edition_id)
    written = write_missing_files(app)
    return f"发布 {len(published)} 期；补写 {written} 期文件"


def write_missing_files(app: Flask) -> int:
    with session_scope(app) as session:
        missing = [e.id for e in files.editions_missing_files(session)]
    for edition_id in missing:
        write_files(app, edition_id)
    return len(missing)
