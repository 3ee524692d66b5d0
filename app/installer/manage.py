"""What an installer does to a request besides starting it: fix the identifier after the
owner's step found no such device, and discard an unfinished start."""

from __future__ import annotations

import uuid

from flask import flash, redirect, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.catalog import current_catalog
from app.consent.steps import step_label
from app.extensions import db
from app.forms import ActionForm, details_form, form_errors, save_correction
from app.htmx import render
from app.installer import bp
from app.installer.routes import can_fix_identifier, install
from app.onboarding import installs
from app.onboarding.access import Action
from app.onboarding.states import Status
from app.security import current_principal


@bp.route("/<uuid:request_id>/identifier", methods=["GET", "POST"])
@login_required
def fix_identifier(request_id: uuid.UUID) -> Response:
    """Correct the device's identifier on a sent request: the wizard's rules; the steps
    the owner took for the old device are reset (support's correction, on the tablet)."""
    onboarding = install(request_id, Action.FIX_IDENTIFIER)
    back = url_for("installer.request_page", request_id=onboarding.id)
    if not can_fix_identifier(onboarding):
        flash(gettext("The details of this request cannot be changed now."), "info")
        return redirect(back)
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    assert manufacturer is not None
    form = details_form(manufacturer, data={**onboarding.information, **onboarding.properties})
    reset = save_correction(onboarding, manufacturer, form, current_principal().actor)
    if reset is not None:
        if reset:
            steps = ", ".join(f"{s.position}. {step_label(s.kind, manufacturer)}" for s in reset)
            flash(
                gettext("Saved. The owner must take these steps again: %(steps)s.", steps=steps),
                "success",
            )
        else:
            flash(gettext("Saved. The owner can try the step again from the same link."), "success")
        return redirect(back)
    errors = form_errors(form)
    return render(
        "installer/identifier.html",
        onboarding=onboarding,
        manufacturer=manufacturer,
        form=form,
        errors=errors,
        status=422 if errors else 200,
    )


@bp.route("/<uuid:request_id>/discard", methods=["GET", "POST"])
@login_required
def discard(request_id: uuid.UUID) -> Response:
    """Discard an unfinished start, after a confirmation (a link, then a button: no
    JavaScript needed)."""
    onboarding = install(request_id, Action.CANCEL)
    if installs.discarded(onboarding):
        flash(gettext("This unfinished installation was discarded."), "success")
        return redirect(url_for("installer.home"))
    if onboarding.status != Status.DRAFT:
        flash(gettext("This request was already sent; it cannot be discarded."), "info")
        return redirect(url_for("installer.request_page", request_id=onboarding.id))
    form = ActionForm()
    if form.validate_on_submit():
        installs.discard_draft(onboarding, current_principal().actor)
        db.session.commit()
        flash(gettext("This unfinished installation was discarded."), "success")
        return redirect(url_for("installer.home"))
    return render("installer/discard.html", onboarding=onboarding, form=form, errors=[])
