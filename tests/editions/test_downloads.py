"""Downloads are bound to their edition (issue 12 #1, RELIABILITY.md I1)."""

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from marketplace import create_app
from marketplace.config import database_directory
from marketplace.db import session_scope
from marketplace.editions import files
from marketplace.editions.models import Edition, EditionFile
from marketplace.taxonomy import load_seed_taxonomy


def publish(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["publish", "--list", "scenes"])
    assert result.exit_code == 0, result.output


def recorded(app: Any) -> tuple[Edition, dict[str, EditionFile]]:
    with session_scope(app) as session:
        edition = session.scalars(sa.select(Edition)).one()
        rows = session.scalars(sa.select(EditionFile)).all()
        session.expunge_all()
        return edition, {row.format: row for row in rows}


def download(client: Any, edition_id: int, fmt: str) -> Any:
    response = client.get(f"/api/v1/editions/{edition_id}/export.{fmt}")
    response.get_data()
    response.close()  # a file response holds its file open until closed
    return response


def test_two_databases_sharing_one_directory_each_serve_their_own_edition(
    app, client, make_scene, sqlite_template, tmp_path
):
    """Each instance's download is its own edition's file, never the other's."""
    make_scene(title="只在第一个数据库中的场景")
    other_path = tmp_path / "other.sqlite"
    shutil.copy(sqlite_template, other_path)
    other = create_app(
        {
            **app.config,
            "DATABASE_URL": f"sqlite:///{other_path}",
            "EDITIONS_DIRECTORY": app.config["EDITIONS_DIRECTORY"],
        }
    )
    with session_scope(other) as session:
        load_seed_taxonomy(session)
    publish(app)
    publish(other)  # the same list, year and number: the same file names
    try:
        for instance, instance_client in ((app, client), (other, other.test_client())):
            edition, records = recorded(instance)
            for fmt in files.FORMATS:
                response = download(instance_client, edition.id, fmt)
                assert response.status_code == 200
                digest = hashlib.sha256(response.data).hexdigest()
                assert digest == records[fmt].sha256, (instance, fmt)
            body = json.loads(download(instance_client, edition.id, "json").data)
            assert body["digest"] == edition.digest
    finally:
        other.extensions["db"]["engine"].dispose()


def test_a_replaced_file_is_written_again_with_its_recorded_hash(
    app, client, make_scene
):
    make_scene()
    publish(app)
    edition, records = recorded(app)
    directory = Path(app.config["EDITIONS_DIRECTORY"])
    for fmt in files.FORMATS:
        path = files.file_path(directory, edition, fmt)
        path.write_bytes(b"not this edition")
        response = download(client, edition.id, fmt)
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == records[fmt].sha256
        assert files.file_sha256(path) == records[fmt].sha256
    path.unlink()
    assert download(client, edition.id, "json").status_code == 200


def test_a_file_that_cannot_be_written_as_recorded_is_refused_with_503(
    app, client, make_scene, monkeypatch
):
    make_scene()
    publish(app)
    edition, _ = recorded(app)
    path = files.file_path(Path(app.config["EDITIONS_DIRECTORY"]), edition, "csv")
    path.write_bytes(b"another database's file")

    def other_code(target: Any, *args: Any) -> None:
        target.write(b"what this code would write")

    monkeypatch.setattr(files, "write_format", other_code)
    response = download(client, edition.id, "csv")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "edition_file_mismatch"
    page = client.get(f"/editions/{edition.id}/download/csv")
    page.close()
    assert page.status_code == 503
    assert path.read_bytes() == b"another database's file"  # never replaced by it


def test_a_verified_file_is_hashed_again_only_when_it_changes(
    app, client, make_scene, monkeypatch
):
    make_scene()
    publish(app)
    edition, records = recorded(app)
    path = files.file_path(Path(app.config["EDITIONS_DIRECTORY"]), edition, "xlsx")
    hashed = []
    real = files._stream_sha256
    monkeypatch.setattr(
        files, "_stream_sha256", lambda stream: hashed.append(1) or real(stream)
    )
    for _ in range(3):
        assert download(client, edition.id, "xlsx").status_code == 200
    assert len(hashed) == 1
    os.utime(path)  # the same bytes, touched: checked again
    response = download(client, edition.id, "xlsx")
    assert response.status_code == 200 and len(hashed) == 2
    assert hashlib.sha256(response.data).hexdigest() == records["xlsx"].sha256


def test_verify_editions_names_a_file_that_is_not_the_editions_own(app, make_scene):
    make_scene()
    publish(app)
    edition, _ = recorded(app)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["verify-editions"]).exit_code == 0
    path = files.file_path(Path(app.config["EDITIONS_DIRECTORY"]), edition, "xlsx")
    path.write_bytes(b"PK another workbook")
    result = runner.invoke(args=["verify-editions"])
    assert result.exit_code == 1
    assert "2026年第1期" in result.output or "年第1期" in result.output
    assert "Excel 下载文件与记录的 SHA-256 不符" in result.output
    path.unlink()
    result = runner.invoke(args=["verify-editions"])
    assert result.exit_code == 1 and "Excel 下载文件缺失" in result.output


def test_the_database_directory_belongs_to_the_database(tmp_path):
    instance = str(tmp_path / "instance")
    first = database_directory(f"sqlite:///{tmp_path}/a.sqlite", instance)
    second = database_directory(f"sqlite:///{tmp_path}/b.sqlite", instance)
    assert first == tmp_path / "a.sqlite-editions"  # beside the SQLite file
    assert second == tmp_path / "b.sqlite-editions"
    servers = {
        database_directory(url, instance)
        for url in (
            "postgresql+psycopg://u@db1:5432/marketplace",
            "postgresql+psycopg://u@db1:5432/marketplace_staging",
            "postgresql+psycopg://u@db2:5432/marketplace",
        )
    }
    assert len(servers) == 3
    assert all(path.parent == tmp_path / "instance" for path in servers)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite",
            "EDITIONS_DIRECTORY": "",
            "VECTORS_DIRECTORY": "",
            "SECRET_KEY": "test-secret",
        }
    )
    assert app.config["EDITIONS_DIRECTORY"] == str(first)
    # The match vectors' shared files belong to the database the same way.
    assert app.config["VECTORS_DIRECTORY"] == str(tmp_path / "a.sqlite-vectors")
    app.extensions["db"]["engine"].dispose()
