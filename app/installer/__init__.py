from flask import Blueprint

from app.onboarding.access import starts_for_customers

bp = Blueprint("installer", __name__, url_prefix="/installer")
# Templates ask this (never the role) whether to show the installer's own pages.
bp.add_app_template_global(starts_for_customers, "starts_for_customers")

from app.installer import manage, routes, start  # noqa: E402,F401
