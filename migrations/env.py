"""Alembic environment: the URL comes from the app (`flask migrate`) or DATABASE_URL."""

import os

from alembic import context

from marketplace.db import Base, make_engine
from marketplace.models import import_all_models

import_all_models()
config = context.config
url = config.attributes.get("database_url") or os.environ.get(
    "DATABASE_URL", "sqlite:///instance/marketplace.sqlite"
)


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Leave the full-text search structures, made by hand in the migrations, alone:
    FTS5 tables on SQLite, the search_vector column and its index on PostgreSQL."""
    if name is None:
        return True
    if type_ == "table":
        return "_fts" not in name
    if type_ == "column":
        return name != "search_vector"
    if type_ == "index":
        return not name.endswith(("_search", "_search_vector"))
    return True


def run_migrations() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things; batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
