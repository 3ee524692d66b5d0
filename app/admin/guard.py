"""The admin area's door: admins of the tenant only, and 404 for anyone else signed in, so
the area is not even known to exist; signing in comes first."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort
from flask_login import login_required

from app.forms import form_errors
from app.onboarding import access
from app.security import current_principal

__all__ = ["admin_required", "form_errors"]


def admin_required(view: Any) -> Any:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not access.manages_tenant(current_principal()):
            abort(404)
        return view(*args, **kwargs)

    return wrapped
