"""Edits that verify-editions must find, on a copy with the triggers dropped
(issue 12 #10, RELIABILITY.md I8), and the versions of the digest."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from marketplace import create_app
from marketplace.db import session_scope
from marketplace.editions import files, services
from marketplace.editions.digest import (
    GENESIS,
    canonical,
    digest_header,
    edition_digest,
)
from marketplace.editions.models import Edition, EditionFile
from marketplace.schema import alembic_config


def publish(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["publish", "--list", "scenes"])
    assert result.exit_code == 0, result.output


def verify(app: Any) -> Any:
    return app.test_cli_runner().invoke(args=["verify-editions"])


@pytest.fixture
def two_editions(app, make_scene) -> dict[str, Any]:
    """Two published editions of the scenes list with their files; the second adds
    an item. Returns their ids."""
    make_scene(title="第一期就有的场景")
    publish(app)
    make_scene(title="第二期新增的场景", district="锡山区")
    publish(app)
    with session_scope(app) as session:
        first, second = session.scalars(sa.select(Edition.id).order_by(Edition.id))
    assert verify(app).exit_code == 0
    return {"first": first, "second": second}


@pytest.fixture
def tamper(app, drop_edition_triggers) -> Any:
    """Run raw SQL as someone with the database and no triggers in the way."""

    def run(*statements: str, **params: Any) -> None:
        with session_scope(app) as session:
            drop_edition_triggers(session)
            for statement in statements:
                session.execute(sa.text(statement), params)

    return run


def forged_summary(app: Any) -> str:
    cast = (
        "CAST(:summary AS JSON)"
        if "postgresql" in app.config["DATABASE_URL"]
        else ":summary"
    )
    return f"UPDATE editions SET summary = {cast} WHERE id = :second"


CASES = {
    "item_count": "UPDATE editions SET item_count = 5 WHERE id = :second",
    "published_by": "UPDATE editions SET published_by = '冒名者' WHERE id = :second",
    "item_id": (
        "UPDATE edition_items SET item_id = item_id + 1000 WHERE edition_id = :second"
    ),
    "digest_version": "UPDATE editions SET digest_version = 1 WHERE id = :second",
    "inserted_item": (
        "INSERT INTO edition_items (edition_id, position, item_id, payload) "
        "SELECT edition_id, 9, item_id, payload FROM edition_items "
        "WHERE edition_id = :second AND position = 0"
    ),
}


@pytest.mark.parametrize("column", [*CASES, "summary"])
def test_verify_editions_finds_an_edit_of_any_stored_column(
    app, two_editions, tamper, column
):
    if column == "summary":
        summary = {
            "new": [],
            "changed": [],
            "withdrawn": [],
            "by_domain": {"城市治理": 2},
            "by_district": {"梁溪区": 2},
            "by_industry": {"物联网": 2, "智能传感器": 2},
        }
        tamper(forged_summary(app), summary=json.dumps(summary), **two_editions)
    else:
        tamper(CASES[column], **two_editions)
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"（编号 {two_editions['second']}）" in result.output
    assert "被改动" in result.output


def test_verify_editions_finds_a_download_swapped_together_with_its_recorded_hash(
    app, two_editions, tamper
):
    with session_scope(app) as session:
        edition = session.get(Edition, two_editions["second"])
        session.expunge(edition)
    path = files.file_path(Path(app.config["EDITIONS_DIRECTORY"]), edition, "csv")
    forged = path.read_bytes().replace("第二期新增".encode(), "偷换过的".encode())
    path.write_bytes(forged)
    tamper(
        "UPDATE edition_files SET sha256 = :sha, size = :size "
        "WHERE edition_id = :second AND format = 'csv'",
        sha=hashlib.sha256(forged).hexdigest(),
        size=len(forged),
        **two_editions,
    )
    result = verify(app)
    assert result.exit_code == 1
    assert f"（编号 {two_editions['second']}）CSV 下载文件的内容与本期清单不符" in (
        result.output
    )


def test_verify_editions_finds_the_latest_edition_deleted(app, two_editions, tamper):
    tamper(
        "DELETE FROM edition_files WHERE edition_id = :second",
        "DELETE FROM edition_items WHERE edition_id = :second",
        "DELETE FROM editions WHERE id = :second",
        **two_editions,
    )
    result = verify(app)
    assert result.exit_code == 1
    assert f"（编号 {two_editions['first']}）之后的 1 期已被删除" in result.output


def test_verify_editions_finds_a_chain_rewritten_with_fresh_digests(
    app, two_editions, tamper
):
    """Digests anyone can compute; the signed head only the platform can."""
    with session_scope(app) as session:
        edition = session.get(Edition, two_editions["second"])
        session.expunge(edition)
        payloads = list(services.edition_payloads(session, edition))
    forged = [p.replace("第二期新增", "改写过的") for p in payloads]
    digest = edition_digest(edition.previous_digest, digest_header(edition), forged)
    statements = [
        "DELETE FROM edition_files WHERE edition_id = :second",
        "UPDATE editions SET digest = :digest WHERE id = :second",
    ]
    statements += [
        f"UPDATE edition_items SET payload = :p{n} "
        f"WHERE edition_id = :second AND position = {n}"
        for n in range(len(forged))
    ]
    tamper(
        *statements,
        digest=digest,
        **{f"p{n}": p for n, p in enumerate(forged)},
        **two_editions,
    )
    with session_scope(app) as session:
        assert services.verify_chain(session).reason.startswith("与签名的链头不符")
    result = verify(app)
    assert result.exit_code == 1 and "与签名的链头不符" in result.output


def test_the_signed_head_cannot_be_removed_or_forged_unnoticed(
    app, two_editions, tamper
):
    tamper("UPDATE edition_heads SET edition_count = 1")
    assert "链头签名无效" in verify(app).output
    tamper("DELETE FROM edition_heads")
    assert "链头未签名" in verify(app).output


def test_the_database_refuses_an_edition_item_inserted_after_publication(
    app, db, make_scene
):
    make_scene()
    publish(app)
    edition_id = db.scalar(sa.select(Edition.id))
    for position in (1, 99, -1):
        with pytest.raises(sa.exc.DatabaseError):
            db.execute(
                sa.text(
                    "INSERT INTO edition_items (edition_id, position, item_id, "
                    "payload) VALUES (:e, :p, 1, '{}')"
                ),
                {"e": edition_id, "p": position},
            )
        db.rollback()
    assert verify(app).exit_code == 0


def test_editions_published_before_the_migration_still_verify(tmp_path):
    """A database at the previous head with a version 1 edition is migrated: the
    edition verifies, its head gets signed, and the next edition chains on it."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    command.upgrade(alembic_config(url), "10facd8956a4")
    published_at = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    payload = canonical({"id": 7, "title": "升级前发布的场景", "district": "梁溪区"})
    header = digest_header(
        type(
            "Old",
            (),
            {
                "list_kind": "scenes",
                "year": 2026,
                "sequence": 1,
                "published_at": published_at,
            },
        ),
        version=1,
    )
    digest = edition_digest(GENESIS, header, [payload])
    summary = {
        "new": [7],
        "changed": [],
        "withdrawn": [],
        "by_domain": {},
        "by_district": {"梁溪区": 1},
        "by_industry": {},
    }
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO editions (id, list_kind, year, sequence, period_key, "
                "published_at, published_by, item_count, summary, previous_digest, "
                "digest) VALUES (1, 'scenes', 2026, 1, NULL, :at, '系统', 1, "
                ":summary, :genesis, :digest)"
            ),
            {
                "at": published_at.replace(tzinfo=None),
                "summary": json.dumps(summary, ensure_ascii=False),
                "genesis": GENESIS,
                "digest": digest,
            },
        )
        connection.execute(
            sa.text(
                "INSERT INTO edition_items (edition_id, position, item_id, payload) "
                "VALUES (1, 0, 7, :payload)"
            ),
            {"payload": payload},
        )
    engine.dispose()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "EDITIONS_DIRECTORY": str(tmp_path / "editions"),
        }
    )
    runner = app.test_cli_runner()
    migrated = runner.invoke(args=["migrate"])
    assert "已签名场景机会清单的链头" in migrated.output, migrated.output
    assert verify(app).exit_code == 0, verify(app).output
    publish(app)
    with session_scope(app) as session:
        versions = session.scalars(
            sa.select(Edition.digest_version).order_by(Edition.id)
        ).all()
        assert versions == [1, 2]
        assert session.scalar(sa.select(sa.func.count()).select_from(EditionFile)) == 3
    result = verify(app)
    assert result.exit_code == 0, result.output
    with session_scope(app) as session:
        session.execute(sa.text("DROP TRIGGER editions_no_update"))
        session.execute(sa.text("UPDATE editions SET item_count = 2 WHERE id = 1"))
    result = verify(app)
    assert result.exit_code == 1 and "记录的条目数 2" in result.output
    app.extensions["db"]["engine"].dispose()
