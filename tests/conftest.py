"""Fixtures: an app per test on SQLite and on PostgreSQL, clients, users and items.

Every database test runs on both backends. PostgreSQL is found at TEST_DATABASE_URL
(default: the local server, database marketplace_test, created if missing); when it
cannot be reached the run fails, it never skips.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.db import session_scope, utcnow
from marketplace.items import services as items
from marketplace.matches.vectors import write_embedder
from marketplace.organizations.credit_code import check_character
from marketplace.organizations.models import Organization
from marketplace.schema import upgrade_database
from marketplace.taxonomy import load_seed_taxonomy
from matching import Embedder, load_embedder

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_TEST_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/marketplace_test"
)
PASSWORD = "correct-horse-9"
CSRF = "test-csrf-token"


def _prepare_postgresql() -> str:
    name = sa.make_url(PG_TEST_URL).database
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": name},
            )
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        engine = sa.create_engine(PG_TEST_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required for the test suite and is not reachable at "
            f"{PG_TEST_URL}: {error}. Start it with: pg_ctlcluster --skip-systemctl-"
            f"redirect $(ls /etc/postgresql) main start",
            pytrace=False,
        )
    upgrade_database(PG_TEST_URL)
    return PG_TEST_URL


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    return _prepare_postgresql()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade_database(f"sqlite:///{path}")
    return str(path)


def _truncate_postgresql(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = connection.scalars(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).all()
        connection.exec_driver_sql(
            "TRUNCATE "
            + ", ".join(f'"{t}"' for t in tables)
            + " RESTART IDENTITY CASCADE"
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, migrated database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgresql_url")
    _truncate_postgresql(url)
    return url


@pytest.fixture(autouse=True, scope="session")
def words_only_by_default() -> Iterator[None]:
    """Tests match by words unless they ask for the sentence model (marker `dense`):
    embedding every test's items would cost minutes for nothing they check."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATCHING_DENSE", "off")
        load_embedder(refresh=True)
        yield
    load_embedder(refresh=True)


@pytest.fixture
def dense(request: pytest.FixtureRequest) -> Iterator[Embedder]:
    """The bundled sentence model, switched on for this test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATCHING_DENSE", "on")
        status = load_embedder(refresh=True)
        if status.embedder is None:
            pytest.fail(f"语义模型不可用：{status.message}")
        yield status.embedder
    load_embedder(refresh=True)


@pytest.fixture
def app(
    database_url: str, tmp_path: Any, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    dense_stage = request.node.get_closest_marker("dense") is not None
    if dense_stage:
        request.getfixturevalue("dense")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "MARKETPLACE_SCHEDULER": "off",
            "PRODUCTION": False,
            "SESSION_COOKIE_SECURE": False,
            "EDITIONS_DIRECTORY": str(tmp_path / "editions"),
            "MATCH_DENSE": dense_stage,
            "VECTORS_DIRECTORY": str(tmp_path / "vectors"),
        }
    )
    with session_scope(app) as session:
        load_seed_taxonomy(session)
    yield app
    app.extensions["db"]["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The test's own session, for setup (factories commit through it) and checks.

    It begins its transactions without SQLite's write lock, so requests made by the
    test in between are not blocked. No app context is pushed: a request made inside
    one would share its `g` with the test.
    """
    session = app.extensions["db"]["read_sessionmaker"]()
    try:
        yield session
        session.commit()
    finally:
        session.close()


@pytest.fixture
def make_org(db: Any) -> Callable[..., Organization]:
    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None, kind: str = "政府部门", district: str = "梁溪区"
    ) -> Organization:
        number = next(counter)
        first17 = f"11320213T{number:08d}"
        organization = Organization(
            name=name or f"测试单位{number}",
            kind=kind,
            district=district,
            credit_code=first17 + check_character(first17),
            created_at=utcnow(),
        )
        db.add(organization)
        db.commit()
        return organization

    return make


@pytest.fixture
def make_user(db: Any, make_org: Callable[..., Organization]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        role: str, organization: Organization | None = None, username: str | None = None
    ) -> User:
        if organization is None and role in ("unit", "vendor"):
            organization = make_org(kind="民营企业" if role == "vendor" else "政府部门")
        user = accounts.create_user(
            db,
            username or f"{role}{next(counter)}",
            PASSWORD,
            role,
            organization_name=organization.name if organization else None,
            now=utcnow(),
        )
        db.commit()
        return user

    return make


