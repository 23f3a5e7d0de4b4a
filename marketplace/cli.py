"""Command line: `flask --app wsgi COMMAND` (names fixed by CONTRACT.md)."""

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from marketplace import backup as backups
from marketplace import demo
from marketplace.accounts import services as accounts
from marketplace.accounts.models import ROLES
from marketplace.db import session_scope, utcnow
from marketplace.editions.files import verify_files
from marketplace.editions.jobs import (
    EditionFilesUnwritable,
    editions_directory,
    publish_now,
)
from marketplace.editions.models import LISTS
from marketplace.editions.services import sign_missing_heads, verify_chain
from marketplace.errors import DomainError
from marketplace.schema import upgrade_database


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Bring the database schema up to date (safe to run again)."""
    upgrade_database(current_app.config["DATABASE_URL"])
    # Editions published before chain heads were signed get their head signed now,
    # at the upgrade, so that later deletions of the latest edition show.
    with session_scope(current_app) as session:
        signed = sign_missing_heads(session, now=utcnow())
    for list_kind in signed:
        click.echo(f"已签名{LISTS[list_kind]}的链头。")
    click.echo("数据库已是最新结构。")


@click.command("load-demo")
@with_appcontext
def load_demo_command() -> None:
    """Load the demo data from seed_data/ (a second run adds nothing)."""
    from marketplace.matches.vectors import write_embedder

    with session_scope(current_app) as session:
        counts = demo.load_demo(
            session, now=utcnow(), embedder=write_embedder(current_app.config)
        )
    click.echo("演示数据：" + "，".join(f"{k} 新增 {v}" for k, v in counts.items()))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--org", "organization", default=None, help="所属单位名称")
def create_user_command(
    username: str, password: str, role: str, organization: str | None
) -> None:
    """Create a user with a role, optionally in an organization."""
    try:
        with session_scope(current_app) as session:
            accounts.create_user(
                session,
                username,
                password,
                role,
                organization_name=organization,
                now=utcnow(),
            )
    except DomainError as error:
        details = "；".join(error.fields.values())
        raise click.ClickException(
            f"{error.message}{'：' + details if details else ''}"
        ) from None
    click.echo(f"已创建用户 {username}（{ROLES[role]}）。")


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Re-tokenise every item's search words (after the dictionary changed)."""
    from marketplace.search import reindex_all

    with session_scope(current_app) as session:
        count = reindex_all(session)
    click.echo(f"已重建 {count} 条索引。")


@click.command("fit-match-weights")
@with_appcontext
def fit_match_weights_command() -> None:
    """Fit the match score weights from the center's marks; print before and after."""
    from marketplace.matches.services import fit_weights_from_feedback
    from marketplace.matches.vectors import dense_mode

    mode = dense_mode(current_app.config)
    model = mode.embedder.name if mode.embedder is not None else None
    try:
        with session_scope(current_app) as session:
            fit = fit_weights_from_feedback(session, now=utcnow(), vector_model=model)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"用 {fit.pairs} 条标注拟合了权重（{mode.message}）：")
    for name, weight in fit.weights.items():
        click.echo(f"  {name:10} {weight:.4f}")
    click.echo(
        f"  校准：scale {fit.calibration['scale']:.4f}，"
        f"intercept {fit.calibration['intercept']:.4f}"
    )
    click.echo(
        f"标注集上的 nDCG@10：拟合前 {fit.before['ndcg@10']:.4f}，"
        f"拟合后 {fit.after['ndcg@10']:.4f}（{fit.after['scenes']} 个场景）"
    )


@click.command("embed")
@click.option(
    "--kind",
    type=click.Choice(["all", "capability", "scene"]),
    default="all",
    help="只计算场景能力或场景机会的向量",
)
@with_appcontext
def embed_command(kind: str) -> None:
    """Compute the sentence vectors that are missing or stale, with progress.

    Each batch is committed as it is done: an interrupted run keeps its work and the
    next run resumes after it.
    """
    from marketplace.matches.vectors import dense_mode, embed_missing

    mode = dense_mode(current_app.config)
    if mode.embedder is None:
        raise click.ClickException(mode.message)
    kinds = ("capability", "scene") if kind == "all" else (kind,)
    labels = {"capability": "场景能力", "scene": "场景机会"}
    bars: dict[str, Any] = {}

    def show(progress: Any) -> None:
        bar = bars.get(progress.kind)
        if bar is None:
            bar = click.progressbar(
                length=progress.total, label=labels[progress.kind], file=sys.stderr
            )
            bar.__enter__()
            bars[progress.kind] = bar
        bar.update(progress.done - bar.pos)
        if progress.done >= progress.total:
            bar.__exit__(None, None, None)

    click.echo(f"模型：{mode.embedder.name}")
    try:
        with session_scope(current_app) as session:
            reports = embed_missing(
                session, mode.embedder, now=utcnow, kinds=kinds, on_progress=show
            )
    except KeyboardInterrupt:
        raise click.ClickException(
            "已中断；已完成的批次已保存，再次运行将从中断处继续"
        ) from None
    for report in reports:
        click.echo(
            f"{labels[report.kind]}：计算 {report.done} 条，"
            f"用时 {report.seconds:.1f} 秒，每秒 {report.per_second:.1f} 条"
        )


