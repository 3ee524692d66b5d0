"""The wizard's questions as pages: which are open, the Back link, and the progress."""

from __future__ import annotations

from flask import url_for

from app.models import OnboardingRequest
from app.onboarding.drafts import QUESTION_COLLECTIVE, offers_collective, questions_for
from app.onboarding.states import Status

CHECK = "check"


def endpoint(question: str) -> str:
    """Each question's page is the wizard view named after it."""
    return f"wizard.{question}"


def can_visit(request: OnboardingRequest, name: str) -> bool:
    """A Draft's question (or the check page) is open once everything before it is answered;
    the group, offered on the check page, once the check page is."""
    if request.status != Status.DRAFT:
        return False
    if name == QUESTION_COLLECTIVE:
        return offers_collective(request) and can_visit(request, CHECK)
    for question in questions_for(request):
        if question == name:
            return True
        if question not in request.answered:
            return False
    return name == CHECK


def previous_url(request: OnboardingRequest, name: str) -> str:
    """Where a page's Back link goes: the question before `name` (the check page for the
    group, which is opened from there)."""
    if name == QUESTION_COLLECTIVE:
        return url_for(endpoint(CHECK), request_id=request.id)
    before = None
    for question in questions_for(request):
        if question == name:
            break
        before = question
    if before is None:
        return url_for("main.home")
    return url_for(endpoint(before), request_id=request.id)


def progress(request: OnboardingRequest, name: str) -> tuple[int, int] | tuple[None, None]:
    """(this page's number, number of pages) through the questions and the check page;
    none for the group, a side page of the check page."""
    if name == QUESTION_COLLECTIVE:
        return None, None
    names = [*questions_for(request), CHECK]
    return (names.index(name) + 1 if name in names else 1, len(names))
