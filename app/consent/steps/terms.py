"""`terms`: the owner reads the data-sharing terms and agrees; the exact text is kept."""

from __future__ import annotations

from contextlib import nullcontext

from flask import flash, redirect, request
from flask_babel import force_locale, gettext
from werkzeug.wrappers import Response
from wtforms import StringField

from app.catalog import Manufacturer
from app.consent.steps.base import OpenStep, evidence
from app.extensions import db
from app.forms import ActionForm
from app.i18n import LANGUAGES, current_language, in_sentence
from app.onboarding.states import StepKind
from app.onboarding.steps import complete_step
from app.onboarding.terms import terms_for


class TermsForm(ActionForm):
    """Accepting is the button itself; the form carries the version seen."""

    version = StringField()


class Terms:
    kind = StepKind.TERMS
    template = "consent/steps/terms.html"

    def label(self, manufacturer: Manufacturer | None) -> str:
        return gettext("Agree to share your device's data")

    def handle(self, page: OpenStep) -> Response:
        # The terms in the language they were shown in (posted back with them): the hash
        # kept is of the very text the owner read.
        shown_in = request.form.get("language", "")
        with force_locale(shown_in) if shown_in in LANGUAGES else nullcontext():
            terms = terms_for(
                page.onboarding.tenant.name,
                in_sentence(gettext(page.entity_type.label)),
                page.manufacturer.name,
            )
            terms_language = current_language()
        form = TermsForm(data={"version": terms.version})
        if form.validate_on_submit():
            if form.version.data != terms.version:
                flash(
                    gettext(
                        "The terms changed while you were reading them. Please read them again."
                    ),
                    "info",
                )
                return redirect(request.path)
            complete_step(
                page.onboarding,
                page.step,
                page.principal.actor,
                {
                    **evidence(),
                    "terms_version": terms.version,
                    "terms_sha256": terms.sha256,
                    "terms_language": terms_language,
                },
            )
            db.session.commit()
            return redirect(page.next_url())
        return page.render([], form=form, terms=terms)
