"""The onboarding request's lifecycle. Both doors (wizard and API) call these functions.

They change the session's objects and flush; the caller commits. Every change touches
the request, so its version column turns a concurrent second change (another tab, a
double click) into a StaleDataError instead of a silent overwrite.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.catalog import Catalog, Manufacturer
from app.extensions import db
from app.identifiers import IdentifierError, N_
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
from app.onboarding.states import Status, StepStatus, check_transition

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


SYSTEM = Actor("system")


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
        key = collective_id if isinstance(collective_id, uuid.UUID) else uuid.UUID(
            str(collective_id)
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
        request, "answer", actor, question=QUESTION_COLLECTIVE,
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
            ConsentStep(position=position, kind=spec.kind, status=StepStatus.TODO, evidence={})
        )


def current_step(request: OnboardingRequest) -> ConsentStep | None:
    """The first step not done yet: steps are taken in order."""
    return next((s for s in request.steps if s.status != StepStatus.DONE), None)


def step_available(request: OnboardingRequest, step: ConsentStep) -> bool:
    return request.status == Status.PENDING and current_step(request) is step


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
    step.status = StepStatus.DONE
    step.attempts += 1
    step.actor = actor.label
    step.evidence = {**evidence, "at": now.isoformat()}
    step.started_at = step.started_at or now
    step.completed_at = now
    step.failure_reason = None
    _touch(request)
    record_event(request, "step_done", actor, position=step.position, step=step.kind)
    if current_step(request) is None:
        finish_request(request, actor)


def fail_step_attempt(
    request: OnboardingRequest, step: ConsentStep, actor: Actor, reason: str
) -> None:
    """An attempt at `step` did not work (wrong code, denied); the owner may try again."""
    if not step_available(request, step):
        raise OnboardingError(N_("This step cannot be taken now."))
    step.status = StepStatus.FAILED
    step.attempts += 1
    step.failure_reason = reason
    _touch(request)
    record_event(request, "step_failed", actor, position=step.position, step=step.kind,
                 reason=reason)


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
    _set_status(request, Status.IN_PROGRESS, actor)
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
