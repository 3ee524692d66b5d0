"""`terms`: the owner reads the data-sharing terms and agrees; the exact text is kept.

The terms are agreed on their own page, or, when check answers ends in the declaration
(app/onboarding/navigation.declares_on_check), there: both record the same evidence.
"""

from __future__ import annotations

from contextlib import nullcontext

from flask import flash, redirect, request
from flask_babel import force_locale, gettext
from werkzeug.wrappers import Response
from wtforms import StringField

from app.catalog import EntityType, Manufacturer
from app.consent.steps.base import OpenStep, evidence
from app.extensions import db
from app.forms import ActionForm
from app.i18n import LANGUAGES, current_language, in_sentence
from app.models import ConsentStep, OnboardingRequest
from app.onboarding.audit import Actor
from app.onboarding.states import StepKind
from app.onboarding.steps import complete_step
from app.onboarding.terms import Terms as TermsText
from app.onboarding.terms import terms_for


class TermsForm(ActionForm):
    """Accepting is the button itself; the form carries the version seen."""

    version = StringField()


def shown_terms(
    onboarding: OnboardingRequest, entity_type: EntityType, manufacturer: Manufacturer
) -> tuple[TermsText, str]:
    """The terms, and their language, as the owner read them: in the language they were
    shown in (posted back with them), so the hash kept is of the very text read."""
    shown_in = request.form.get("language", "")
    with force_locale(shown_in) if shown_in in LANGUAGES else nullcontext():
        terms = terms_for(
            onboarding.tenant.name, in_sentence(gettext(entity_type.label)), manufacturer
        )
        return terms, current_language()


def terms_changed() -> None:
    flash(gettext("The terms changed while you were reading them. Please read them again."), "info")


def agree(
    onboarding: OnboardingRequest, step: ConsentStep, terms: TermsText, language: str, actor: Actor
) -> None:
    """Record the owner's agreement to `terms`: the version, the text's hash, its language
    and the browser's."""
    complete_step(
        onboarding,
        step,
        actor,
        {
            **evidence(),
            "terms_version": terms.version,
            "terms_sha256": terms.sha256,
            "terms_language": language,
        },
    )


class Terms:
    kind = StepKind.TERMS
    template = "consent/steps/terms.html"

    def label(self, manufacturer: Manufacturer | None) -> str:
        return gettext("Agree to share your device's data")

    def handle(self, page: OpenStep) -> Response:
        terms, language = shown_terms(page.onboarding, page.entity_type, page.manufacturer)
        form = TermsForm(data={"version": terms.version})
        if form.validate_on_submit():
            if form.version.data != terms.version:
                terms_changed()
                return redirect(request.path)
            agree(page.onboarding, page.step, terms, language, page.principal.actor)
            db.session.commit()
            return redirect(page.next_url())
        return page.render([], form=form, terms=terms)