def scene_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "梁溪区老旧小区加装电梯运行安全物联网监测",
        "description": "为全区已加装的312部电梯安装振动、门锁和困人传感器，"
        "接入区城市运行中心，实现困人报警30秒内推送到维保单位。",
        "category": "政务类",
        "domain": "城市治理",
        "kind": "技术驱动类",
        "industries": ["物联网", "智能传感器"],
        "district": "梁溪区",
        "budget": "1800000.00",
        "funding_source": "财政资金",
        "deadline": (date.today() + timedelta(days=90)).isoformat(),
        "contact_name": "王工",
        "contact_phone": "0510-81234567",
        "contact_public": False,
    }
    payload.update(overrides)
    return payload


def capability_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "电梯困人智能识别与物联网监测终端",
        "description": "基于多传感器融合的电梯运行监测终端，困人识别准确率98.5%，"
        "已在无锡、苏州部署2000余台，支持对接城市运行管理平台。",
        "type": "新产品",
        "maturity": "规模化应用",
        "domains": ["城市治理"],
        "industries": ["物联网", "智能传感器"],
        "districts": ["梁溪区", "新吴区"],
        "contact_name": "李经理",
        "contact_phone": "13800000000",
        "contact_public": True,
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def payloads() -> Any:
    class Payloads:
        scene = staticmethod(scene_payload)
        capability = staticmethod(capability_payload)

    return Payloads


def _make_item(
    db: Any,
    kind: Any,
    owner: User,
    status: str,
    payload: dict[str, Any],
    embedder: Embedder | None = None,
) -> int:
    actor = db.get(User, owner.id)
    item = items.create_item(
        db, kind, actor, payload, now=utcnow(), today=date.today(), embedder=embedder
    )
    if status != "draft":
        item.status = status
        if status in ("published", "matched", "contracted", "completed"):
            item.published_at = utcnow()
    db.commit()
    return int(item.id)


@pytest.fixture
def make_scene(
    app: Flask, db: Any, make_user: Callable[..., User]
) -> Callable[..., int]:
    """Scenes written as the pages write them: with a vector when the app is dense."""
    from marketplace.scenes.services import SCENES

    embedder = write_embedder(app.config)

    def make(
        owner: User | None = None, status: str = "published", **overrides: Any
    ) -> int:
        return _make_item(
            db,
            SCENES,
            owner or make_user("unit"),
            status,
            scene_payload(**overrides),
            embedder,
        )

    return make


@pytest.fixture
def make_capability(
    app: Flask, db: Any, make_user: Callable[..., User]
) -> Callable[..., int]:
    from marketplace.capabilities.services import CAPABILITIES

    embedder = write_embedder(app.config)

    def make(
        owner: User | None = None, status: str = "published", **overrides: Any
    ) -> int:
        return _make_item(
            db,
            CAPABILITIES,
            owner or make_user("vendor"),
            status,
            capability_payload(**overrides),
            embedder,
        )

    return make


@pytest.fixture
def token_for(client: FlaskClient) -> Callable[[User], dict[str, str]]:
    """Authorization headers for a user, through the real token endpoint."""

    def headers(user: User) -> dict[str, str]:
        response = client.post(
            "/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return headers


@pytest.fixture
def accept_invitations(client: FlaskClient) -> Callable[[int, dict[str, str]], None]:
    """accept_invitations(event_id, center_headers): every invited participant of
    the event accepts (the center answering for them), as only confirmed
    participants are scheduled."""

    def accept(event_id: int, headers: dict[str, str]) -> None:
        event = client.get(f"/api/v1/events/{event_id}", headers=headers).get_json()
        for participant in event["participants"]:
            if participant["status"] == "invited":
                answer = client.post(
                    f"/api/v1/events/{event_id}/participants/{participant['id']}"
                    "/response",
                    json={"accept": True},
                    headers=headers,
                )
                assert answer.status_code == 200, answer.get_json()

    return accept


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], None]:
    """Log a user in through the real form, with a CSRF token in the session."""

    def do_login(user: User) -> None:
        with client.session_transaction() as browser_session:
            browser_session["csrf"] = CSRF
        response = client.post(
            "/login",
            data={"username": user.username, "password": PASSWORD, "csrf_token": CSRF},
        )
        assert response.status_code == 302, response.data.decode()[:500]
        with client.session_transaction() as browser_session:
            browser_session["csrf"] = CSRF

    return do_login


