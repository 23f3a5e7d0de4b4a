"""Registers the HTML pages of every feature, and what their views share."""

from typing import Any

from flask import Flask, flash, redirect

from marketplace.db import get_session
from marketplace.errors import DomainError


def failed(error: DomainError, target: str) -> Any:
    """A form that could not be carried out: nothing of it is kept, the reason is
    flashed in Chinese (with each field's), and the user goes back to `target`."""
    get_session().rollback()
    details = "；".join(error.fields.values())
    flash(error.message + (f"：{details}" if details else ""), "error")
    return redirect(target)


def init_app(app: Flask) -> None:
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.admin.views import bp as admin_bp
    from marketplace.capabilities.views import bp as capabilities_bp
    from marketplace.dashboard.views import bp as dashboard_bp
    from marketplace.editions.views import admin_bp as jobs_bp
    from marketplace.editions.views import bp as editions_bp
    from marketplace.events.views import bp as events_pages_bp
    from marketplace.home.views import bp as home_bp
    from marketplace.imports.views import bp as imports_bp
    from marketplace.matches.views import bp as matches_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.plans.views import bp as plans_bp
    from marketplace.scenes.views import bp as scenes_bp
    from marketplace.subsidies.views import bp as subsidies_bp
    from marketplace.worklists.views import bp as worklists_bp

    for blueprint in (
        home_bp,
        accounts_bp,
        scenes_bp,
        capabilities_bp,
        admin_bp,
        matches_bp,
        editions_bp,
        jobs_bp,
        imports_bp,
        events_pages_bp,
        notifications_bp,
        subsidies_bp,
        plans_bp,
        dashboard_bp,
        worklists_bp,
    ):
        app.register_blueprint(blueprint)
