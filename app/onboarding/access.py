"""Who may see and do what: the one place that compares owners, tenants and roles.

Every view and API endpoint asks this module; nothing else decides access.

- owner: sees the requests and entities they own; answers their drafts, consents,
  cancels, offboards their devices.
- installer: sees the requests they started; answers their drafts, cancels (discards a
  draft), resends the link, fixes the identifier; never consents on the owner's behalf.
- support: sees every request and entity of the tenant; cancels, resends the link, fixes
  the identifier, adds notes; never consents.
- admin: as support, plus the tenant's settings (users, collectives, API keys, webhooks,
  name and logo); the admin area is 404 for everyone else.
- link holder: the one request its consent link opens; consents, declines (cancels).
- API key: every request and entity of its tenant; creates, cancels, offboards, manages
  collectives.

Anything of another tenant is invisible: callers answer 404 for it, never 403. A browser
can be signed in and hold consent links at once; it gets the union of both, except that a
staff session (installer, support, admin) can never consent, link or not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true

from app.extensions import db
from app.models import (
    ApiKey,
    Collective,
    Entity,
    OnboardingRequest,
    Role,
    Tenant,
    User,
    WebhookEndpoint,
)
from app.onboarding.audit import OWNER_LINK, Actor
from app.onboarding.states import Door, Status

STAFF = frozenset({Role.INSTALLER, Role.SUPPORT, Role.ADMIN})
SUPPORT_ROLES = frozenset({Role.SUPPORT, Role.ADMIN})


class Action(StrEnum):
    VIEW = "view"  # read the request and where it stands
    ANSWER = "answer"  # answer a Draft's wizard questions
    CONSENT = "consent"  # take the owner's consent steps
    CANCEL = "cancel"
    RESEND_LINK = "resend_link"
    FIX_IDENTIFIER = "fix_identifier"
    ADD_NOTE = "add_note"
    OFFBOARD = "offboard"  # disconnect the request's entity


# What each role may do to a request it can see; links and API keys are below.
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(
        {Action.VIEW, Action.ANSWER, Action.CONSENT, Action.CANCEL, Action.OFFBOARD}
    ),
    Role.INSTALLER: frozenset(
        {Action.VIEW, Action.ANSWER, Action.CANCEL, Action.RESEND_LINK, Action.FIX_IDENTIFIER}
    ),
    Role.SUPPORT: frozenset(
        {Action.VIEW, Action.CANCEL, Action.RESEND_LINK, Action.FIX_IDENTIFIER, Action.ADD_NOTE}
    ),
    Role.ADMIN: frozenset(
        {Action.VIEW, Action.CANCEL, Action.RESEND_LINK, Action.FIX_IDENTIFIER, Action.ADD_NOTE}
    ),
}
LINK_ACTIONS = frozenset({Action.VIEW, Action.CONSENT, Action.CANCEL})
API_KEY_ACTIONS = frozenset({Action.VIEW, Action.CANCEL, Action.OFFBOARD})


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user, an API key, consent links held, or nobody."""

    user: User | None = None
    api_key_id: int | None = None
    api_key_tenant_id: int | None = None
    links: frozenset[uuid.UUID] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: User | None, links: frozenset[uuid.UUID] = frozenset()) -> Principal:
        return cls(user=user if user is not None and user.is_authenticated else None, links=links)

    @classmethod
    def for_api_key(cls, key_id: int, tenant_id: int | None) -> Principal:
        return cls(api_key_id=key_id, api_key_tenant_id=tenant_id)

    @property
    def role(self) -> Role | None:
        return Role(self.user.role) if self.user is not None else None

    @property
    def tenant_id(self) -> int | None:
        """The one tenant this principal works in (None for a link holder or nobody)."""
        if self.user is not None:
            return self.user.tenant_id
        return self.api_key_tenant_id

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def is_support(self) -> bool:
        """Support staff and admins: the support console is theirs."""
        return self.role in SUPPORT_ROLES

    @property
    def is_installer(self) -> bool:
        return self.role == Role.INSTALLER

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def actor(self) -> Actor:
        if self.user is not None:
            return Actor.user(self.user)
        if self.api_key_id is not None:
            return Actor.api_key(self.api_key_id)
        return OWNER_LINK

    def holds_link(self, request: OnboardingRequest) -> bool:
        return request.id in self.links and request.status != Status.DRAFT


def _user_sees(principal: Principal) -> ColumnElement[bool]:
    user = principal.user
    if user is None:
        return false()
    in_tenant = OnboardingRequest.tenant_id == user.tenant_id
    if principal.is_support:
        return in_tenant
    if principal.is_installer:
        return in_tenant & (OnboardingRequest.created_by_id == user.id)
    return in_tenant & (OnboardingRequest.owner_id == user.id)


