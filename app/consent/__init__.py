from flask import Blueprint

bp = Blueprint("consent", __name__)

from app.consent import pages, routes  # noqa: E402,F401
