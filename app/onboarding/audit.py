"""Who did what, when: the request's timeline, and the log of changes to a tenant's
settings. Both append-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.extensions import db
from app.models import AdminChange, Event, OnboardingRequest, User, utcnow
from app.onboarding.funnel import stage_of


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in user, the owner through a consent link, an API key."""

    label: str

    @classmethod
    def user(cls, user: User) -> Actor:
        return cls(f"user:{user.id}")

    @classmethod
    def api_key(cls, key_id: int) -> Actor:
        return cls(f"api-key:{key_id}")

    @classmethod
    def provider(cls, name: str) -> Actor:
        return cls(f"provider:{name}")


SYSTEM = Actor("system")
OWNER_LINK = Actor("owner-link")  # the owner, through a signed consent link
CALLBACK = Actor("callback")  # a manufacturer's callback we did not act on
OPERATOR = Actor("operator")  # someone running a `flask` command on the server


def record_event(request: OnboardingRequest, kind: str, actor: Actor, **data: Any) -> Event:
    """Add one line to the request's timeline (in the caller's transaction)."""
    event = Event(request=request, kind=kind, actor=actor.label, data=data, at=utcnow())
    db.session.add(event)
    return event


def touch(request: OnboardingRequest) -> None:
    """Someone acted on the request: it is not stalled, and its funnel stage is current."""
    request.last_activity_at = utcnow()
    with db.session.no_autoflush:  # loading its steps must not write anything early
        request.funnel_stage = stage_of(request)


def record_admin_change(tenant_id: int, kind: str, actor: Actor, **data: Any) -> AdminChange:
    """Add one line to the tenant's log of settings changes (in the caller's transaction)."""
    change = AdminChange(tenant_id=tenant_id, kind=kind, actor=actor.label, data=data, at=utcnow())
    db.session.add(change)
    return change
