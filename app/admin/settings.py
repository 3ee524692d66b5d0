"""Tenant settings: the name and logo owners see on the hosted consent pages."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.branding import LogoError, remove_logo, set_logo
from app.admin.forms import SettingsForm
from app.admin.guard import admin_required, form_errors
from app.extensions import db
from app.forms import ActionForm
from app.htmx import render
from app.onboarding.audit import record_admin_change
from app.security import current_principal


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings() -> Response:
    tenant = current_user.tenant
    form = SettingsForm(data={"name": tenant.name})
    if form.validate_on_submit():
        actor = current_principal().actor
        name = " ".join((form.name.data or "").split())
        upload = form.logo.data
        try:
            if isinstance(upload, FileStorage) and upload.filename:
                set_logo(tenant, upload.read(), actor)
        except LogoError as error:
            db.session.rollback()
            form.logo.errors = [gettext(str(error))]
        else:
            if name != tenant.name:
                record_admin_change(
                    tenant.id, "tenant_renamed", actor, before=tenant.name, after=name
                )
                tenant.name = name
            db.session.commit()
            flash(gettext("The settings are saved."), "success")
            return redirect(url_for("admin.settings"))
    errors = form_errors(form)
    return render(
        "admin/settings.html",
        form=form,
        tenant=tenant,
        remove_form=ActionForm(),
        errors=errors,
        status=422 if errors else 200,
    )


@bp.post("/settings/logo/remove")
@admin_required
def remove_tenant_logo() -> Response:
    if ActionForm().validate_on_submit():
        remove_logo(current_user.tenant, current_principal().actor)
        db.session.commit()
        flash(gettext("The logo is removed."), "success")
    return redirect(url_for("admin.settings"))
