from typing import Any

from flask import jsonify

from marketplace.accounts.auth import current_actor
from marketplace.capabilities.services import CAPABILITIES, renew_capability
from marketplace.db import get_session, utcnow
from marketplace.items.api import build_api_blueprint
from marketplace.policy import access

bp = build_api_blueprint(CAPABILITIES)


@bp.post("/<int:capability_id>/renew")
@access("vendor")
def renew(capability_id: int) -> Any:
    """Confirm a published capability is still offered (keeps it in the lists)."""
    session = get_session()
    capability = renew_capability(session, current_actor(), capability_id, now=utcnow())
    session.commit()
    return jsonify(CAPABILITIES.to_json(capability, current_actor()))
