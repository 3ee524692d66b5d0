"""The API keys page: list the tenant's keys, create one (its secret shown once), revoke."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.forms import NewApiKeyForm, RevokeApiKeyForm
from app.extensions import db
from app.htmx import render
from app.models import ApiKey, utcnow
from app.onboarding import access
from app.security import current_principal


def admin_required(view: Any) -> Any:
    """Signed in as an admin of a tenant, or 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not access.manages_tenant(current_principal()):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _keys() -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey)
            .where(access.api_key_filter(current_principal()))
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def _page(form: NewApiKeyForm, secret: str | None = None, status: int = 200) -> Response:
    errors = [
        (getattr(form, name).id, messages[0])
        for name, messages in form.errors.items()
        if messages and hasattr(form, name)
    ]
    response = render(
        "admin/api_keys.html",
        form=form,
        revoke_form=RevokeApiKeyForm(),
        keys=_keys(),
        secret=secret,
        errors=errors,
        status=422 if errors else status,
    )
    if secret:
        # The secret is in this page only: keep it out of every cache.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/api-keys", methods=["GET", "POST"])
@admin_required
def api_keys() -> Response:
    form = NewApiKeyForm()
    if form.validate_on_submit():
        key, secret = ApiKey.issue(current_user.tenant, (form.name.data or "").strip())
        db.session.add(key)
        db.session.commit()
        return _page(NewApiKeyForm(formdata=None), secret=secret, status=201)
    return _page(form)


@bp.post("/api-keys/<int:key_id>/revoke")
@admin_required
def revoke_api_key(key_id: int) -> Response:
    key = db.session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, access.api_key_filter(current_principal()))
    )
    if key is None:
        abort(404)
    if RevokeApiKeyForm().validate_on_submit() and key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
        flash(f"The key {key.prefix}… is revoked: calls with it now answer 401.", "success")
    return redirect(url_for("admin.api_keys"))
