"""`app_consent`: the owner approves in the manufacturer's own app; we wait, and learn the
answer from the provider's callback or by asking it."""

from __future__ import annotations

from flask import redirect, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.catalog import Manufacturer
from app.consent import service
from app.consent.steps.base import OpenStep
from app.extensions import db
from app.forms import ActionForm
from app.jobs import after_commit
from app.jobs.tasks import poll_approval
from app.onboarding.states import StepKind, StepStatus


class AppConsent:
    kind = StepKind.APP_CONSENT
    template = "consent/steps/app_consent.html"

    def label(self, manufacturer: Manufacturer | None) -> str:
        name = manufacturer.name if manufacturer else ""
        return gettext("Allow access in the %(manufacturer)s app", manufacturer=name)

    def handle(self, page: OpenStep) -> Response:
        form = ActionForm()  # the action is the button
        if form.validate_on_submit():
            if page.step.status != StepStatus.WAITING:
                service.start_app_consent(
                    page.onboarding, page.step, page.manufacturer, page.principal.actor
                )
                if page.step.status == StepStatus.WAITING:
                    # A job asks the manufacturer from now on; this page only reads.
                    after_commit(db.session(), poll_approval, page.step.id)
                db.session.commit()
            return redirect(request.path)
        if self.settle(page):
            return redirect(page.next_url())
        return page.render([], form=form, correction=page.correction_form())

    def settle(self, page: OpenStep) -> bool:
        """True once the step is done. Only reads: the provider's callback and the polling
        job (app/jobs/tasks.py) settle the approval."""
        return page.step.status == StepStatus.DONE
