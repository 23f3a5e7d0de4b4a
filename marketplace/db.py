"""Database: the declarative Base, the engine per app, and session lifecycles.

Views and jobs own the transaction: services receive a Session and never commit.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event, orm

from marketplace.editions.digest import head_key
from marketplace.errors import Invalid

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, *, sqlite_busy_seconds: float = 15.0) -> sa.Engine:
    """Create an engine with the per-connection settings each backend needs.

    `sqlite_busy_seconds` is how long a write waits for another writer's lock before
    the request is answered 503 (never 500).
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": sqlite_busy_seconds})
        _configure_sqlite(engine, sqlite_busy_seconds)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    event.listen(engine, "before_cursor_execute", _refuse_nul_text)
    return engine


def _refuse_nul_text(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> None:
    """Text with a NUL character is refused (422) before it reaches the database.

    PostgreSQL cannot store NUL in text and its driver raised a DataError, a 500;
    SQLite stored it. Checked here, where every value of every query passes, a JSON
    string or query parameter in any route is refused the same way on both.
    """
    rows = parameters if executemany else [parameters]
    for row in rows:
        if isinstance(row, Mapping):
            values = row.values()
        elif isinstance(row, list | tuple):
            values = row
        else:
            values = (row,)
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise Invalid(
                "内容中含有空字符（NUL），无法保存或查询", code="nul_character"
            )


def _configure_sqlite(engine: sa.Engine, busy_seconds: float) -> None:
    """WAL, foreign keys, busy timeout, and BEGIN IMMEDIATE for every transaction.

    pysqlite's own deferred BEGIN lets two writers both read, then one fails with
    "database is locked" on upgrade; taking the write lock at BEGIN makes writers queue
    (SQLAlchemy's documented recipe, RELIABILITY.md decision 4). Read-only requests
    begin DEFERRED instead, so readers in several workers never queue behind each other.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"],
        sqlite_busy_seconds=float(app.config.get("SQLITE_BUSY_SECONDS", 15.0)),
    )
    reader = engine.execution_options(sqlite_begin="DEFERRED")
    # Every session carries the key that signs edition chain heads, so publication
    # signs in its own transaction wherever it runs (request, CLI, scheduler).
    secret = app.config.get("EDITIONS_KEY") or app.config.get("SECRET_KEY") or ""
    info = {"edition_key": head_key(secret) if secret else None}
    app.extensions["db"] = {
        "engine": engine,
        "sessionmaker": orm.sessionmaker(engine, expire_on_commit=False, info=info),
        "read_sessionmaker": orm.sessionmaker(
            reader, expire_on_commit=False, info=info
        ),
    }
    app.teardown_appcontext(close_session)


def get_engine(app: Flask | None = None) -> sa.Engine:
    return (app or current_app).extensions["db"]["engine"]


def get_session() -> orm.Session:
    """The session of the current request, opened on first use.

    GET and HEAD requests must not write; they get a session that reads without
    taking SQLite's write lock.
    """
    if "db_session" not in g:
        safe = has_request_context() and request.method in ("GET", "HEAD")
        maker = "read_sessionmaker" if safe else "sessionmaker"
        g.db_session = current_app.extensions["db"][maker]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask) -> Iterator[orm.Session]:
    """A unit of work for CLI commands and jobs: commit on success, else roll back."""
    session: orm.Session = app.extensions["db"]["sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
