from typing import Any

from flask import flash, redirect, url_for

from marketplace.accounts.auth import current_actor
from marketplace.capabilities.services import CAPABILITIES, renew_capability
from marketplace.db import get_session, utcnow
from marketplace.items.views import build_views_blueprint
from marketplace.policy import access

bp = build_views_blueprint(CAPABILITIES)


@bp.post("/<int:item_id>/renew")
@access("vendor")
def renew(item_id: int) -> Any:
    session = get_session()
    renew_capability(session, current_actor(), item_id, now=utcnow())
    session.commit()
    flash("已续期：该能力将继续出现在之后的清单中", "success")
    return redirect(url_for(".detail", item_id=item_id))
