"""The onboarding request's lifecycle. Both doors (wizard and API) call these functions.

They change the session's objects and flush; the caller commits. Every change touches
the request, so its version column turns a concurrent second change (another tab, a
double click) into a StaleDataError instead of a silent overwrite.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from app.catalog import Attribute, Catalog, Manufacturer
from app.extensions import db
from app.identifiers import N_, IdentifierError
from app.models import (
    Collective,
    ConsentStep,
    Entity,
    EntityStatus,
    Event,
    OnboardingRequest,
    Tenant,
    User,
    utcnow,
)
from app.onboarding.states import FailureReason, Status, StepStatus, check_transition

# Wizard questions, in the order they are asked (the answered list holds these names).
QUESTION_TYPE = "type"
QUESTION_MANUFACTURER = "manufacturer"
QUESTION_DETAILS = "details"
QUESTION_COLLECTIVE = "collective"

# The sandbox answers this pairing code with "does not match the device".
SANDBOX_WRONG_PAIRING_CODE = "000000"


class OnboardingError(Exception):
    """A change the request's current state does not allow; `message` is for the person."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.template = message
        self.params = params


class InvalidAnswers(Exception):
    """Some answers are not valid; `errors` maps each field name to its IdentifierError."""

    def __init__(self, errors: dict[str, IdentifierError]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in user, the owner through a consent link, an API key."""

    label: str

    @classmethod
    def user(cls, user: User) -> Actor:
        return cls(f"user:{user.id}")

    @classmethod
    def api_key(cls, key_id: int) -> Actor:
        return cls(f"api-key:{key_id}")

    @classmethod
    def provider(cls, name: str) -> Actor:
        return cls(f"provider:{name}")


SYSTEM = Actor("system")
OWNER_LINK = Actor("owner-link")  # the owner, through a signed consent link


def record_event(request: OnboardingRequest, kind: str, actor: Actor, **data: Any) -> Event:
    event = Event(request=request, kind=kind, actor=actor.label, data=data, at=utcnow())
    db.session.add(event)
    return event


def _touch(request: OnboardingRequest) -> None:
    request.last_activity_at = utcnow()


def _set_status(
    request: OnboardingRequest, target: Status, actor: Actor, reason: str | None = None
) -> None:
    current = request.status_enum
    check_transition(current, target)
    request.status = target
    if reason:
        request.failure_reason = reason
    if target.is_final:
        request.finished_at = utcnow()
    _touch(request)
    record_event(request, "status", actor, **{"from": current, "to": target, "reason": reason})


def _answered(request: OnboardingRequest, *add: str, drop: tuple[str, ...] = ()) -> None:
    names = [n for n in request.answered if n not in drop]
    names += [n for n in add if n not in names]
    request.answered = names


def _require_draft(request: OnboardingRequest) -> None:
    if request.status != Status.DRAFT:
        raise OnboardingError(N_("This request was already sent; its answers cannot change."))


# ---------------------------------------------------------------- answers


def clean_answers(
    manufacturer: Manufacturer, answers: Mapping[str, object]
) -> tuple[dict[str, str], dict[str, str]]:
    """Validate `answers` for `manufacturer`: (information, properties) or InvalidAnswers."""
    information: dict[str, str] = {}
    properties: dict[str, str] = {}
    errors: dict[str, IdentifierError] = {}
    for attribute in manufacturer.attributes:
        try:
            value = attribute.clean(answers.get(attribute.name))
        except IdentifierError as error:
            errors[attribute.name] = error
            continue
        if value is not None:
            target = properties if attribute.target == "properties" else information
            target[attribute.name] = value
    if errors:
        raise InvalidAnswers(errors)
    return information, properties


def start_draft(
    tenant: Tenant, owner: User | None, type_id: str, catalog: Catalog, actor: Actor
) -> OnboardingRequest:
    """A new Draft request in the wizard, its type already chosen."""
    if catalog.entity_type(type_id) is None:
        raise OnboardingError(N_("Choose the kind of device from the list."))
    request = OnboardingRequest(
        id=uuid.uuid4(),
        tenant=tenant,
        owner=owner,
        created_by=owner,
        type=type_id,
        status=Status.DRAFT,
        channel="wizard",
        information={},
        properties={},
        answered=[QUESTION_TYPE],
    )
    db.session.add(request)
    record_event(request, "created", actor, channel="wizard", type=type_id)
    return request


def choose_type(request: OnboardingRequest, type_id: str, catalog: Catalog, actor: Actor) -> None:
    _require_draft(request)
    if catalog.entity_type(type_id) is None:
        raise OnboardingError(N_("Choose the kind of device from the list."))
    if type_id != request.type:
        request.type = type_id
        request.manufacturer = None
        request.information = {}
        request.properties = {}
        _answered(request, drop=(QUESTION_MANUFACTURER, QUESTION_DETAILS))
        record_event(request, "answer", actor, question=QUESTION_TYPE, value=type_id)
    _answered(request, QUESTION_TYPE)
    _touch(request)


def choose_manufacturer(
    request: OnboardingRequest, name: str, catalog: Catalog, actor: Actor
) -> None:
    _require_draft(request)
    manufacturer = catalog.manufacturer(request.type, name)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer from the list."))
    if name != request.manufacturer:
        request.manufacturer = name
        # Keep what still applies (a VIN stays a VIN from Audi to BMW); ask again otherwise.
        names = {a.name for a in manufacturer.attributes}
        request.information = {k: v for k, v in request.information.items() if k in names}
        request.properties = {k: v for k, v in request.properties.items() if k in names}
        _answered(request, drop=(QUESTION_DETAILS,))
        record_event(request, "answer", actor, question=QUESTION_MANUFACTURER, value=name)
    _answered(request, QUESTION_MANUFACTURER)
    _touch(request)


def give_details(
    request: OnboardingRequest, answers: Mapping[str, object], catalog: Catalog, actor: Actor
) -> None:
    """Store the identifying answers, or raise InvalidAnswers with a message per field."""
    _require_draft(request)
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer first."))
    information, properties = clean_answers(manufacturer, answers)
    request.information = information
    request.properties = properties
    _answered(request, QUESTION_DETAILS)
    _touch(request)
    record_event(request, "answer", actor, question=QUESTION_DETAILS)


def tenant_collective(tenant_id: int, collective_id: object) -> Collective | None:
    """The tenant's collective with this id, or None (also for another tenant's id)."""
    try:
        key = (
            collective_id if isinstance(collective_id, uuid.UUID) else uuid.UUID(str(collective_id))
        )
    except ValueError:
        return None
    return db.session.scalar(
        select(Collective).where(Collective.id == key, Collective.tenant_id == tenant_id)
    )


def choose_collective(
    request: OnboardingRequest, collective: Collective | None, actor: Actor
) -> None:
    _require_draft(request)
    if collective is not None and collective.tenant_id != request.tenant_id:
        raise OnboardingError(N_("Choose a group from the list."))
    request.collective = collective
    _answered(request, QUESTION_COLLECTIVE)
    _touch(request)
    record_event(
        request,
        "answer",
        actor,
        question=QUESTION_COLLECTIVE,
        value=str(collective.id) if collective else None,
    )


# ---------------------------------------------------------------- submission and steps


def submit_request(request: OnboardingRequest, catalog: Catalog, actor: Actor) -> None:
    """Re-check every answer, create the consent steps, and make the request Pending.

    Submitting an already submitted request changes nothing (safe to retry).
    """
    if request.status != Status.DRAFT:
        return
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer first."))
    answers = {**request.information, **request.properties}
    request.information, request.properties = clean_answers(manufacturer, answers)
    if request.collective is not None and request.collective.tenant_id != request.tenant_id:
        raise OnboardingError(N_("Choose a group from the list."))
    create_steps(request, manufacturer)
    request.submitted_at = utcnow()
    _set_status(request, Status.PENDING, actor)


def create_steps(request: OnboardingRequest, manufacturer: Manufacturer) -> None:
    for position, spec in enumerate(manufacturer.steps, start=1):
        request.steps.append(
            ConsentStep(
                position=position, kind=spec.kind, status=StepStatus.TODO, attempts=0, evidence={}
            )
        )


def current_step(request: OnboardingRequest) -> ConsentStep | None:
    """The first step not done yet: steps are taken in order."""
    return next((s for s in request.steps if s.status != StepStatus.DONE), None)


def step_available(request: OnboardingRequest, step: ConsentStep) -> bool:
    """Whether the owner can act on `step` now: steps are taken in order, while not final."""
    return request.status in (Status.PENDING, Status.IN_PROGRESS) and current_step(request) is step


def start_step(request: OnboardingRequest, step: ConsentStep, actor: Actor) -> None:
    """The owner went to the provider (redirect) or the provider's app was asked."""
    if not step_available(request, step):
        raise OnboardingError(N_("This step cannot be taken now."))
    now = utcnow()
    step.status = StepStatus.WAITING
    step.attempts += 1
    step.started_at = now
    step.failure_reason = None
    _touch(request)
    record_event(request, "step_started", actor, position=step.position, step=step.kind)


