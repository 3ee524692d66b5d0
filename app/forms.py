"""Forms more than one blueprint uses. They carry the fields and CSRF; the rules live in
the domain (the catalog checks every identifying answer)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import ValidationError

from app.catalog import Manufacturer, current_catalog
from app.contacts import validate_email, validate_mobile
from app.i18n import translate
from app.identifiers import IdentifierError
from app.text import UNUSABLE_CHARACTER, has_unusable

if TYPE_CHECKING:
    from app.models import ConsentStep, Entity, OnboardingRequest
    from app.onboarding.audit import Actor
    from app.onboarding.devices import DeviceTaken

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


class Form(FlaskForm):
    """Every form of the site: besides its own rules, each text it receives must follow
    app/text.py's (no control characters), with the message beside the field."""

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        extra: dict[str, list[Any]] = {k: list(v) for k, v in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).append(usable_text)
        return bool(super().validate(extra_validators=extra))


def usable_text(form: FlaskForm, field: Field) -> None:
    """Validator: refuse a value with a character app/text.py refuses (CSRF's own excepted)."""
    if field.name == "csrf_token":
        return
    values = field.raw_data or []
    multiline = isinstance(field, TextAreaField)
    if any(isinstance(v, str) and has_unusable(v, multiline) for v in values):
        raise ValidationError(gettext(UNUSABLE_CHARACTER))


class ActionForm(Form):
    """A button that acts (send, cancel, go to the manufacturer): only CSRF to check."""


def details_form(
    manufacturer: Manufacturer, base: type[FlaskForm] = Form, **kwargs: object
) -> FlaskForm:
    """A form with exactly the fields this manufacturer needs, validated by the catalog
    (on top of `base`'s own fields, for a page that asks more)."""

    class DetailsForm(base):
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
            elif attribute.digits_only:
                # The number pad on a phone. No `pattern` attribute: spaces, dashes and
                # full-width digits are fine here (the rules fold them), not to a browser.
                render_kw.update(autocomplete="off", inputmode="numeric")
            elif attribute.rule in ("vin", "pattern"):
                render_kw.update(autocomplete="off", autocapitalize="characters")
            if attribute.scannable:
                render_kw[SCANNABLE] = True
            field = StringField(gettext(attribute.label), render_kw=render_kw)
        setattr(DetailsForm, attribute.name, field)
    return DetailsForm(**kwargs)


def save_correction(
    request: OnboardingRequest, manufacturer: Manufacturer, form: Any, actor: Actor
) -> list[ConsentStep] | None:
    """Correct a sent request's details from a valid `details_form` and commit: the steps
    the owner must take again (see `correct_information`). None when the form or the
    answers are wrong; the messages are then on the form's fields."""
    from app.extensions import db
    from app.onboarding.errors import InvalidAnswers
    from app.onboarding.steps import correct_information

    if not form.validate_on_submit():
        return None
    typed = {a.name: getattr(form, a.name).data for a in manufacturer.attributes}
    try:
        reset = correct_information(request, typed, current_catalog(), actor)
    except InvalidAnswers as invalid:
        db.session.rollback()
        for name, error in invalid.errors.items():
            getattr(form, name).errors = [translate(error)]
        return None
    db.session.commit()
    return reset


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


def _short_identifier(value: str) -> str:
    """ "WAUZZZ…598": enough of a long identifier to recognise it, short enough to read."""
    return f"{value[:6]}…{value[-3:]}" if len(value) > 12 else value


def device_notice(
    taken: DeviceTaken,
    device_id: str,
    request_url: Callable[[OnboardingRequest], str],
    entity_url: Callable[[Entity], str] | None = None,
) -> dict[str, Any]:
    """What an identifier form tells about a device the tenant already has: connected
    since when, or in another request under way; a link to either for whoever may see it."""
    from app.onboarding import access
    from app.onboarding.access import Action
    from app.security import current_principal

    principal = current_principal()
    notice: dict[str, Any] = {"identifier": _short_identifier(device_id), "link": None}
    if taken.entity is not None:
        notice["since"] = taken.entity.created_at
        notice["connected"] = True
        if entity_url is not None and access.sees_entity(principal, taken.entity):
            notice["link"] = entity_url(taken.entity)
    elif taken.request is not None and access.can(principal, Action.VIEW, taken.request):
        notice["link"] = request_url(taken.request)
    return notice
