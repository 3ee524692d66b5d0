"""The wizard's last page, check answers (with the declaration, which sends the request),
and throwing a draft away."""

from __future__ import annotations

import uuid

from flask import flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from app.catalog import Manufacturer, current_catalog
from app.consent import service as consent_service
from app.consent.steps.terms import TermsForm, agree, shown_terms, terms_changed
from app.consent.urls import resume_url
from app.extensions import db
from app.forms import ActionForm
from app.htmx import render
from app.i18n import in_sentence
from app.models import OnboardingRequest
from app.onboarding import drafts
from app.onboarding.drafts import QUESTION_DETAILS
from app.onboarding.errors import InvalidAnswers
from app.onboarding.navigation import Place, after_declaration, declares_on_check
from app.onboarding.states import Status
from app.onboarding.steps import submit_request
from app.security import current_principal, safe_next
from app.wizard import bp, flow
from app.wizard.routes import own_request, question_or_redirect, question_page

# ---------------------------------------------------------------- check and submit


def _answers(onboarding: OnboardingRequest, manufacturer: Manufacturer | None) -> list[dict]:
    """The check-answers rows: label, value, and the question to change it."""
    catalog = current_catalog()
    entity_type = catalog.entity_type(onboarding.type)
    rows = [
        {
            "label": gettext("Device"),
            "value": gettext(entity_type.label) if entity_type else onboarding.type,
            "question": "wizard.type",
            "change": gettext("kind of device"),
        },
        {
            "label": gettext("Manufacturer"),
            "value": onboarding.manufacturer,
            "question": "wizard.manufacturer",
            "change": gettext("manufacturer"),
        },
    ]
    for attribute in manufacturer.attributes if manufacturer else ():
        value = onboarding.information.get(
            attribute.name, onboarding.properties.get(attribute.name)
        )
        if attribute.choices:
            value = next((gettext(c.label) for c in attribute.choices if c.value == value), value)
        rows.append(
            {
                "label": gettext(attribute.label),
                "value": value or gettext("Not given"),
                "question": "wizard.details",
                "change": in_sentence(gettext(attribute.label)),
            }
        )
    if entity_type is not None and drafts.only_manufacturer(entity_type.manufacturers):
        rows[1]["question"] = None  # the type's only manufacturer: nothing to change
    if drafts.offers_collective(onboarding):
        rows.append(
            {
                "label": gettext("Group"),
                "value": (
                    onboarding.collective.name if onboarding.collective else gettext("No group")
                ),
                "question": "wizard.collective",
                "change": gettext("group"),
            }
        )
    return rows


@bp.route("/<uuid:request_id>/check", methods=["GET", "POST"])
@login_required
def check(request_id: uuid.UUID) -> Response:
    """Check answers, then the declaration: agreeing to the terms here sends the request,
    records the terms step's evidence and goes straight on to the manufacturer."""
    onboarding = question_or_redirect(request_id, flow.CHECK)
    if isinstance(onboarding, Response):
        return onboarding
    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    entity_type = catalog.entity_type(onboarding.type)
    assert manufacturer is not None and entity_type is not None
    declaration = declares_on_check([spec.kind for spec in manufacturer.steps])
    terms, language = shown_terms(onboarding, entity_type, manufacturer)
    form = TermsForm(data={"version": terms.version if declaration else ""})
    if form.validate_on_submit():
        # The version comes only with the declaration shown; without it the request is
        # sent and the terms are agreed on their own page.
        posted = request.form.get("version", "")
        agreed = declaration and bool(posted)
        if agreed and posted != terms.version:
            terms_changed()
            return redirect(request.path)
        actor = current_principal().actor
        try:
            submit_request(onboarding, catalog, actor)
        except InvalidAnswers:
            # An answer no longer passes (the rules changed): ask it again.
            db.session.rollback()
            drafts.ask_again(onboarding, QUESTION_DETAILS)
            db.session.commit()
            flash(gettext("Please check these details again."), "info")
            return redirect(resume_url(onboarding))
        if agreed:
            agree(onboarding, onboarding.steps[0], terms, language, actor)
        return _after_check(onboarding, manufacturer)
    return question_page(
        "wizard/check.html",
        onboarding,
        flow.CHECK,
        [],
        form=form,
        rows=_answers(onboarding, manufacturer),
        manufacturer=manufacturer,
        terms=terms if declaration else None,
        next_step=manufacturer.steps[1] if declaration and len(manufacturer.steps) > 1 else None,
    )


def _after_check(onboarding: OnboardingRequest, manufacturer: Manufacturer) -> Response:
    where = after_declaration(onboarding)
    if where.place == Place.MANUFACTURER:
        step = next(s for s in onboarding.steps if s.position == where.position)
        url = consent_service.start_redirect(
            onboarding, step, manufacturer, current_principal().actor
        )
        db.session.commit()
        return redirect(url)
    if where.place == Place.STEP:
        url = url_for("consent.step", request_id=onboarding.id, position=where.position)
    else:
        url = resume_url(onboarding)
    db.session.commit()
    return redirect(url)


# ---------------------------------------------------------------- discard a draft


@bp.route("/<uuid:request_id>/discard", methods=["GET", "POST"])
@login_required
def discard(request_id: uuid.UUID) -> Response:
    """Throw a Draft away, after a confirmation page (a form: it works without JavaScript)."""
    onboarding = own_request(request_id)
    if onboarding.status != Status.DRAFT:
        return redirect(resume_url(onboarding))
    form = ActionForm()
    if form.validate_on_submit():
        drafts.discard_draft(onboarding, current_principal().actor)
        db.session.commit()
        flash(gettext("The draft was discarded."), "info")
        return redirect(url_for("main.home"))
    return render(
        "wizard/discard.html",
        onboarding=onboarding,
        form=form,
        # Keeping it goes back where the owner came from (home or check answers).
        back_url=safe_next(request.args.get("next")) or url_for("main.home"),
    )
