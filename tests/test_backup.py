"""RELIABILITY G1/G2: a backup taken while another process writes, restored into a
fresh instance: the copy is whole, its row counts are the snapshot's, the edition
chain verifies and the downloads are the files the editions recorded."""

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from marketplace import create_app
from marketplace.editions.jobs import publish_now
from marketplace.editions.models import EditionFile

WRITER = """
import sys, time
from pathlib import Path
from marketplace import create_app
from marketplace.db import session_scope, utcnow
from marketplace.jobs import JobRun

app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x",
                  "MARKETPLACE_SCHEDULER": "off", "TESTING": True})
stop, written = Path(sys.argv[2]), 0
while not stop.exists():
    with session_scope(app) as session:
        session.add(JobRun(job_id="load", started_at=utcnow(), duration_ms=0,
                           status="ok", message="并发写入"))
    written += 1
    if written == 1:
        Path(sys.argv[3]).touch()
print(written)
"""


def fresh_target(database_url: str, tmp_path: Path) -> str:
    """An empty database of the same backend for the restored instance."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.sqlite'}"
    url = sa.make_url(database_url)
    name = f"{url.database}_restore"
    admin = sa.create_engine(url.set(database="test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def count(app, table: str) -> int:
    with app.extensions["db"]["engine"].connect() as connection:
        return connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def test_backup_during_writes_restores_whole_into_a_fresh_instance(
    app, db, make_scene, make_capability, database_url, tmp_path, finish_child
):
    for n in range(3):
        make_scene(title=f"梁溪区老旧小区电梯物联网监测第{n + 1}批")
    make_capability()
    publish_now(app, "scenes")
    started, stop = tmp_path / "started", tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, database_url, str(stop), str(started)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the writer process did not start writing"
        backup_dir = tmp_path / "backup"
        before = count(app, "job_runs")
        result = app.test_cli_runner().invoke(args=["backup", "--to", str(backup_dir)])
        during = count(app, "job_runs") - before
    finally:
        stop.touch()
        output = finish_child(writer)
    written = int(output)
    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output
    assert during > 0, "the backup held the writer up"
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == 3 and manifest["counts"]["scenes"] == 3
    snapshot_runs = manifest["counts"]["job_runs"]
    assert before <= snapshot_runs <= written == count(app, "job_runs")

    target_url = fresh_target(database_url, tmp_path)
    target = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": target_url,
            "SECRET_KEY": "test-secret",
            "MARKETPLACE_SCHEDULER": "off",
            "EDITIONS_DIRECTORY": str(tmp_path / "restored-editions"),
        }
    )
    try:
        restore = target.test_cli_runner()
        result = restore.invoke(args=["restore", "--from", str(backup_dir)])
        assert result.exit_code == 0, result.output
        assert "行数与备份一致" in result.output and "清单文件 3 个" in result.output
        for table, rows in manifest["counts"].items():
            assert count(target, table) == rows, table
        verified = restore.invoke(args=["verify-editions"])
        assert verified.exit_code == 0 and "校验通过" in verified.output
        client = target.test_client()
        with target.extensions["db"]["sessionmaker"]() as session:
            columns = (EditionFile.edition_id, EditionFile.format, EditionFile.sha256)
            recorded = session.execute(sa.select(*columns)).all()
        assert len(recorded) == 3
        for edition_id, fmt, sha256 in recorded:
            response = client.get(f"/api/v1/editions/{edition_id}/export.{fmt}")
            assert response.status_code == 200
            assert hashlib.sha256(response.data).hexdigest() == sha256
            response.close()

        # The backup stays as written: the restore only read it.
        assert sorted(p.name for p in backup_dir.iterdir()) == sorted(
            ["database.sqlite3" if "sqlite" in database_url else "database.dump"]
            + ["editions", "manifest.json"]
        )

        # A second restore would overwrite data: refused, nothing changed.
        again = restore.invoke(args=["restore", "--from", str(backup_dir)])
        assert again.exit_code == 1 and "目标数据库不是空的" in again.output
        assert count(target, "job_runs") == snapshot_runs
    finally:
        target.extensions["db"]["engine"].dispose()
        drop_target(target_url)


def drop_target(url: str) -> None:
    if url.startswith("sqlite"):
        return
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(
            f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'
        )
    admin.dispose()


def test_backup_and_restore_refuse_what_they_cannot_do_safely(app, tmp_path):
    runner = app.test_cli_runner()
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("已有内容")
    for taken in (used, used / "notes.txt"):
        result = runner.invoke(args=["backup", "--to", str(taken)])
        assert result.exit_code == 1 and "不是空目录" in result.output
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
    result = runner.invoke(args=["restore", "--from", str(used)])
    assert result.exit_code == 1 and "缺少 manifest.json" in result.output

    backup_dir = tmp_path / "backup"
    assert runner.invoke(args=["backup", "--to", str(backup_dir)]).exit_code == 0
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["revision"] = "f00dfeedbeef"  # a schema from newer code
    (backup_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = runner.invoke(args=["restore", "--from", str(backup_dir)])
    assert result.exit_code == 1 and "不在本版本的迁移中" in result.output