@click.command("precompute-matches")
@click.option(
    "--kind",
    type=click.Choice(["all", "capability", "scene"]),
    default="all",
    help="只计算场景能力或场景机会的匹配结果",
)
@with_appcontext
def precompute_matches_command(kind: str) -> None:
    """Compute the public match answers that are missing or stale, with progress
    (the scheduled job does the same within a time budget per run)."""
    from marketplace.matches import answers
    from marketplace.matches.index import get_indexes

    labels = {"capability": "场景能力", "scene": "场景机会"}
    bars: dict[str, Any] = {}

    def show(kind: str, done: int, total: int) -> None:
        bar = bars.get(kind)
        if bar is None:
            bar = bars[kind] = click.progressbar(
                length=total, label=labels[kind], file=sys.stderr
            )
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    try:
        with session_scope(current_app) as session:
            reports = answers.precompute(
                session,
                get_indexes(current_app),
                dumps=current_app.json.dumps,
                now=utcnow,
                kinds=("scene", "capability") if kind == "all" else (kind,),
                on_progress=show,
            )
    except KeyboardInterrupt:
        raise click.ClickException(
            "已中断；已完成的批次已保存，再次运行将从中断处继续"
        ) from None
    for report in reports:
        rate = report.computed / report.seconds if report.seconds else 0.0
        click.echo(
            f"{labels[report.kind]}：公开 {report.public} 条，"
            f"计算 {report.computed} 条，用时 {report.seconds:.1f} 秒，"
            f"每秒 {rate:.1f} 条"
        )


@click.command("publish")
@click.option(
    "--list", "list_kind", required=True, type=click.Choice(["scenes", "capabilities"])
)
@with_appcontext
def publish_command(list_kind: str) -> None:
    """Publish a new edition of a list now, with its downloads."""
    try:
        edition = publish_now(current_app._get_current_object(), list_kind)  # type: ignore[attr-defined]
    except EditionFilesUnwritable as error:
        raise click.ClickException(error.message) from error
    if edition is None:
        click.echo("刚刚已有一期发布，本次未重复发布。")
        return
    click.echo(
        f"已发布 {edition.list_label} {edition.label}：{edition.item_count} 条，"
        f"摘要 {edition.digest}"
    )


@click.command("verify-editions")
@with_appcontext
def verify_editions_command() -> None:
    """Check every edition against its digest chain, and every recorded download
    against its edition; exit 1 naming the first bad edition and every bad file."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_scope(app) as session:
        check = verify_chain(session)
        problems = verify_files(session, editions_directory(app))
        if not check.ok:
            bad = check.first_bad
            where = (
                f"{bad.list_label} {bad.label}（编号 {bad.id}）"
                if bad is not None
                else LISTS[check.list_kind]  # every edition of it is gone
            )
            click.echo(f"校验失败：{where}{check.reason}", err=True)
        for problem in problems:
            edition = problem.edition
            click.echo(
                f"校验失败：{edition.list_label} {edition.label}（编号 {edition.id}）"
                f"{problem.reason}",
                err=True,
            )
        if not check.ok or problems:
            raise SystemExit(1)
    click.echo(f"全部 {check.checked} 期清单及其下载文件校验通过。")


@click.command("backup")
@click.option(
    "--to",
    "destination",
    required=True,
    type=click.Path(path_type=Path),
    help="新的（或空的）备份目录",
)
@with_appcontext
def backup_command(destination: Path) -> None:
    """Back up the database (a consistent snapshot) and the edition files."""
    try:
        manifest = backups.backup(current_app, destination, now=utcnow())
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"备份完成：{destination}（{manifest.backend}，结构版本 {manifest.revision}，"
        f"{len(manifest.counts)} 张表共 {sum(manifest.counts.values())} 行，"
        f"清单文件 {manifest.files} 个）"
    )


@click.command("restore")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="backup 命令写出的目录",
)
@with_appcontext
def restore_command(source: Path) -> None:
    """Restore a backup into an empty database, then migrate and verify it."""
    try:
        report = backups.restore(current_app, source)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    for table, (expected, found) in report.mismatched.items():
        click.echo(
            f"行数不一致：{table} 备份 {expected} 行，恢复后 {found} 行", err=True
        )
    if not report.chain_ok:
        click.echo("清单摘要链校验未通过：请运行 verify-editions 查看", err=True)
    for path in report.bad_files:
        click.echo(f"清单文件缺失或与记录的 SHA-256 不符：{path}", err=True)
    if not report.ok:
        raise SystemExit(1)
    click.echo(
        f"恢复完成：{len(report.manifest.counts)} 张表行数与备份一致，"
        f"清单摘要链校验通过，清单文件 {report.files} 个"
    )


def init_app(app: Flask) -> None:
    from marketplace.scheduler import (
        expire_command,
        notify_command,
        scheduler_command,
    )

    for cmd in (
        migrate_command,
        load_demo_command,
        create_user_command,
        reindex_command,
        scheduler_command,
        expire_command,
        notify_command,
        fit_match_weights_command,
        embed_command,
        precompute_matches_command,
        publish_command,
        verify_editions_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(cmd)