def begin_connecting(request: OnboardingRequest, actor: Actor) -> None:
    """Consent is given; we are connecting to the device (Pending -> InProgress)."""
    if request.status == Status.PENDING:
        _set_status(request, Status.IN_PROGRESS, actor)


def complete_step(
    request: OnboardingRequest, step: ConsentStep, actor: Actor, evidence: dict[str, Any]
) -> None:
    """Record the owner's consent for `step`; finish the request after the last step.

    Completing a step that is already done changes nothing (a double click, a re-post).
    """
    if step.status == StepStatus.DONE:
        return
    if not step_available(request, step):
        raise OnboardingError(N_("This step cannot be taken now."))
    now = utcnow()
    if step.status != StepStatus.WAITING:
        step.attempts += 1
    step.status = StepStatus.DONE
    step.actor = actor.label
    step.evidence = {**evidence, "at": now.isoformat()}
    step.started_at = step.started_at or now
    step.completed_at = now
    step.failure_reason = None
    _touch(request)
    record_event(request, "step_done", actor, position=step.position, step=step.kind)
    if current_step(request) is None:
        finish_request(request, actor)
    elif request.status == Status.IN_PROGRESS:
        _set_status(request, Status.PENDING, actor)


def fail_step_attempt(
    request: OnboardingRequest, step: ConsentStep, actor: Actor, reason: str
) -> None:
    """An attempt at `step` did not work (wrong code, denied, device not on the account,
    provider error). The request waits for the owner again, who may retry."""
    if not step_available(request, step):
        raise OnboardingError(N_("This step cannot be taken now."))
    if step.status != StepStatus.WAITING:
        step.attempts += 1
    step.status = StepStatus.FAILED
    step.failure_reason = reason
    _touch(request)
    record_event(
        request, "step_failed", actor, position=step.position, step=step.kind, reason=reason
    )
    if request.status == Status.IN_PROGRESS:
        _set_status(request, Status.PENDING, actor)


