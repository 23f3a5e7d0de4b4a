"""无锡场景创新供需对接平台: the Flask application factory."""

import os
from pathlib import Path
from typing import Any

import click
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def _under_flask_run() -> bool:
    """True when `flask run` (Werkzeug's development server) is building the app."""
    context = click.get_current_context(silent=True)
    return context is not None and context.command.name == "run"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides settings read from the environment (tests)."""
    from marketplace import api as api_package
    from marketplace import (
        cli,
        db,
        error_handlers,
        filters,
        scheduler,
        security,
        views,
    )
    from marketplace.accounts import auth
    from marketplace.config import (
        database_directory,
        require_secret_key,
        settings_from_env,
    )
    from marketplace.integers import DatabaseIntConverter
    from marketplace.json_provider import BoundedJSONProvider

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    # Before any blueprint adds its rules: every <int:...> then stops at the range
    # a database id can have (integers.py).
    app.url_map.converters["int"] = DatabaseIntConverter
    app.json = BoundedJSONProvider(app)
    app.config.from_mapping(
        settings_from_env(
            os.environ, app.instance_path, development_server=_under_flask_run()
        )
    )
    if config is not None:
        app.config.update(config)
    for purpose in ("editions", "vectors"):
        key = f"{purpose.upper()}_DIRECTORY"
        if not app.config.get(key):
            app.config[key] = str(
                database_directory(
                    app.config["DATABASE_URL"], app.instance_path, purpose
                )
            )
    require_secret_key(app.config)

    db.init_app(app)
    error_handlers.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    filters.init_app(app)
    views.init_app(app)
    api_package.init_app(app)
    cli.init_app(app)
    scheduler.init_app(app)
    return app
