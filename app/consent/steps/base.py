"""What every consent step kind's handler gets: the open step and how to show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flask import request
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.catalog import EntityType, Manufacturer, current_catalog
from app.consent import service
from app.consent.urls import resume_url
from app.forms import ErrorList, details_form
from app.htmx import render
from app.i18n import in_sentence
from app.models import ConsentStep, OnboardingRequest
from app.onboarding.access import Principal
from app.onboarding.states import StepKind
from app.onboarding.terms import scope_wording


def scope_of(onboarding: OnboardingRequest) -> tuple[str, str]:
    """What the request's connection reads and whether it sends commands, in the words of
    its terms: every consent page shows these two sentences."""
    catalog = current_catalog()
    entity_type = catalog.entity_type(onboarding.type)
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    assert entity_type is not None and manufacturer is not None
    device = in_sentence(gettext(entity_type.label))
    return scope_wording(onboarding.tenant.name, device, manufacturer)


@dataclass(frozen=True)
class OpenStep:
    """A consent step the owner can act on now, with what its pages show."""

    onboarding: OnboardingRequest
    step: ConsentStep
    manufacturer: Manufacturer
    entity_type: EntityType
    principal: Principal
    handler: StepHandler

    def context(self, **extra: Any) -> dict[str, Any]:
        return {
            "onboarding": self.onboarding,
            "consent_step": self.step,
            "manufacturer": self.manufacturer,
            "entity_type": self.entity_type,
            "approval": service.open_attempt(self.step),
            "identifier": service.device_identifier(self.onboarding, self.manufacturer),
            "step_template": self.handler.template,
            "scope": scope_of(self.onboarding),
            **extra,
        }

    def next_url(self) -> str:
        """Where the owner goes once this step is settled."""
        return resume_url(self.onboarding)

    def correction_form(self) -> Any:
        """The identifying fields, prefilled, to correct a device not found on the account."""
        if not self.manufacturer.attributes:
            return None
        answers = {**self.onboarding.information, **self.onboarding.properties}
        return details_form(self.manufacturer, data=answers)

    def render(self, errors: ErrorList, **extra: Any) -> Response:
        return render(
            "consent/step.html",
            errors=errors,
            status=422 if errors else 200,
            **self.context(**extra),
        )


class StepHandler(Protocol):
    """One consent step kind: its label, its page, and what happens on submit."""

    kind: StepKind
    template: str

    def label(self, manufacturer: Manufacturer | None) -> str: ...

    def handle(self, page: OpenStep) -> Response:
        """Show the step (GET) or act on what was submitted (POST)."""
        ...


def evidence() -> dict[str, Any]:
    """What is kept of the browser that gave consent, beside what the step itself keeps."""
    return {"ip": request.remote_addr, "user_agent": (request.user_agent.string or "")[:500]}
