"""What the owner's home page lists: bounded, and in a fixed number of statements.

Requests under way (latest activity first), the connected devices (newest first) and
the recent requests that did not finish, each at most `limit` (None: all of them, the
"show all" view), and whether there are more. However many requests an owner has, the
page runs the same four statements: the signed-in user, the requests under way with
their steps (and whether the tenant has groups, which a Draft's next question needs),
the unfinished history, and the devices with their groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Entity, OnboardingRequest
from app.onboarding import access, drafts
from app.onboarding.access import Principal
from app.onboarding.navigation import next_question
from app.onboarding.states import FINAL, Status

UNDER_WAY = [s.value for s in Status if s not in FINAL]
DID_NOT_FINISH = [s.value for s in FINAL if s != Status.SUCCEEDED]


def draft_progress(request: OnboardingRequest) -> tuple[int, int]:
    """(the page a Draft resumes at, its number of pages, check answers included)."""
    questions = drafts.questions_for(request)
    upcoming = next_question(request, questions)
    number = questions.index(upcoming) + 1 if upcoming else len(questions) + 1
    return number, len(questions) + 1


@dataclass(frozen=True)
class Home:
    under_way: Sequence[OnboardingRequest]
    entities: Sequence[Entity]
    finished: Sequence[OnboardingRequest]
    more: bool  # some list was cut at its limit: offer "show all"


def _first(query: Select[*tuple[Any, ...]], limit: int | None) -> tuple[list[Any], bool]:
    if limit is None:
        return list(db.session.execute(query).unique().all()), False
    rows = list(db.session.execute(query.limit(limit + 1)).unique().all())
    return rows[:limit], len(rows) > limit


def owner_home(principal: Principal, limit: int | None) -> Home:
    """The signed-in person's own requests and devices, each list at most `limit` long."""
    mine = access.owned_request_filter(principal)
    # (owner_id, status, last_activity_at) is indexed for these two.
    under_way, more_under_way = _first(
        select(OnboardingRequest, drafts.TENANT_HAS_COLLECTIVES)
        .where(mine, OnboardingRequest.status.in_(UNDER_WAY))
        .order_by(OnboardingRequest.last_activity_at.desc())
        .options(joinedload(OnboardingRequest.steps)),
        limit,
    )
    for request, has_collectives in under_way:
        drafts.remember_tenant_has_collectives(request.tenant_id, has_collectives)
    finished, more_finished = _first(
        select(OnboardingRequest)
        .where(
            mine,
            OnboardingRequest.status.in_(DID_NOT_FINISH),
            # A draft the owner threw away is gone from their page.
            OnboardingRequest.failure_reason.is_distinct_from(drafts.DISCARDED),
        )
        .order_by(OnboardingRequest.last_activity_at.desc()),
        limit,
    )
    entities, more_entities = _first(
        select(Entity)
        .where(access.owned_entity_filter(principal))
        .order_by(Entity.created_at.desc())
        .options(joinedload(Entity.collective)),
        limit,
    )
    return Home(
        under_way=[row[0] for row in under_way],
        entities=[row[0] for row in entities],
        finished=[row[0] for row in finished],
        more=more_under_way or more_finished or more_entities,
    )
