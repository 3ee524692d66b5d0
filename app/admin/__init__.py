"""Tenant administration: the API keys page (admins only)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import commands, routes  # noqa: E402,F401
