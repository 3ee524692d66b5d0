"""The wizard's forms. They carry the fields and CSRF; the rules live in the domain."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, ValidationError

from app.catalog import Catalog, Manufacturer

NO_COLLECTIVE = "none"


class ChoiceField(RadioField):
    """Radios that refuse a value not offered (a tampered form) with a message of ours."""

    def __init__(self, label: str, invalid_message: str, **kwargs: object) -> None:
        super().__init__(label, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data and self.data not in {value for value, _label in self.choices}:
            raise ValidationError(self.invalid_message)


class TypeForm(FlaskForm):
    type = ChoiceField(
        _l("What kind of device do you want to connect?"),
        _l("Choose the kind of device from the list."),
        validators=[InputRequired(_l("Choose the kind of device."))],
    )

    def __init__(self, catalog: Catalog, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.type.choices = [(t.id, gettext(t.label)) for t in catalog.types.values()]


class ManufacturerForm(FlaskForm):
    manufacturer = ChoiceField(
        _l("Who made it?"),
        _l("Choose the manufacturer from the list."),
        validators=[InputRequired(_l("Choose the manufacturer."))],
    )

    def __init__(self, names: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.manufacturer.choices = [(n, n) for n in names]


class CollectiveForm(FlaskForm):
    collective = ChoiceField(
        _l("Add it to a group?"),
        _l("Choose a group from the list."),
        validators=[InputRequired(_l("Choose a group, or no group."))],
    )

    def __init__(self, choices: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.collective.choices = [*choices, (NO_COLLECTIVE, gettext("No group"))]


# Marks a field whose value is printed on the device or its papers as a barcode or QR code:
# the form macro then offers to scan it (static/js/scan.js).
SCANNABLE = "data-scan"


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


class ActionForm(FlaskForm):
    """A button that acts (send, cancel, go to the manufacturer): only CSRF to check."""


class TermsForm(ActionForm):
    """Accepting is the button itself; the form carries the version seen."""

    version = StringField()


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
