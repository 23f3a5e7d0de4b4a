from marketplace.items.views import build_views_blueprint
from marketplace.scenes.services import SCENES

bp = build_views_blueprint(SCENES)
