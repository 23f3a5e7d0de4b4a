"""The database schema's versions, kept by Alembic in `migrations/`."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str) -> None:
    """Bring the schema up to the newest migration (safe to run again)."""
    command.upgrade(alembic_config(database_url), "head")


def is_known_revision(revision: str) -> bool:
    """Whether this code's migrations include `revision` (a backup from newer code
    holds a schema they cannot read)."""
    scripts = ScriptDirectory(str(MIGRATIONS))
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False
