"""Where a request stands, as a page of the hosted consent flow (or the wizard, or the
partner's own site)."""

from __future__ import annotations

from flask import url_for

from app.models import OnboardingRequest
from app.onboarding.drafts import questions_for
from app.onboarding.navigation import Place, where_next
from app.onboarding.states import Status


def resume_url(request: OnboardingRequest) -> str:
    """The page where whoever carries `request` on should go now."""
    questions = questions_for(request) if request.status == Status.DRAFT else []
    where = where_next(request, questions)
    if where.place == Place.QUESTION:
        # The wizard names each question's page after the question.
        return url_for(f"wizard.{where.question}", request_id=request.id)
    if where.place == Place.CHECK:
        return url_for("wizard.check", request_id=request.id)
    if where.place == Place.PARTNER and where.url:
        return where.url
    if where.place == Place.DONE:
        return url_for("consent.done", request_id=request.id)
    return url_for("consent.overview", request_id=request.id)
