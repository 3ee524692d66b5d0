"""The admin area's forms; they carry the fields and CSRF. The rules live beside them in
app/admin/people.py, app/webhooks and app/admin/branding.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import email_address
from app.models import Role

ROLE_LABELS = {
    Role.OWNER: (_l("Owner"), _l("Connects their own devices.")),
    Role.INSTALLER: (_l("Installer"), _l("Starts requests for customers and hands them over.")),
    Role.SUPPORT: (_l("Support"), _l("Sees every request, fixes and resends.")),
    Role.ADMIN: (_l("Admin"), _l("As support, and manages these settings.")),
}


def one_line(value: str | None) -> str | None:
    """Spaces as typed, tidied: no runs of them, none at the ends."""
    return " ".join(value.split()) if value else value


def role_options() -> list[tuple[str, str, str]]:
    """(value, label, hint) of each role, for the radios macro."""
    return [(str(role), str(label), str(hint)) for role, (label, hint) in ROLE_LABELS.items()]


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(str(role), label) for role, (label, _hint) in ROLE_LABELS.items()]


class NewApiKeyForm(FlaskForm):
    name = StringField(
        _l("What is the key for?"),
        validators=[
            InputRequired(_l("Enter what the key is for, such as the partner app's name.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
        render_kw={"autocomplete": "off"},
    )


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[
            InputRequired(_l("Enter the email address of the person to invite.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            email_address(),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField(
        _l("Name (optional)"),
        validators=[Length(max=200, message=_l("Use at most 200 characters."))],
        render_kw={"autocomplete": "off"},
    )
    role = RadioField(
        _l("Role"),
        choices=_role_choices,
        default=str(Role.SUPPORT),
        validators=[InputRequired(_l("Choose a role."))],
        validate_choice=True,
    )


class RoleForm(FlaskForm):
    role = RadioField(
        _l("Role"),
        choices=_role_choices,
        validators=[InputRequired(_l("Choose a role."))],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Enter a password."))],
        render_kw={"autocomplete": "new-password"},
    )


class GroupForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name for the group.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
        filters=[one_line],
        render_kw={"autocomplete": "off"},
    )
    kind = RadioField(
        _l("Kind"),
        choices=[
            SelectChoice("Household", _l("Household")),
            SelectChoice("Community", _l("Energy community")),
        ],
        default="Household",
        validators=[InputRequired(_l("Choose the kind of group."))],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WebhookForm(FlaskForm):
    url = URLField(
        _l("URL"),
        validators=[
            InputRequired(_l("Enter the URL that receives the events.")),
            Length(max=2000, message=_l("Use at most 2000 characters.")),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
    )
    description = StringField(
        _l("Description (optional)"),
        validators=[Length(max=200, message=_l("Use at most 200 characters."))],
        render_kw={"autocomplete": "off"},
    )
    event_types = MultiCheckboxField(_l("Events to send"))
    enabled = BooleanField(_l("Send events to this endpoint"), default=True)


class SettingsForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter your organisation's name.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
        filters=[one_line],
        render_kw={"autocomplete": "organization"},
    )
    logo = FileField(
        _l("Logo (optional)"), render_kw={"accept": "image/png,image/jpeg,image/svg+xml"}
    )
