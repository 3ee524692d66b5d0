"""The API keys page: list the tenant's keys, create one (its secret shown once, with a
copy button), revoke one after a confirmation page (no JavaScript needed)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.forms import NewApiKeyForm
from app.admin.guard import admin_required, form_errors
from app.admin.keys import issue_key, revoke_key
from app.extensions import db
from app.forms import ActionForm
from app.htmx import render
from app.models import ApiKey
from app.onboarding import access
from app.security import current_principal


def _keys() -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey)
            .where(access.api_key_filter(current_principal()))
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def _key(key_id: int) -> ApiKey:
    key = db.session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, access.api_key_filter(current_principal()))
    )
    if key is None:
        abort(404)
    return key


def _page(form: NewApiKeyForm, secret: str | None = None, status: int = 200) -> Response:
    errors = form_errors(form)
    response = render(
        "admin/api_keys.html",
        form=form,
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
        _key, secret = issue_key(
            current_user.tenant, (form.name.data or "").strip(), current_principal().actor
        )
        db.session.commit()
        return _page(NewApiKeyForm(formdata=None), secret=secret, status=201)
    return _page(form)


@bp.route("/api-keys/<int:key_id>/revoke", methods=["GET", "POST"])
@admin_required
def revoke_api_key(key_id: int) -> Response:
    """GET asks "Revoke this key?"; POST from that page revokes it."""
    key = _key(key_id)
    form = ActionForm()
    if key.revoked_at is not None:
        return redirect(url_for("admin.api_keys"))
    if form.validate_on_submit():
        revoke_key(key, current_principal().actor)
        db.session.commit()
        flash(
            gettext(
                "The key %(key)s… is revoked: calls with it answer 401 within a few seconds.",
                key=key.prefix,
            ),
            "success",
        )
        return redirect(url_for("admin.api_keys"))
    return render("admin/revoke_api_key.html", key=key, form=form)