@pytest.fixture
def form_post(client: FlaskClient) -> Callable[..., Any]:
    """POST a form with this browser session's CSRF token."""

    def post(url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        with client.session_transaction() as browser_session:
            browser_session["csrf"] = CSRF
        return client.post(url, data={**(data or {}), "csrf_token": CSRF}, **kwargs)

    return post


def count_rows(app: Flask) -> dict[str, int]:
    """Row counts of every table, to prove a refusal wrote nothing."""
    with session_scope(app) as session:
        tables = (
            "organizations",
            "users",
            "scenes",
            "scene_industries",
            "capabilities",
            "capability_tags",
            "audit_entries",
        )
        return {t: session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}


@pytest.fixture
def row_counts(app: Flask) -> Callable[[], dict[str, int]]:
    return lambda: count_rows(app)


@pytest.fixture
def fetch(app: Flask) -> Callable[..., Any]:
    """Load a row by model and id in a fresh session (what is really stored)."""

    def get(model: type, item_id: int) -> Any:
        with session_scope(app) as session:
            row = session.get(model, item_id)
            if row is not None:
                session.expunge(row)
            return row

    return get


@pytest.fixture
def monthly_schedule(db: Any) -> None:
    """The scenes list on the default monthly schedule, in force since 2026-01-01."""
    from datetime import UTC, datetime

    from marketplace.editions.models import PublicationSchedule

    db.add(
        PublicationSchedule(
            list_kind="scenes",
            cadence="monthly",
            cron="",
            enabled=True,
            effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    db.commit()


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RACER_PRELUDE = """
import sys, time
print("ready", flush=True)
time.sleep(max(0.0, float(sys.stdin.readline()) - time.time()))
"""


def _run_racers(setup: str, action: str, args: list[str], processes: int) -> list[Any]:
    """Run `processes` real Python processes that do `setup`, say they are ready, wait
    for one common start time (sent on stdin once all are ready, however slow their
    imports), then do `action`, which prints one JSON line. Returns those values;
    any failure or traceback in a racer fails the test."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", setup + RACER_PRELUDE + action, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Each racer knows which it is (RACER_INDEX), to act as a different user.
            env={**os.environ, "PYTHONPATH": ROOT, "RACER_INDEX": str(index)},
        )
        for index in range(processes)
    ]
    for child in children:
        assert child.stdout is not None and child.stdin is not None
        ready = child.stdout.readline().strip()
        assert ready == "ready", child.stderr.read() if child.stderr else ready
    start = time.time() + 0.5
    for child in children:
        assert child.stdin is not None
        child.stdin.write(f"{start}\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert "Traceback" not in err, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.fixture
def run_racers() -> Callable[[str, str, list[str], int], list[Any]]:
    return _run_racers


@pytest.fixture
def finish_child() -> Callable[[subprocess.Popen], str]:
    """Wait for a child process's output; one that hangs is killed, not left behind."""

    def finish(process: subprocess.Popen) -> str:
        try:
            return process.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise

    return finish


EDITION_TABLES = ("editions", "edition_items", "edition_files")


@pytest.fixture
def drop_edition_triggers(app: Flask) -> Iterator[Callable[[Any], None]]:
    """Drop the triggers that keep editions immutable, as on a copy of the database
    that someone edits by hand; `drop(session)` runs in the caller's transaction.

    The PostgreSQL test database outlives the test, so its triggers are put back
    afterwards (every SQLite test has its own copy).
    """

    def drop(session: Any) -> None:
        if session.get_bind().dialect.name == "sqlite":
            for table in EDITION_TABLES:
                for event in ("update", "delete"):
                    session.execute(
                        sa.text(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
                    )
            session.execute(sa.text("DROP TRIGGER IF EXISTS edition_items_no_insert"))
            return
        for table in EDITION_TABLES:
            session.execute(
                sa.text(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            )
        session.execute(
            sa.text("DROP TRIGGER IF EXISTS edition_items_no_insert ON edition_items")
        )

    yield drop
    with session_scope(app) as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        for table in EDITION_TABLES:
            session.execute(
                sa.text(
                    f"CREATE OR REPLACE TRIGGER {table}_immutable BEFORE UPDATE OR "
                    f"DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION "
                    "refuse_edition_change()"
                )
            )
        session.execute(
            sa.text(
                "CREATE OR REPLACE TRIGGER edition_items_no_insert BEFORE INSERT ON "
                "edition_items FOR EACH ROW EXECUTE FUNCTION "
                "refuse_edition_item_insert()"
            )
        )
