"""`pairing_code`: the owner types the code printed on the device or its packaging."""

from __future__ import annotations

from flask import redirect
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField

from app.catalog import Manufacturer
from app.consent import service
from app.consent.steps.base import OpenStep, evidence
from app.extensions import db
from app.forms import SCANNABLE, form_errors
from app.i18n import translate
from app.identifiers import IdentifierError
from app.onboarding.states import StepKind


class PairingForm(FlaskForm):
    code = StringField(
        _l("Pairing code"),
        render_kw={
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "characters",
            SCANNABLE: True,
        },
    )


class PairingCode:
    kind = StepKind.PAIRING_CODE
    template = "consent/steps/pairing_code.html"

    def label(self, manufacturer: Manufacturer | None) -> str:
        return gettext("Enter the pairing code")

    def handle(self, page: OpenStep) -> Response:
        pairing = page.manufacturer.pairing
        assert pairing is not None
        form = PairingForm()
        form.code.label.text = gettext(pairing.label)
        if pairing.digits_only:
            # The number pad on a phone (the catalog's pattern still decides).
            form.code.render_kw = {**(form.code.render_kw or {}), "inputmode": "numeric"}
            form.code.render_kw.pop("autocapitalize", None)
        if form.validate_on_submit():
            try:
                service.pair(
                    page.onboarding,
                    page.step,
                    page.manufacturer,
                    form.code.data or "",
                    page.principal.actor,
                    evidence(),
                )
            except IdentifierError as error:
                db.session.commit()  # keep the failed attempt on the timeline
                form.code.errors = [translate(error)]
            else:
                db.session.commit()
                return redirect(page.next_url())
        return page.render(form_errors(form), form=form, pairing=pairing)
