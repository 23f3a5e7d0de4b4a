from marketplace.capabilities.services import CAPABILITIES
from marketplace.items.views import build_views_blueprint

bp = build_views_blueprint(CAPABILITIES)
