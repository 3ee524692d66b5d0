"""The support console: a tenant's requests for its support staff and admins."""

from flask import Blueprint

bp = Blueprint("support", __name__, url_prefix="/support")

from app.support import routes  # noqa: E402,F401