def request_filter(principal: Principal, tenant_id: int | None = None) -> ColumnElement[bool]:
    """A WHERE clause: the requests `principal` may see (of `tenant_id` only, if given)."""
    if tenant_id is not None:
        return request_filter(principal) & (OnboardingRequest.tenant_id == tenant_id)
    if principal.api_key_id is not None:
        if principal.api_key_tenant_id is None:
            return true()  # a platform-wide key; its calls name the tenant
        return OnboardingRequest.tenant_id == principal.api_key_tenant_id
    clause = _user_sees(principal)
    if principal.links:
        clause = or_(
            clause,
            OnboardingRequest.id.in_(principal.links) & (OnboardingRequest.status != Status.DRAFT),
        )
    return clause


def entity_filter(principal: Principal, tenant_id: int | None = None) -> ColumnElement[bool]:
    """A WHERE clause: the entities `principal` may see (of `tenant_id` only, if given)."""
    if tenant_id is not None:
        return entity_filter(principal) & (Entity.tenant_id == tenant_id)
    if principal.api_key_id is not None:
        if principal.api_key_tenant_id is None:
            return true()
        return Entity.tenant_id == principal.api_key_tenant_id
    user = principal.user
    if user is None:
        return false()
    in_tenant = Entity.tenant_id == user.tenant_id
    if principal.is_support:
        return in_tenant
    if principal.is_installer:
        started = select(OnboardingRequest.id).where(OnboardingRequest.created_by_id == user.id)
        return in_tenant & Entity.request_id.in_(started)
    return in_tenant & (Entity.owner_id == user.id)


def owned_request_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause: the requests whose device is the signed-in person's own."""
    user = principal.user
    if user is None:
        return false()
    return (OnboardingRequest.tenant_id == user.tenant_id) & (OnboardingRequest.owner_id == user.id)


def owned_entity_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause: the devices of the signed-in person."""
    user = principal.user
    if user is None:
        return false()
    return (Entity.tenant_id == user.tenant_id) & (Entity.owner_id == user.id)


def collective_filter(principal: Principal, tenant_id: int | None = None) -> ColumnElement[bool]:
    """A WHERE clause: the collectives `principal` may see and choose (its tenant's, or
    those of `tenant_id` for a platform-wide key)."""
    own = principal.tenant_id
    if own is None and principal.api_key_id is not None:
        own = tenant_id
    if own is None or (tenant_id is not None and tenant_id != own):
        return false()
    return tenant_collective_clause(own)


def tenant_collective_clause(tenant_id: int) -> ColumnElement[bool]:
    """A WHERE clause: the collectives of tenant `tenant_id`."""
    return Collective.tenant_id == tenant_id


def _tenant_of(thing: Any) -> int:
    return int(thing.id if isinstance(thing, Tenant) else thing.tenant_id)


def same_tenant(one: Any, other: Any) -> bool:
    """Whether two things (a collective and a request or a tenant...) are of one tenant."""
    return _tenant_of(one) == _tenant_of(other)


def tenant_collective(tenant_id: int, collective_id: object) -> Collective | None:
    """The tenant's collective with this id, or None (also for another tenant's id)."""
    try:
        key = (
            collective_id if isinstance(collective_id, uuid.UUID) else uuid.UUID(str(collective_id))
        )
    except ValueError:
        return None
    return db.session.scalar(
        select(Collective).where(Collective.id == key, tenant_collective_clause(tenant_id))
    )


def in_tenant(principal: Principal, tenant_id: int) -> bool:
    """Whether `tenant_id` is the principal's own tenant."""
    return principal.tenant_id is not None and principal.tenant_id == tenant_id


def _user_sees_request(principal: Principal, request: OnboardingRequest) -> bool:
    user = principal.user
    if user is None or request.tenant_id != user.tenant_id:
        return False
    if principal.is_support:
        return True
    if principal.is_installer:
        return request.created_by_id == user.id
    return request.owner_id == user.id


def sees(principal: Principal, request: OnboardingRequest) -> bool:
    """Whether `principal` may see `request` at all (the same rule as request_filter)."""
    if principal.api_key_id is not None:
        return request.tenant_id == principal.api_key_tenant_id
    return _user_sees_request(principal, request) or principal.holds_link(request)


def can(principal: Principal, action: Action, request: OnboardingRequest) -> bool:
    """Whether `principal` may do `action` to `request`; seeing it comes first."""
    if principal.api_key_id is not None:
        return sees(principal, request) and action in API_KEY_ACTIONS
    if action == Action.CONSENT and principal.is_staff:
        return False  # staff hand consent to the owner; they never give it
    role = principal.role
    if role is not None and _user_sees_request(principal, request) and action in ROLE_ACTIONS[role]:
        return True
    return principal.holds_link(request) and action in LINK_ACTIONS