def enter_pairing_code(
    request: OnboardingRequest,
    step: ConsentStep,
    code: str,
    manufacturer: Manufacturer,
    actor: Actor,
    evidence: dict[str, Any],
) -> None:
    """Pair with the code printed on the device; raise IdentifierError when it is refused."""
    if step.status == StepStatus.DONE:
        return
    assert manufacturer.pairing is not None
    cleaned = manufacturer.pairing.clean(code)
    if cleaned == SANDBOX_WRONG_PAIRING_CODE:
        fail_step_attempt(request, step, actor, "pairing_code_mismatch")
        raise IdentifierError(
            N_("This pairing code does not match the device. Check the code and try again.")
        )
    # Only the last digits are kept: enough to tell codes apart, useless to pair again.
    complete_step(request, step, actor, {**evidence, "code_last_digits": cleaned[-2:]})


def finish_request(request: OnboardingRequest, actor: Actor) -> Entity:
    """All consent is given: connect, and create the request's one Entity."""
    begin_connecting(request, actor)
    entity = Entity(
        id=uuid.uuid4(),
        tenant_id=request.tenant_id,
        collective_id=request.collective_id,
        request=request,
        owner_id=request.owner_id,
        type=request.type,
        manufacturer=request.manufacturer or "",
        information=dict(request.information),
        properties=dict(request.properties),
        status=EntityStatus.CONNECTED,
    )
    db.session.add(entity)
    _set_status(request, Status.SUCCEEDED, actor)
    record_event(request, "entity_created", actor, entity_id=str(entity.id))
    return entity


