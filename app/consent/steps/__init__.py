"""One handler per consent step kind: its label, its page and what happens on submit.

Adding a kind means a module here, its template under templates/consent/steps/, the
StepKind value and the catalog entries that use it; nothing else.
"""

from __future__ import annotations

from app.catalog import Manufacturer
from app.consent.steps.app_consent import AppConsent
from app.consent.steps.base import OpenStep, StepHandler
from app.consent.steps.pairing_code import PairingCode
from app.consent.steps.redirect import Redirect
from app.consent.steps.terms import Terms
from app.onboarding.states import StepKind

HANDLERS: dict[StepKind, StepHandler] = {
    handler.kind: handler for handler in (Terms(), Redirect(), AppConsent(), PairingCode())
}


def handler_for(kind: str) -> StepHandler:
    return HANDLERS[StepKind(kind)]


def step_label(kind: str, manufacturer: Manufacturer | None) -> str:
    """What the owner is asked to do in this step, in words."""
    return handler_for(kind).label(manufacturer)


__all__ = ["HANDLERS", "OpenStep", "StepHandler", "handler_for", "step_label"]
