"""The wizard's questions as a plain list, and where a request should go next."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import g, url_for
from sqlalchemy import exists, select

from app.catalog import current_catalog
from app.extensions import db
from app.models import Collective, OnboardingRequest
from app.onboarding import services
from app.onboarding.states import Status


def _has_details(request: OnboardingRequest) -> bool:
    manufacturer = current_catalog().manufacturer(request.type, request.manufacturer)
    return manufacturer is None or bool(manufacturer.attributes)


def tenant_has_collectives(tenant_id: int) -> bool:
    """Whether the tenant has groups (so the group question applies); asked by every flow
    function a page calls, so looked up once per HTTP request."""
    known: dict[int, bool] = g.setdefault("tenant_has_collectives", {})
    if tenant_id not in known:
        known[tenant_id] = bool(
            db.session.scalar(select(exists().where(Collective.tenant_id == tenant_id)))
        )
    return known[tenant_id]


def _tenant_has_collectives(request: OnboardingRequest) -> bool:
    return tenant_has_collectives(request.tenant_id)


# For the statement that loads a request: whether its tenant has groups, in the same
# round trip (remember the answer with `remember_tenant_has_collectives`).
TENANT_HAS_COLLECTIVES = (
    exists()
    .where(Collective.tenant_id == OnboardingRequest.tenant_id)
    .correlate(OnboardingRequest)
    .label("tenant_has_collectives")
)


def remember_tenant_has_collectives(tenant_id: int, value: object) -> None:
    g.setdefault("tenant_has_collectives", {})[tenant_id] = bool(value)


@dataclass(frozen=True)
class Question:
    name: str
    endpoint: str
    applies: Callable[[OnboardingRequest], bool] = lambda request: True


QUESTIONS: list[Question] = [
    Question(services.QUESTION_TYPE, "wizard.type"),
    Question(services.QUESTION_MANUFACTURER, "wizard.manufacturer"),
    Question(services.QUESTION_DETAILS, "wizard.details", _has_details),
    Question(services.QUESTION_COLLECTIVE, "wizard.collective", _tenant_has_collectives),
]
CHECK = "check"


def applicable(request: OnboardingRequest) -> list[Question]:
    return list(_applicable(request))


def _applicable(request: OnboardingRequest) -> Iterator[Question]:
    # Lazily: whether a later question applies is asked only when the walk reaches it.
    return (q for q in QUESTIONS if q.applies(request))


def next_question(request: OnboardingRequest) -> Question | None:
    """The first question still to answer, or None when the answers can be checked."""
    return next((q for q in _applicable(request) if q.name not in request.answered), None)


def can_visit(request: OnboardingRequest, name: str) -> bool:
    """A Draft's question (or the check page) is open once everything before it is answered."""
    if request.status != Status.DRAFT:
        return False
    for question in _applicable(request):
        if question.name == name:
            return True
        if question.name not in request.answered:
            return False
    return name == CHECK


def previous_url(request: OnboardingRequest, name: str) -> str:
    """Where a page's Back link goes: the question before `name`."""
    before = None
    for question in applicable(request):
        if question.name == name:
            break
        before = question
    if before is None:
        return url_for("main.home")
    return url_for(before.endpoint, request_id=request.id)


def progress(request: OnboardingRequest, name: str) -> tuple[int, int]:
    """(this page's number, number of pages) through the questions and the check page."""
    names = [q.name for q in applicable(request)] + [CHECK]
    return (names.index(name) + 1 if name in names else 1, len(names))


def return_url(request: OnboardingRequest) -> str | None:
    """The partner's returnUrl with the request's id and status, once the request is final."""
    if not request.return_url or not request.is_final:
        return None
    parts = urlsplit(request.return_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [("id", str(request.id)), ("status", request.status)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def resume_url(request: OnboardingRequest) -> str:
    """The page where this request's owner should carry on."""
    if request.status == Status.DRAFT:
        question = next_question(request)
        if question is None:
            return url_for("wizard.check", request_id=request.id)
        return url_for(question.endpoint, request_id=request.id)
    if request.status == Status.SUCCEEDED:
        return return_url(request) or url_for("wizard.done", request_id=request.id)
    return return_url(request) or url_for("wizard.consent", request_id=request.id)
