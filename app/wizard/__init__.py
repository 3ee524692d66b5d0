from flask import Blueprint

bp = Blueprint("wizard", __name__, url_prefix="/onboarding")

from app.wizard import check, makers, routes  # noqa: E402,F401
