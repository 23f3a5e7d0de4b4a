from marketplace.items.api import build_api_blueprint
from marketplace.scenes.services import SCENES

bp = build_api_blueprint(SCENES)
