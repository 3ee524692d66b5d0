"""Requests sent complete in one go (the API): every field checked as the wizard checks
its answers, then Pending with its consent steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from app.catalog import Attribute, Catalog, Manufacturer
from app.identifiers import N_, IdentifierError
from app.models import Collective, OnboardingRequest, Tenant, User
from app.onboarding.access import same_tenant
from app.onboarding.audit import Actor
from app.onboarding.drafts import clean_answers
from app.onboarding.errors import InvalidAnswers
from app.onboarding.lifecycle import new_request
from app.onboarding.states import Door, Status
from app.onboarding.steps import new_steps

# Rules for the request fields that are not identifying attributes of the catalog. They
# are catalog attributes, so the wording is the wizard's own.
_CONTACT_EMAIL = Attribute(
    name="email", label="Email address", hint="", rule="email", required=False
)
_PARTNER_REFERENCE = Attribute(
    name="reference", label="Reference", hint="", rule="text", required=False, max_length=200
)
_DEVICE_MODEL = Attribute(
    name="model", label="Model", hint="", rule="text", required=False, max_length=100
)
_RETURN_URL_MAX_LENGTH = 2000


def clean_return_url(raw: object) -> str | None:
    """An http(s) address to send the owner back to, or None; raise IdentifierError."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise IdentifierError(N_("The return address must be text."))
    value = raw.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 for c in value)
    ):
        raise IdentifierError(
            N_(
                "Give a return address that starts with https:// or http://, "
                "like https://example.com/done."
            )
        )
    if len(value) > _RETURN_URL_MAX_LENGTH:
        raise IdentifierError(
            N_("The return address can be at most %(max)d characters; this one has %(length)d."),
            max=_RETURN_URL_MAX_LENGTH,
            length=len(value),
        )
    return value


def create_request(
    tenant: Tenant,
    type_id: object,
    manufacturer_name: object,
    answers: Mapping[str, object],
    catalog: Catalog,
    actor: Actor,
    *,
    collective: Collective | None = None,
    owner: User | None = None,
    created_by: User | None = None,
    email: object = None,
    reference: object = None,
    model: object = None,
    return_url: object = None,
    door: Door = Door.API,
) -> OnboardingRequest:
    """A request sent in one go (the API): checked like the wizard's answers, then Pending.

    `answers` holds the identifying attributes (vin, ean, code, ...). `email` and
    `reference` are identifying attributes when the manufacturer asks for them, and
    otherwise the owner's contact address and the caller's own reference. Raises
    InvalidAnswers with a message per field, named as the caller named it.
    """
    errors: dict[str, IdentifierError] = {}
    names = ", ".join(catalog.types)
    entity_type = catalog.find_type(type_id)
    manufacturer: Manufacturer | None = None
    if entity_type is None:
        if type_id is None or (isinstance(type_id, str) and not type_id.strip()):
            errors["type"] = IdentifierError(
                N_("Enter the type of device: one of %(names)s."), names=names
            )
        else:
            errors["type"] = IdentifierError(
                N_('There is no type of device called "%(given)s". Use one of %(names)s.'),
                given=str(type_id)[:60],
                names=names,
            )
    else:
        manufacturer = catalog.find_manufacturer(entity_type.id, manufacturer_name)
        if manufacturer is None:
            known = ", ".join(entity_type.manufacturers)
            if manufacturer_name is None or (
                isinstance(manufacturer_name, str) and not manufacturer_name.strip()
            ):
                errors["manufacturer"] = IdentifierError(
                    N_("Enter the manufacturer: one of %(names)s."), names=known
                )
            else:
                errors["manufacturer"] = IdentifierError(
                    N_(
                        'There is no manufacturer called "%(given)s" for this type of device.'
                        " Use one of %(names)s."
                    ),
                    given=str(manufacturer_name)[:60],
                    names=known,
                )

    given = {**answers, "email": email, "reference": reference}
    information: dict[str, str] = {}
    properties: dict[str, str] = {}
    if manufacturer is not None:
        try:
            information, properties = clean_answers(manufacturer, given)
        except InvalidAnswers as invalid:
            errors.update(invalid.errors)
    asked = {a.name for a in manufacturer.attributes} if manufacturer else set()

    def extra(attribute: Attribute, raw: object) -> str | None:
        if attribute.name in asked:
            return information.get(attribute.name)
        try:
            return attribute.clean(raw)
        except IdentifierError as error:
            errors[attribute.name] = error
            return None

    contact_email = extra(_CONTACT_EMAIL, email)
    partner_reference = extra(_PARTNER_REFERENCE, reference)
    device_model = extra(_DEVICE_MODEL, model)
    try:
        cleaned_return_url = clean_return_url(return_url)
    except IdentifierError as error:
        errors["returnUrl"] = error
    if collective is not None and not same_tenant(collective, tenant):
        errors["collectiveId"] = IdentifierError(N_("Choose a group from the list."))
    if errors:
        raise InvalidAnswers(errors)
    assert entity_type is not None and manufacturer is not None
    if device_model and "model" not in asked:
        information["model"] = device_model

    return new_request(
        tenant,
        entity_type.id,
        actor,
        door=door,
        # Sent complete in one go, so never a Draft: the owner's consent is next.
        status=Status.PENDING,
        created_by=created_by,
        owner=owner,
        collective=collective,
        manufacturer=manufacturer.name,
        information=information,
        properties=properties,
        device_id=manufacturer.device_key(information),
        email=contact_email,
        reference=partner_reference,
        return_url=cleaned_return_url,
        steps=new_steps(manufacturer),
    )
