"""The funnel's stages: how far a request got, as one number kept on the request.

0 created, 1.. wizard questions answered, 10 sent to the owner, 10 + n with n consent steps
done, 100 connected. Kept in `OnboardingRequest.funnel_stage` by `audit.touch()` (every
change to a request touches it), so the funnel is one GROUP BY over an index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.onboarding.states import Status, StepStatus

if TYPE_CHECKING:
    from app.models import OnboardingRequest

STAGE_CREATED = 0
STAGE_SUBMITTED = 10
STAGE_SUCCEEDED = 100
QUESTION_COUNT = 4  # app.onboarding.drafts.QUESTIONS, and the group chosen on check answers


def stage_of(request: OnboardingRequest) -> int:
    """Where `request` got to (see the module's docstring)."""
    if request.status == Status.SUCCEEDED:
        return STAGE_SUCCEEDED
    if request.status not in (None, Status.DRAFT):
        return STAGE_SUBMITTED + sum(1 for s in request.steps if s.status == StepStatus.DONE)
    return min(len(request.answered or []), QUESTION_COUNT)
