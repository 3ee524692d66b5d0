"""Typed SQLAlchemy models, one module per aggregate."""

from app.models.api import IdempotencyRecord
from app.models.consent import (
    ConsentAttempt,
    ProviderGrant,
    SandboxApproval,
    SandboxAuthorization,
    SandboxToken,
)
from app.models.links import ConsentLink, ConsentMessage
from app.models.onboarding import ConsentStep, Entity, EntityStatus, Event, OnboardingRequest
from app.models.tenant import AdminChange, Collective, CollectiveKind, Tenant, TenantLogo
from app.models.types import utcnow
from app.models.user import ApiKey, Role, User
from app.models.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AdminChange",
    "ApiKey",
    "Collective",
    "CollectiveKind",
    "ConsentAttempt",
    "ConsentLink",
    "ConsentMessage",
    "ConsentStep",
    "DeliveryStatus",
    "Entity",
    "EntityStatus",
    "Event",
    "IdempotencyRecord",
    "OnboardingRequest",
    "ProviderGrant",
    "Role",
    "SandboxApproval",
    "SandboxAuthorization",
    "SandboxToken",
    "Tenant",
    "TenantLogo",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "utcnow",
]
