from marketplace.capabilities.services import CAPABILITIES
from marketplace.items.api import build_api_blueprint

bp = build_api_blueprint(CAPABILITIES)