def cancel_request(request: OnboardingRequest, actor: Actor, reason: str | None = None) -> None:
    """Cancel a request that is not final (again: no change); InvalidTransition otherwise."""
    if request.status == Status.CANCELED:
        return
    _set_status(request, Status.CANCELED, actor, reason=None)
    if reason:
        record_event(request, "cancel_reason", actor, reason=reason)


def correct_information(
    request: OnboardingRequest, answers: Mapping[str, object], catalog: Catalog, actor: Actor
) -> None:
    """Fix a wrong identifier on a sent request (the device was not on the account);
    the same rules as the wizard apply, and the timeline keeps the old value."""
    if request.is_final:
        raise OnboardingError(N_("This request is finished; its answers cannot change."))
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer first."))
    information, properties = clean_answers(manufacturer, answers)
    if information == request.information and properties == request.properties:
        return
    record_event(
        request,
        "information_corrected",
        actor,
        before={**request.information, **request.properties},
        after={**information, **properties},
    )
    request.information, request.properties = information, properties
    _touch(request)


def expire_if_due(request: OnboardingRequest, max_age: timedelta) -> bool:
    """Fail a request still not final `max_age` after it was created (reason `expired`)."""
    if request.is_final or request.created_at + max_age > utcnow():
        return False
    _set_status(request, Status.FAILED, SYSTEM, reason=FailureReason.EXPIRED)
    return True


def disconnect_entity(entity: Entity, reason: str, actor: Actor) -> None:
    """Offboard: the consent is revoked (its evidence kept) and the entity disconnected."""
    if entity.status == EntityStatus.DISCONNECTED:
        return
    now = utcnow()
    for step in entity.request.steps:
        if step.status == StepStatus.DONE and step.revoked_at is None:
            step.status = StepStatus.REVOKED
            step.revoked_at = now
            step.revoke_reason = reason
    entity.status = EntityStatus.DISCONNECTED
    entity.disconnected_at = now
    _touch(entity.request)
    record_event(entity.request, "offboarded", actor, entity_id=str(entity.id), reason=reason)


# ---------------------------------------------------------------- API-created requests

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


def _catalog_choice(options: Mapping[str, Any], given: object) -> Any | None:
    """The option named `given`, matched without regard to case."""
    if not isinstance(given, str):
        return None
    wanted = given.strip().casefold()
    return next((value for name, value in options.items() if name.casefold() == wanted), None)


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
    channel: str = "api",
) -> OnboardingRequest:
    """A request sent in one go (the API): checked like the wizard's answers, then Pending.

    `answers` holds the identifying attributes (vin, ean, code, ...). `email` and
    `reference` are identifying attributes when the manufacturer asks for them, and
    otherwise the owner's contact address and the caller's own reference. Raises
    InvalidAnswers with a message per field, named as the caller named it.
    """
    errors: dict[str, IdentifierError] = {}
    names = ", ".join(catalog.types)
    entity_type = _catalog_choice(catalog.types, type_id)
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
        manufacturer = _catalog_choice(entity_type.manufacturers, manufacturer_name)
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
    if collective is not None and collective.tenant_id != tenant.id:
        errors["collectiveId"] = IdentifierError(N_("Choose a group from the list."))
    if errors:
        raise InvalidAnswers(errors)
    assert entity_type is not None and manufacturer is not None
    if device_model and "model" not in asked:
        information["model"] = device_model

    now = utcnow()
    request = OnboardingRequest(
        id=uuid.uuid4(),
        tenant=tenant,
        collective=collective,
        owner=owner,
        created_by=created_by,
        type=entity_type.id,
        manufacturer=manufacturer.name,
        information=information,
        properties=properties,
        email=contact_email,
        reference=partner_reference,
        return_url=cleaned_return_url,
        # Sent complete in one go, so never a Draft: the owner's consent is next.
        status=Status.PENDING,
        channel=channel,
        answered=[],
        submitted_at=now,
        last_activity_at=now,
    )
    db.session.add(request)
    create_steps(request, manufacturer)
    record_event(
        request,
        "created",
        actor,
        channel=channel,
        type=entity_type.id,
        manufacturer=manufacturer.name,
    )
    record_event(request, "status", actor, **{"from": None, "to": Status.PENDING, "reason": None})
    return request
