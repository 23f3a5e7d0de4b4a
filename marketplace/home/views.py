from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, send_from_directory

from marketplace.accounts.auth import current_actor
from marketplace.capabilities.services import CAPABILITIES
from marketplace.db import get_engine, get_session, utcnow
from marketplace.items import services as items
from marketplace.matches import services as matches
from marketplace.matches.index import get_indexes
from marketplace.plans import services as plans
from marketplace.plans.models import REVIEW_BODIES
from marketplace.policy import OWNER_ROLES, PUBLIC, SIGNED_IN, access
from marketplace.scenes.services import SCENES
from marketplace.subsidies import services as subsidies
from marketplace.taxonomy import get_taxonomy

bp = Blueprint("home", __name__)


def _latest(kind: items.ItemKind, per_page: int) -> items.Page:
    return items.list_items(
        get_session(),
        kind,
        None,
        items.ItemQuery(per_page=per_page),
        get_engine(current_app).dialect.name,
    )


@bp.get("/")
@access(PUBLIC)
def index() -> Any:
    session = get_session()
    domain_counts = dict(
        session.execute(
            sa.select(SCENES.model.domain, sa.func.count())
            .where(SCENES.model.status == "published")
            .group_by(SCENES.model.domain)
        ).all()
    )
    return render_template(
        "home/index.html",
        reviewer=_reviewer_desk(session) if _is_reviewer() else None,
        scenes=_latest(SCENES, 6),
        capabilities=_latest(CAPABILITIES, 6),
        taxonomy=get_taxonomy(session),
        domain_counts=domain_counts,
    )


def _is_reviewer() -> bool:
    actor = current_actor()
    return actor is not None and actor.role == "reviewer"


def _reviewer_desk(session: Any) -> dict[str, Any]:
    """What waits for a reviewer of the Development and Reform Commission or the
    Finance Bureau (plans for their body's decision, quotes to approve as awards), and
    what they may read: scenes paid from public money, the latest editions, events."""
    from marketplace.editions.models import LISTS
    from marketplace.editions.services import latest_edition
    from marketplace.events.services import list_events
    from marketplace.worklists import services as worklists

    fiscal = session.scalar(
        sa.select(sa.func.count()).where(
            SCENES.model.status == "published",
            SCENES.model.funding_source == "财政资金",
        )
    )
    actor = current_actor()
    body = plans.review_body(
        actor, session, current_app.config["PLAN_REVIEW_ORGANIZATIONS"]
    )
    return {
        "body": REVIEW_BODIES.get(body or ""),
        "plans": [plans.plan_json(p) for p in plans.awaiting_review(session, body)]
        if body
        else [],
        "quotes": subsidies.awaiting_award(session) if body == "ndrc" else 0,
        "reports": worklists.pending_for_appraiser(session) if body == "ndrc" else [],
        "fiscal_scenes": fiscal or 0,
        "editions": [e for e in (latest_edition(session, k) for k in LISTS) if e],
        "events": list_events(session, actor)[:5],
    }


@bp.get("/my")
@access(SIGNED_IN)
def mine() -> Any:
    actor = current_actor()
    session = get_session()
    dialect = get_engine(current_app).dialect.name
    pages = {}
    # Only the accounts that post items own their organization's (policy.OWNER_ROLES).
    if (
        actor is not None
        and actor.organization_id is not None
        and actor.role in OWNER_ROLES
    ):
        for kind in (SCENES, CAPABILITIES):
            pages[kind.name] = items.list_items(
                session, kind, actor, items.ItemQuery(mine=True, per_page=100), dialect
            )
    strong = matches.new_strong_matches(
        session, actor, get_indexes(current_app), now=utcnow()
    )
    return render_template(
        "home/mine.html",
        pages=pages,
        scenes=SCENES,
        capabilities=CAPABILITIES,
        strong=strong,
    )


@bp.get("/review")
@access("center", "admin")
def review() -> Any:
    session = get_session()
    actor = current_actor()
    dialect = get_engine(current_app).dialect.name
    queues = []
    for kind in (SCENES, CAPABILITIES):
        for status, title in (("submitted", "待审核"), ("approved", "审核通过待发布")):
            page = items.list_items(
                session,
                kind,
                actor,
                items.ItemQuery(status=status, sort="", per_page=100),
                dialect,
            )
            queues.append((kind, status, f"{kind.label}·{title}", page))
    return render_template("home/review.html", queues=queues)


@bp.get("/favicon.ico")
@access(PUBLIC)
def favicon() -> Any:
    # Browsers ask for /favicon.ico before reading the page's <link rel="icon">.
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.svg",
        mimetype="image/svg+xml",
        max_age=86400,
    )


SITE_PAGES = {"help": "使用帮助", "privacy": "隐私政策", "contact": "联系我们"}


@bp.get("/about/<page>")
@access(PUBLIC)
def about(page: str) -> str:
    """What a government service site carries: help, privacy and contact."""
    if page not in SITE_PAGES:
        abort(404)
    return render_template(f"home/{page}.html", title=SITE_PAGES[page])
