"""Typed SQLAlchemy models, one module per aggregate."""

from app.models.onboarding import ConsentStep, Entity, EntityStatus, Event, OnboardingRequest
from app.models.tenant import Collective, CollectiveKind, Tenant
from app.models.types import utcnow
from app.models.user import ApiKey, Role, User

__all__ = [
    "ApiKey",
    "Collective",
    "CollectiveKind",
    "ConsentStep",
    "Entity",
    "EntityStatus",
    "Event",
    "OnboardingRequest",
    "Role",
    "Tenant",
    "User",
    "utcnow",
]