def sees_done(principal: Principal, request: OnboardingRequest) -> bool:
    """The "connected" page, with how to disconnect: for the link holder and the owner
    only (staff follow the request in their own pages)."""
    if principal.holds_link(request):
        return True
    user = principal.user
    return (
        user is not None
        and principal.is_owner
        and request.tenant_id == user.tenant_id
        and request.owner_id == user.id
    )


def can_offboard(principal: Principal, entity: Entity) -> bool:
    """Whether `principal` may disconnect `entity` (its owner, or an API key of the tenant)."""
    if principal.api_key_id is not None:
        return entity.tenant_id == principal.api_key_tenant_id
    user = principal.user
    return (
        user is not None
        and principal.is_owner
        and entity.tenant_id == user.tenant_id
        and entity.owner_id == user.id
    )


def can_reconnect(principal: Principal, entity: Entity) -> bool:
    """Whether `principal` may renew `entity`'s consent: who may disconnect it (its owner,
    or an API key of the tenant, which hands the link to the owner)."""
    return can_offboard(principal, entity)


def sees_entity(principal: Principal, entity: Entity) -> bool:
    """Whether `principal` may see `entity` (the same rule as entity_filter): the wizard
    links to a device already connected only for those who may see it."""
    if principal.api_key_id is not None:
        return entity.tenant_id == principal.api_key_tenant_id
    user = principal.user
    if user is None or entity.tenant_id != user.tenant_id:
        return False
    if principal.is_support:
        return True
    if principal.is_installer:
        return entity.request.created_by_id == user.id
    return entity.owner_id == user.id


def api_key_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause: the API keys of the tenant `principal` manages."""
    user = principal.user
    return tenant_api_key_clause(user.tenant_id) if user is not None else false()


def tenant_api_key_clause(tenant_id: int) -> ColumnElement[bool]:
    """A WHERE clause: the API keys of tenant `tenant_id` (for operators' commands)."""
    return ApiKey.tenant_id == tenant_id


def manages_tenant(principal: Principal) -> bool:
    """The tenant's settings: users, collectives, API keys, webhooks, name and logo (admins
    only; the admin area answers 404 to anyone else, so it is not even known to exist)."""
    return principal.is_admin


def user_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause: the users whose accounts `principal` manages (its tenant's, admins
    only)."""
    user = principal.user
    if user is None or not manages_tenant(principal):
        return false()
    return User.tenant_id == user.tenant_id


def managed_collective_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause: the collectives `principal` names and renames (admins only)."""
    user = principal.user
    if user is None or not manages_tenant(principal):
        return false()
    return tenant_collective_clause(user.tenant_id)


def manages_collectives(principal: Principal) -> bool:
    """Creating collectives: the tenant's staff and its API keys, never an owner."""
    return principal.api_key_id is not None or principal.is_staff


def starts_for_customers(principal: Principal) -> bool:
    """Installers start requests for their customers (the installer's pages are theirs)."""
    return principal.is_installer


def installs_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause: the requests an installer started for customers (their home page)."""
    user = principal.user
    if user is None or not starts_for_customers(principal):
        return false()
    return (
        (OnboardingRequest.tenant_id == user.tenant_id)
        & (OnboardingRequest.created_by_id == user.id)
        & (OnboardingRequest.channel == Door.INSTALLER)
    )


def customer_account(tenant_id: int, email: str | None) -> User | None:
    """The tenant's device owner with this email address, if there is one: a request an
    installer starts for them also shows on their own home page."""
    if not email:
        return None
    return db.session.scalar(
        select(User).where(
            User.tenant_id == tenant_id,
            User.role == Role.OWNER,
            func.lower(User.email) == email.strip().lower(),
        )
    )


def manages_webhooks(principal: Principal) -> bool:
    """Webhook endpoints: the tenant's admins and its API keys."""
    return principal.api_key_id is not None or principal.is_admin


def webhook_filter(principal: Principal, tenant_id: int | None = None) -> ColumnElement[bool]:
    """A WHERE clause: the webhook endpoints `principal` manages (its tenant's, or those of
    `tenant_id` for a platform-wide key); nothing for anyone else."""
    if not manages_webhooks(principal):
        return false()
    own = principal.tenant_id
    if own is None and principal.api_key_id is not None:
        own = tenant_id
    if own is None or (tenant_id is not None and tenant_id != own):
        return false()
    return WebhookEndpoint.tenant_id == own
