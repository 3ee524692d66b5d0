"""Forms more than one blueprint uses. They carry the fields and CSRF; the rules live in
the domain (the catalog checks every identifying answer)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectChoice, StringField

from app.catalog import Manufacturer

ErrorList = list[tuple[str, str]]
# Marks a field whose value is printed on the device or its papers as a barcode or QR code:
# the form macro then offers to scan it (static/js/scan.js).
SCANNABLE = "data-scan"


def form_errors(form: Any) -> ErrorList:
    """(field id, first message) of each field in error, for the error summary."""
    return [
        (getattr(form, name).id, messages[0])
        for name, messages in form.errors.items()
        if messages and hasattr(form, name)
    ]


class ActionForm(FlaskForm):
    """A button that acts (send, cancel, go to the manufacturer): only CSRF to check."""


def details_form(manufacturer: Manufacturer, **kwargs: object) -> FlaskForm:
    """A form with exactly the fields this manufacturer needs, validated by the catalog."""

    class DetailsForm(FlaskForm):
        pass

    for attribute in manufacturer.attributes:
        field: Field
        if attribute.rule == "choice":
            # SelectChoice, not tuples: WTForms 3.3 deprecates tuple choices (a warning).
            field = RadioField(
                gettext(attribute.label),
                choices=[SelectChoice(c.value, gettext(c.label)) for c in attribute.choices],
                validate_choice=False,
            )
        else:
            render_kw: dict[str, str | bool] = {"spellcheck": "false"}
            if attribute.rule == "email":
                render_kw.update(autocomplete="email", inputmode="email", type="email")
            elif attribute.rule in ("vin", "pattern", "ean"):
                render_kw.update(autocomplete="off", autocapitalize="characters")
                if attribute.rule == "ean":
                    render_kw["inputmode"] = "numeric"
            if attribute.scannable:
                render_kw[SCANNABLE] = True
            field = StringField(gettext(attribute.label), render_kw=render_kw)
        setattr(DetailsForm, attribute.name, field)
    return DetailsForm(**kwargs)
