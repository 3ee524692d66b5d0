"""The wizard's questions about who made the device: a VIN that names another maker, and
a brand that is not in the list."""

from __future__ import annotations

import uuid

from flask import redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import StringField

from app.catalog import current_catalog
from app.consent.urls import resume_url
from app.extensions import db
from app.forms import ActionForm, Form, form_errors
from app.htmx import render
from app.i18n import translate
from app.identifiers import IdentifierError
from app.onboarding import makers
from app.onboarding.drafts import QUESTION_DETAILS, QUESTION_MANUFACTURER
from app.security import current_principal
from app.wizard import bp
from app.wizard.routes import question_or_redirect

# The two answers to "Continue with Audi or switch?".
CONTINUE = "continue"
SWITCH = "switch"


class BrandForm(Form):
    brand = StringField(
        _l("Which brand is it?"),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


@bp.route("/<uuid:request_id>/vin-maker", methods=["GET", "POST"])
@login_required
def vin_maker(request_id: uuid.UUID) -> Response:
    """The VIN's maker is not the chosen manufacturer: continue with it, or switch."""
    onboarding = question_or_redirect(request_id, QUESTION_DETAILS)
    if isinstance(onboarding, Response):
        return onboarding
    catalog = current_catalog()
    mismatch = makers.vin_mismatch(onboarding, catalog)
    if mismatch is None or QUESTION_DETAILS not in onboarding.answered:
        return redirect(resume_url(onboarding))
    chosen, maker = mismatch
    form = ActionForm()
    if form.validate_on_submit():
        answer = request.form.get("answer")
        if answer == SWITCH and maker.manufacturer is not None:
            makers.switch_to_vin_maker(onboarding, catalog, current_principal().actor)
        elif answer == SWITCH:
            # A maker we do not connect: the list of those we do, the VIN kept.
            return redirect(url_for("wizard.manufacturer", request_id=onboarding.id))
        where = resume_url(onboarding)
        db.session.commit()
        return redirect(where)
    # English says "an Audi" but "a Volkswagen"; the other languages need no second form.
    if maker.name[:1].upper() in "AEIOU":
        question = gettext(
            "This VIN belongs to an %(maker)s. Continue with %(manufacturer)s or switch?",
            maker=maker.name,
            manufacturer=chosen.name,
        )
    else:
        question = gettext(
            "This VIN belongs to a %(maker)s. Continue with %(manufacturer)s or switch?",
            maker=maker.name,
            manufacturer=chosen.name,
        )
    return render(
        "wizard/vin_maker.html",
        onboarding=onboarding,
        question=question,
        chosen=chosen,
        maker=maker,
        vin=onboarding.information.get("vin", ""),
        form=form,
        back_url=url_for("wizard.details", request_id=onboarding.id),
        continue_value=CONTINUE,
        switch_value=SWITCH,
    )


@bp.route("/<uuid:request_id>/brand-not-listed", methods=["GET", "POST"])
@login_required
def brand_not_listed(request_id: uuid.UUID) -> Response:
    """The owner's brand is not listed: which brand is it, so the wish is counted."""
    onboarding = question_or_redirect(request_id, QUESTION_MANUFACTURER)
    if isinstance(onboarding, Response):
        return onboarding
    form = BrandForm()
    if form.validate_on_submit():
        try:
            makers.ask_for_brand(
                onboarding, form.brand.data, current_catalog(), current_principal().actor
            )
        except IdentifierError as error:
            form.brand.errors = [translate(error)]
        else:
            db.session.commit()
            return redirect(url_for("wizard.brand_noted", request_id=onboarding.id))
    errors = form_errors(form)
    return render(
        "wizard/brand_not_listed.html",
        onboarding=onboarding,
        form=form,
        errors=errors,
        status=422 if errors else 200,
        back_url=url_for("wizard.manufacturer", request_id=onboarding.id),
    )


@bp.get("/<uuid:request_id>/brand-not-listed/noted")
@login_required
def brand_noted(request_id: uuid.UUID) -> Response:
    """What happens next, said honestly, once the brand is noted."""
    onboarding = question_or_redirect(request_id, QUESTION_MANUFACTURER)
    if isinstance(onboarding, Response):
        return onboarding
    brand = makers.brand_asked_for(onboarding)
    if brand is None:
        return redirect(url_for("wizard.brand_not_listed", request_id=onboarding.id))
    return render("wizard/brand_noted.html", onboarding=onboarding, brand=brand)
