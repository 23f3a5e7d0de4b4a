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
    """Leave the FTS5 tables (made by hand in the first migration) to themselves."""
    return not (type_ == "table" and name is not None and "_fts" in name)


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
