"""The tenant admin area (admins only): users, groups, API keys, webhooks, the tenant's
name and logo. Every change is logged (app.onboarding.audit.record_admin_change)."""

from flask import Blueprint

from app.onboarding.access import manages_tenant

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_app_template_global(manages_tenant, "manages_tenant")

from app.admin import (  # noqa: E402,F401
    api_keys,
    commands,
    groups,
    history,
    settings,
    users,
    webhook_pages,
)
