"""`redirect`: the owner signs in at the manufacturer and allows access (OAuth 2.0 with
PKCE), then comes back through the callback."""

from __future__ import annotations

from flask import redirect
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.catalog import Manufacturer
from app.consent import service
from app.consent.steps.base import OpenStep
from app.extensions import db
from app.forms import ActionForm
from app.onboarding.states import StepKind


class Redirect:
    kind = StepKind.REDIRECT
    template = "consent/steps/redirect.html"

    def label(self, manufacturer: Manufacturer | None) -> str:
        name = manufacturer.name if manufacturer else ""
        return gettext("Sign in at %(manufacturer)s and allow access", manufacturer=name)

    def handle(self, page: OpenStep) -> Response:
        form = ActionForm()  # the action is the button
        if form.validate_on_submit():
            url = service.start_redirect(
                page.onboarding, page.step, page.manufacturer, page.principal.actor
            )
            db.session.commit()
            return redirect(url)
        return page.render([], form=form, correction=page.correction_form())
