"""The installer's forms: the device, then its identifier with the customer. They carry
the fields and CSRF; the rules live in the domain (app/onboarding/installs.py)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired

from app.catalog import Catalog, Manufacturer
from app.consent.messages import new_submission_key
from app.forms import details_form
from app.wizard.forms import NO_COLLECTIVE, ChoiceField

DEVICE_SEPARATOR = "/"


def device_value(type_id: str, manufacturer: str) -> str:
    return f"{type_id}{DEVICE_SEPARATOR}{manufacturer}"


class DeviceForm(FlaskForm):
    """Which device: one choice of a kind and its manufacturer ("EV/Audi")."""

    device = ChoiceField(
        _l("Which device do you install?"),
        _l("Choose the device from the list."),
        validators=[InputRequired(_l("Choose the device."))],
    )
    # One key per rendering: submitting the same form twice makes one request.
    start_key = HiddenField(default=new_submission_key)

    def __init__(self, catalog: Catalog, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.device.choices = [
            (device_value(t.id, name), name)
            for t in catalog.types.values()
            for name in t.manufacturers
        ]

    def chosen(self) -> tuple[str, str]:
        type_id, _sep, manufacturer = str(self.device.data).partition(DEVICE_SEPARATOR)
        return type_id, manufacturer


class CustomerForm(FlaskForm):
    """The customer who consents: a name, and an email address and/or a mobile number."""

    customer_name = StringField(
        _l("Customer's name"), render_kw={"autocomplete": "off", "spellcheck": "false"}
    )
    customer_email = StringField(
        _l("Customer's email address"),
        render_kw={
            "autocomplete": "off",
            "spellcheck": "false",
            "type": "email",
            "inputmode": "email",
        },
    )
    customer_mobile = StringField(
        _l("Customer's mobile number"),
        render_kw={"autocomplete": "off", "type": "tel", "inputmode": "tel"},
    )
    # The device the form was rendered for: another tab may have changed it since.
    rendered_for = HiddenField()


def install_details_form(
    manufacturer: Manufacturer, groups: list[tuple[str, str]], **kwargs: object
) -> FlaskForm:
    """The device's identifying fields (as the wizard asks them), the customer, and the
    group when the tenant has groups."""

    class DetailsAndCustomer(CustomerForm):
        pass

    if groups:
        # No group unless one is chosen: "No group" is checked at first.
        DetailsAndCustomer.collective = ChoiceField(
            _l("Add it to a group?"), _l("Choose a group from the list.")
        )
    form = details_form(manufacturer, base=DetailsAndCustomer, **kwargs)
    if groups:
        form.collective.choices = [(NO_COLLECTIVE, gettext("No group")), *groups]
    return form


def fields_in_order(form: FlaskForm, manufacturer: Manufacturer) -> list[str]:
    """The details form's fields in the order the page shows them (the device first)."""
    names = [a.name for a in manufacturer.attributes]
    names += ["customer_name", "customer_email", "customer_mobile", "collective"]
    return [name for name in names if hasattr(form, name)]
