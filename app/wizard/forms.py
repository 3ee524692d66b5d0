"""The wizard's forms. They carry the fields and CSRF; the rules live in the domain."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired, ValidationError

from app.catalog import Catalog
from app.forms import Form

NO_COLLECTIVE = "none"


class ChoiceField(RadioField):
    """Radios that refuse a value not offered (a tampered form) with a message of ours."""

    def __init__(self, label: str, invalid_message: str, **kwargs: object) -> None:
        super().__init__(label, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data and self.data not in {value for value, _label in self.choices}:
            raise ValidationError(self.invalid_message)


class TypeForm(Form):
    type = ChoiceField(
        _l("What kind of device do you want to connect?"),
        _l("Choose the kind of device from the list."),
        validators=[InputRequired(_l("Choose the kind of device."))],
    )

    def __init__(self, catalog: Catalog, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.type.choices = [(t.id, gettext(t.label)) for t in catalog.types.values()]


class ManufacturerForm(Form):
    manufacturer = ChoiceField(
        _l("Who made it?"),
        _l("Choose the manufacturer from the list."),
        validators=[InputRequired(_l("Choose the manufacturer."))],
    )

    def __init__(self, names: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.manufacturer.choices = [(n, n) for n in names]


class CollectiveForm(Form):
    collective = ChoiceField(
        _l("Add it to a group?"),
        _l("Choose a group from the list."),
        validators=[InputRequired(_l("Choose a group, or no group."))],
    )

    def __init__(self, choices: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.collective.choices = [*choices, (NO_COLLECTIVE, gettext("No group"))]
