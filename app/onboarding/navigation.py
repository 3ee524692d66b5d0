"""Where a request stands for the person carrying it on: a domain value, no URLs.

Each blueprint maps a `Place` to its own page (the wizard its questions, the hosted
consent pages the rest, the partner's return address as is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.models import OnboardingRequest
from app.onboarding.states import Status, StepKind, StepStatus


class Place(StrEnum):
    QUESTION = "question"  # a Draft's next wizard question
    CHECK = "check"  # a Draft with every question answered: check the answers, send
    CONSENT = "consent"  # the consent overview: the steps and where they stand
    DONE = "done"  # succeeded: the device is connected
    PARTNER = "partner"  # final, and the partner asked for its owner back
    STEP = "step"  # one consent step's own page
    MANUFACTURER = "manufacturer"  # straight to the manufacturer's sign-in (a redirect step)


@dataclass(frozen=True)
class Where:
    place: Place
    question: str | None = None  # for QUESTION
    url: str | None = None  # for PARTNER
    position: int | None = None  # for STEP and MANUFACTURER


def next_question(request: OnboardingRequest, questions: Sequence[str]) -> str | None:
    """The first of `questions` (those that apply, in order) not answered yet."""
    return next((q for q in questions if q not in request.answered), None)


def where_next(request: OnboardingRequest, questions: Sequence[str] = ()) -> Where:
    """Where the person carrying `request` on should go now; `questions` are the wizard
    questions that apply to it, in order (drafts.questions_for; only a Draft needs them)."""
    if request.status == Status.DRAFT:
        question = next_question(request, questions)
        return Where(Place.QUESTION, question=question) if question else Where(Place.CHECK)
    back = partner_return_url(request)
    if back:
        return Where(Place.PARTNER, url=back)
    if request.status == Status.SUCCEEDED:
        return Where(Place.DONE)
    return Where(Place.CONSENT)


def declares_on_check(step_kinds: Sequence[str]) -> bool:
    """Whether check answers ends in the terms declaration (GOV.UK's "check answers, then
    declaration"): when the request has one terms step and it comes first, agreeing there
    is that step, and the consent overview and the terms page are not shown."""
    return list(step_kinds).count(StepKind.TERMS) == 1 and step_kinds[0] == StepKind.TERMS


def after_declaration(request: OnboardingRequest) -> Where:
    """Where the owner goes after agreeing on check answers: straight to the manufacturer
    when the next step is signing in there, else to the next step's own page."""
    step = next((s for s in request.steps if s.status != StepStatus.DONE), None)
    if step is None or request.is_final:
        return where_next(request)
    if step.kind == StepKind.REDIRECT:
        return Where(Place.MANUFACTURER, position=step.position)
    return Where(Place.STEP, position=step.position)


def partner_return_url(request: OnboardingRequest) -> str | None:
    """The partner's returnUrl with the request's id and status, once the request is final."""
    if not request.return_url or not request.is_final:
        return None
    parts = urlsplit(request.return_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [("id", str(request.id)), ("status", request.status)]
    return urlunsplit(parts._replace(query=urlencode(query)))
