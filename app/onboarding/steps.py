"""Sending a request and the owner's consent steps, taken in order.

A step kind's own page and its provider live in app/consent/; here is what every kind
shares: which step is open, and starting, completing and failing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.catalog import Catalog, Manufacturer
from app.identifiers import N_
from app.models import ConsentStep, OnboardingRequest, utcnow
from app.onboarding.access import same_tenant
from app.onboarding.audit import Actor, record_event, touch
from app.onboarding.drafts import clean_answers, store_answers
from app.onboarding.errors import OnboardingError
from app.onboarding.lifecycle import finish_request, set_status
from app.onboarding.states import Status, StepKind, StepStatus


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
    store_answers(request, manufacturer, *clean_answers(manufacturer, answers))
    if request.collective is not None and not same_tenant(request.collective, request):
        raise OnboardingError(N_("Choose a group from the list."))
    request.steps.extend(new_steps(manufacturer))
    set_status(request, Status.PENDING, actor)


def new_steps(manufacturer: Manufacturer) -> list[ConsentStep]:
    """The consent steps the catalog asks of this manufacturer's owners, none taken yet."""
    return [
        ConsentStep(
            position=position, kind=spec.kind, status=StepStatus.TODO, attempts=0, evidence={}
        )
        for position, spec in enumerate(manufacturer.steps, start=1)
    ]


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
    touch(request)
    record_event(request, "step_started", actor, position=step.position, step=step.kind)


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
    touch(request)
    record_event(request, "step_done", actor, position=step.position, step=step.kind)
    if current_step(request) is None:
        finish_request(request, actor)
    elif request.status == Status.IN_PROGRESS:
        set_status(request, Status.PENDING, actor)


def fail_step_attempt(
    request: OnboardingRequest,
    step: ConsentStep,
    actor: Actor,
    reason: str,
    tried: str | None = None,
) -> None:
    """An attempt at `step` did not work (wrong code, denied, device not on the account,
    provider error). The request waits for the owner again, who may retry.

    `tried` is the device identifier the attempt was for: the page names that one, not a
    correction made since, which nobody has tried yet.
    """
    if not step_available(request, step):
        raise OnboardingError(N_("This step cannot be taken now."))
    if step.status != StepStatus.WAITING:
        step.attempts += 1
    step.status = StepStatus.FAILED
    step.failure_reason = reason
    step.evidence = {"tried": tried} if tried else {}
    touch(request)
    record_event(
        request, "step_failed", actor, position=step.position, step=step.kind, reason=reason
    )
    if request.status == Status.IN_PROGRESS:
        set_status(request, Status.PENDING, actor)


def untried_correction(step: ConsentStep, catalog: Catalog) -> str | None:
    """The device identifier corrected since `step` failed for another one, which nobody
    has tried yet; None when the step did not fail that way or nothing changed since."""
    tried = (step.evidence or {}).get("tried")
    if step.status != StepStatus.FAILED or not tried:
        return None
    request = step.request
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    current = manufacturer.device_id(request.information) if manufacturer else None
    return current if current and current != tried else None


# The steps that concern one device: done for the old identifier, they say nothing about
# the new one. Agreeing to our terms does not depend on the device.
DEVICE_STEP_KINDS = frozenset({StepKind.REDIRECT, StepKind.APP_CONSENT, StepKind.PAIRING_CODE})
RESET_STATUSES = frozenset({StepStatus.DONE, StepStatus.WAITING})


def correct_information(
    request: OnboardingRequest, answers: Mapping[str, object], catalog: Catalog, actor: Actor
) -> list[ConsentStep]:
    """Fix a wrong identifier on a sent request (the device was not on the account);
    the same rules as the wizard apply, and the timeline keeps the old value.

    When the device itself changes, the consent steps taken for the old one are reset:
    returns them, the steps the owner must take again.
    """
    if request.is_final:
        raise OnboardingError(N_("This request is finished; its answers cannot change."))
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer first."))
    information, properties = clean_answers(manufacturer, answers)
    if information == request.information and properties == request.properties:
        return []
    old_device = request.device_id
    record_event(
        request,
        "information_corrected",
        actor,
        before={**request.information, **request.properties},
        after={**information, **properties},
    )
    store_answers(request, manufacturer, information, properties)
    touch(request)
    if request.device_id == old_device:
        return []
    return reset_device_steps(request, actor)


def reset_device_steps(request: OnboardingRequest, actor: Actor) -> list[ConsentStep]:
    """Undo the device's consent steps (done or waiting for the old identifier):
    the owner takes them again. Each reset is on the timeline with the evidence it undid."""
    reset = []
    for step in request.steps:
        # A failed attempt stays as it was: the owner retries it ("Try again") as before.
        if step.kind not in DEVICE_STEP_KINDS or step.status not in RESET_STATUSES:
            continue
        record_event(
            request,
            "step_reset",
            actor,
            position=step.position,
            step=step.kind,
            was=step.status,
            evidence=step.evidence,
        )
        step.status = StepStatus.TODO
        step.actor = None
        step.evidence = {}
        step.failure_reason = None
        step.started_at = None
        step.completed_at = None
        reset.append(step)
    if reset and request.status == Status.IN_PROGRESS:
        set_status(request, Status.PENDING, actor)
    touch(request)
    return reset


def steps_to_redo(request: OnboardingRequest) -> list[ConsentStep]:
    """The steps reset when the device's identifier was corrected, not taken again yet:
    what the owner is told to redo."""
    reset: set[int] = set()
    for event in request.events:
        position = int((event.data or {}).get("position") or 0)
        if event.kind == "step_reset":
            reset.add(position)
        elif event.kind == "step_done":
            reset.discard(position)
    return [s for s in request.steps if s.position in reset and s.status != StepStatus.DONE]
