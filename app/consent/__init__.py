from flask import Blueprint

bp = Blueprint("consent", __name__)

from app.consent import routes  # noqa: E402,F401
