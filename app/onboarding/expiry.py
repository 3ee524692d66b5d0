"""A request past its time fails as `expired` when it is next opened, by whoever opens it.

Opening is a read, and a read must not fail because another read got there first: two
first views of an overdue request both expire it, and the second one's version check
fails. That one rolls back and shows the request as the first left it.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import OnboardingRequest
from app.onboarding.lifecycle import expire_if_due


def expire_on_open(request: OnboardingRequest) -> None:
    """Fail `request` as expired if it is overdue, and commit that at once."""
    if not expire_if_due(request, current_app.config["REQUEST_EXPIRES_AFTER"]):
        return
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(request)
