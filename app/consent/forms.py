"""The form for sending a consent link: any page that hands a link over can use it.

The contact field rules (email_address, mobile_number) are in app/forms.py."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field, HiddenField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, ValidationError

from app.consent.messages import (
    SUBMISSION_KEY_MAX_LENGTH,
    MessageChannel,
    MessageNotSent,
    SentLink,
    clean_recipient,
    new_submission_key,
    send_consent_link,
)
from app.extensions import db
from app.i18n import translate
from app.identifiers import IdentifierError
from app.models import OnboardingRequest
from app.onboarding.audit import Actor
from app.onboarding.errors import OnboardingError


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

    def send(
        self, request: OnboardingRequest, actor: Actor, *, replace: bool = False
    ) -> SentLink | None:
        """Send what a valid form asks for (`replace`: a new link, see send_consent_link)
        and commit; or None, with the reason on `to` (rolled back: nothing changed)."""
        if not self.validate_on_submit():
            return None
        try:
            sent = send_consent_link(
                request,
                self.channel.data,
                self.to.data,
                actor,
                submission_key=self.submission_key.data,
                replace=replace,
            )
        except (IdentifierError, OnboardingError, MessageNotSent) as error:
            db.session.rollback()
            self.to.errors = [translate(error)]
        except StaleDataError:
            db.session.rollback()
            self.to.errors = [gettext("The request changed meanwhile. Send it again.")]
        else:
            db.session.commit()
            return sent
        return None
