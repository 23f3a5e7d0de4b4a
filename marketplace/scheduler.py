"""Scheduled jobs: what runs, when, and in which process.

APScheduler 3.x is only the trigger. Each job is safe to repeat, so a run missed while
the server was down is simply done at the next tick, and two processes running the same
job do no harm (RELIABILITY.md decisions 2 and 3).
"""

import fcntl
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from flask.cli import with_appcontext

from marketplace.clock import local_today
from marketplace.db import session_scope, utcnow
from marketplace.editions import jobs as editions_jobs
from marketplace.jobs import RunRecorder, last_runs
from marketplace.notifications import jobs as notification_jobs
from marketplace.scenes import services as scene_services

log = logging.getLogger(__name__)


def expire_past_deadline(app: Flask) -> str:
    """Expire scenes whose deadline has passed (with an audit entry each)."""
    with session_scope(app) as session:
        count = scene_services.expire_past_deadline(
            session, today=local_today(), now=utcnow()
        )
    return f"过期 {count} 个场景"


def publish_due_editions(app: Flask) -> str:
    """Publish each list whose scheduled moment has come and has no edition yet."""
    return editions_jobs.publish_due_editions(app)


def embed_missing_vectors(app: Flask) -> str:
    """Compute the sentence vectors that items written in bulk (imports) or before
    the model was installed still lack; a bounded number per run."""
    from marketplace.matches.vectors import dense_mode, embed_missing

    mode = dense_mode(app.config)
    if mode.embedder is None:
        return mode.message
    with session_scope(app) as session:
        reports = embed_missing(session, mode.embedder, now=utcnow, limit=EMBED_PER_RUN)
    done = sum(r.done for r in reports)
    return f"计算语义向量 {done} 条（{mode.message}）"


EMBED_PER_RUN = 300


def precompute_match_answers(app: Flask) -> str:
    """Compute ahead the public match answers that a change made stale, so that a
    visitor's first request for an item reads them instead of ranking; what the
    time budget leaves is done at the next run."""
    from marketplace.matches import answers
    from marketplace.matches.index import get_indexes

    with session_scope(app) as session:
        reports = answers.precompute(
            session,
            get_indexes(app),
            dumps=app.json.dumps,
            now=utcnow,
            seconds=PRECOMPUTE_SECONDS_PER_RUN,
        )
    computed = sum(r.computed for r in reports)
    left = sum(r.left for r in reports)
    return f"更新匹配结果 {computed} 条" + (f"，余 {left} 条下次继续" if left else "")


PRECOMPUTE_SECONDS_PER_RUN = 240


@dataclass(frozen=True)
class Job:
    id: str
    label: str
    func: Callable[[Flask], str]
    trigger: Callable[[str], Any]
    every: str


JOBS = (
    Job(
        "publish-due-editions",
        "按计划发布清单",
        publish_due_editions,
        lambda tz: IntervalTrigger(minutes=1, timezone=tz),
        "每分钟检查一次",
    ),
    Job(
        "embed-missing-vectors",
        "为新条目准备语义匹配",
        embed_missing_vectors,
        lambda tz: IntervalTrigger(minutes=5, timezone=tz),
        "每5分钟",
    ),
    Job(
        "precompute-match-answers",
        "预先计算匹配结果",
        precompute_match_answers,
        lambda tz: IntervalTrigger(minutes=5, timezone=tz),
        "每5分钟，只计算有变化的条目",
    ),
    Job(
        "expire-past-deadline",
        "过期场景下架",
        expire_past_deadline,
        lambda tz: CronTrigger(hour="*", minute=5, timezone=tz),
        "每小时第5分钟",
    ),
    Job(
        "create-notices",
        "生成提醒与匹配通知",
        notification_jobs.create_notices,
        lambda tz: CronTrigger(hour=7, minute=30, timezone=tz),
        "每天 07:30",
    ),
    Job(
        "send-digests",
        "发送通知摘要邮件",
        notification_jobs.send_digests,
        lambda tz: CronTrigger(minute=0, timezone=tz),
        "每小时整点：08:00 起汇总当日摘要（每周摘要在周一），并重试未发出的邮件",
    ),
)
JOBS_BY_ID = {job.id: job for job in JOBS}


def job_next_run(job: Job, now: Any, timezone: str) -> Any:
    """When the job's trigger fires next (whichever process runs the scheduler)."""
    return job.trigger(timezone).get_next_fire_time(None, now)


def run_job(app: Flask, job_id: str) -> None:
    """Run one job by id and record its run (what APScheduler calls)."""
    job = JOBS_BY_ID[job_id]
    recorder = RunRecorder(app.extensions["db"]["sessionmaker"], job.id, utcnow)
    try:
        with app.app_context(), recorder.run():
            recorder.message = job.func(app)
    except Exception:
        log.exception("job %s failed", job.id)


def build_scheduler(app: Flask, scheduler_class: type[BaseScheduler]) -> BaseScheduler:
    """The only code that registers JOBS; the scheduler is returned unstarted."""
    timezone = app.config["MARKETPLACE_TIMEZONE"]
    scheduler = scheduler_class(timezone=timezone)
    for job in JOBS:
        scheduler.add_job(
            run_job,
            job.trigger(timezone),
            args=[app, job.id],
            id=job.id,
            name=job.label,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    return scheduler


def _is_cli_command_other_than_run() -> bool:
    # `flask --app wsgi COMMAND` builds the app for every command; only `run` serves.
    program = os.path.basename(sys.argv[0])
    if program != "flask" and not sys.argv[0].endswith(
        os.path.join("flask", "__main__.py")
    ):
        return False
    return "run" not in sys.argv[1:]


def _is_reloader_watcher(app: Flask) -> bool:
    # With the reloader, the watcher process loads the app too but never serves.
    return app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"


def _take_host_lock(app: Flask) -> IO[str] | None:
    """One in-process scheduler per host, even with several workers (a file lock)."""
    lock_path = Path(app.instance_path) / "scheduler.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "w")  # noqa: SIM115 - held for the process's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def init_app(app: Flask) -> None:
    """Start the in-process scheduler when asked to and this process serves requests."""
    if app.config["MARKETPLACE_SCHEDULER"] != "on" or app.testing:
        return
    if _is_cli_command_other_than_run() or _is_reloader_watcher(app):
        return
    lock = _take_host_lock(app)
    if lock is None:
        return
    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start()
    app.extensions["scheduler"] = (scheduler, lock)
    log.info("in-process scheduler started")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs in this process (production: one beside the workers)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app, BlockingScheduler)
    click.echo("调度进程已启动：" + "，".join(job.label for job in JOBS))
    scheduler.start()


@click.command("expire")
@with_appcontext
def expire_command() -> None:
    """Expire scenes past their deadline now."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(expire_past_deadline(app))


@click.command("notify")
@with_appcontext
def notify_command() -> None:
    """Create notices and send the digests due now (recorded like scheduled runs)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job_ids = ("create-notices", "send-digests")
    for job_id in job_ids:
        run_job(app, job_id)
    with session_scope(app) as session:
        runs = last_runs(session)
    for job_id in job_ids:
        run = runs[job_id]
        outcome = "完成" if run.status == "ok" else "失败"
        click.echo(f"{JOBS_BY_ID[job_id].label}{outcome}：{run.message}")
