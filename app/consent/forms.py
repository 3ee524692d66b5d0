"""Forms and field rules for handing a consent link over: reusable by any page that sends one."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, ValidationError

from app.consent.messages import (
    SUBMISSION_KEY_MAX_LENGTH,
    MessageChannel,
    clean_recipient,
    new_submission_key,
)
from app.contacts import validate_email, validate_mobile
from app.i18n import translate
from app.identifiers import IdentifierError


class ContactRule:
    """A WTForms validator running one of app/contacts.py's rules on a filled-in field.

    On success the field holds the normalised value (an E.164 number); on error the
    rule's message shows next to the field and what was typed is kept. An empty field
    passes: add InputRequired where it must be filled.
    """

    def __init__(self, rule: Callable[[str], str]) -> None:
        self.rule = rule

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data or not str(field.data).strip():
            return
        try:
            field.data = self.rule(str(field.data))
        except IdentifierError as error:
            raise ValidationError(translate(error)) from None


def email_address() -> ContactRule:
    """Validator: an email address (app.contacts.validate_email)."""
    return ContactRule(validate_email)


def mobile_number() -> ContactRule:
    """Validator: a mobile number, normalised to E.164; PHONE_DEFAULT_REGION applies."""
    return ContactRule(lambda value: validate_mobile(value, _default_region()))


def _default_region() -> str | None:
    region: str | None = current_app.config.get("PHONE_DEFAULT_REGION")
    return region


class SendLinkForm(FlaskForm):
    """Send the consent link: by which channel, to whom, and the key that makes the form
    safe to submit twice (render it as a hidden field; a new form gets a new key).

    Pages with one button per channel name the buttons `channel` (value "email"/"sms").
    """

    channel = RadioField(
        _l("Send by"),
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuple choices.
        choices=[
            SelectChoice(MessageChannel.EMAIL.value, _l("Email")),
            SelectChoice(MessageChannel.SMS.value, _l("Text message")),
        ],
        validators=[InputRequired(_l("Choose email or text message."))],
    )
    to = StringField(
        _l("Email address or mobile number"),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submission_key = HiddenField(default=new_submission_key)

    def validate_to(self, field: Field) -> None:
        if self.channel.data not in {c.value for c in MessageChannel}:
            return  # the channel's own message says what to do
        try:
            field.data = clean_recipient(self.channel.data, field.data or "")
        except IdentifierError as error:
            raise ValidationError(translate(error)) from None

    def validate_submission_key(self, field: Field) -> None:
        if not field.data or len(field.data) > SUBMISSION_KEY_MAX_LENGTH:
            # Only a tampered or truncated form gets here.
            raise ValidationError(_l("Reload the page and send again."))
