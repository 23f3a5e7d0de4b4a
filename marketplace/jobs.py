"""What the scheduled jobs did: one row per run, shown on the jobs page."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from marketplace.db import Base, UTCDateTime


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (sa.Index("ix_job_runs_job_started", "job_id", "started_at"),)

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    job_id: orm.Mapped[str] = orm.mapped_column(sa.String(60))
    started_at: orm.Mapped[datetime] = orm.mapped_column(UTCDateTime())
    duration_ms: orm.Mapped[int] = orm.mapped_column(default=0)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(10))  # ok | error
    message: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")


class RunRecorder:
    """Times a job and records its result in its own transaction."""

    def __init__(
        self,
        session_factory: Callable[[], orm.Session],
        job_id: str,
        now: Callable[[], datetime],
    ) -> None:
        self.session_factory = session_factory
        self.job_id = job_id
        self.now = now
        self.message = ""

    @contextmanager
    def run(self) -> Iterator["RunRecorder"]:
        started_at, started = self.now(), time.perf_counter()
        status = "ok"
        try:
            yield self
        except Exception as error:
            status, self.message = "error", f"{type(error).__name__}: {error}"[:2000]
            raise
        finally:
            session = self.session_factory()
            try:
                session.add(
                    JobRun(
                        job_id=self.job_id,
                        started_at=started_at,
                        duration_ms=int((time.perf_counter() - started) * 1000),
                        status=status,
                        message=self.message,
                    )
                )
                session.commit()
            finally:
                session.close()


def last_runs(session: orm.Session) -> dict[str, JobRun]:
    """The latest run of every job."""
    latest = (
        sa.select(JobRun.job_id, sa.func.max(JobRun.id).label("id"))
        .group_by(JobRun.job_id)
        .subquery()
    )
    rows = session.scalars(sa.select(JobRun).join(latest, latest.c.id == JobRun.id))
    return {row.job_id: row for row in rows}


def recent_runs(session: orm.Session, limit: int = 50) -> list[JobRun]:
    return list(
        session.scalars(sa.select(JobRun).order_by(JobRun.id.desc()).limit(limit))
    )
