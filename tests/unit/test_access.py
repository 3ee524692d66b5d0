"""The access policy, on objects in memory: who sees and may do what (app/onboarding/access.py)."""

from __future__ import annotations

import uuid

import pytest

from app.models import Entity, OnboardingRequest, Role, User
from app.onboarding import access
from app.onboarding.access import Action, Principal
from app.onboarding.states import Status

ACME, OTHER = 1, 2


def person(user_id: int, role: Role, tenant_id: int = ACME) -> User:
    return User(id=user_id, tenant_id=tenant_id, role=role, email=f"{user_id}@x", active=True)


OWNER = person(1, Role.OWNER)
NEIGHBOUR = person(2, Role.OWNER)
INSTALLER = person(3, Role.INSTALLER)
SUPPORT = person(4, Role.SUPPORT)
ADMIN = person(5, Role.ADMIN)
FOREIGN_ADMIN = person(6, Role.ADMIN, OTHER)


def request_of(status: Status = Status.PENDING) -> OnboardingRequest:
    return OnboardingRequest(
        id=uuid.uuid4(),
        tenant_id=ACME,
        owner_id=OWNER.id,
        created_by_id=INSTALLER.id,
        status=status,
    )


@pytest.mark.parametrize(
    "user,allowed",
    [
        (OWNER, {Action.VIEW, Action.ANSWER, Action.CONSENT, Action.CANCEL, Action.OFFBOARD}),
        (
            INSTALLER,
            {
                Action.VIEW,
                Action.ANSWER,
                Action.CANCEL,
                Action.RESEND_LINK,
                Action.FIX_IDENTIFIER,
            },
        ),
        (
            SUPPORT,
            {
                Action.VIEW,
                Action.CANCEL,
                Action.RESEND_LINK,
                Action.FIX_IDENTIFIER,
                Action.ADD_NOTE,
            },
        ),
        (
            ADMIN,
            {
                Action.VIEW,
                Action.CANCEL,
                Action.RESEND_LINK,
                Action.FIX_IDENTIFIER,
                Action.ADD_NOTE,
            },
        ),
        (NEIGHBOUR, set()),
        (FOREIGN_ADMIN, set()),
    ],
)
def test_each_role_may_do_what_the_policy_says(user: User, allowed: set[Action]) -> None:
    principal = Principal.for_user(user)
    request = request_of()
    assert {a for a in Action if access.can(principal, a, request)} == allowed
    assert access.sees(principal, request) == bool(allowed)


def test_staff_never_consent_even_holding_the_link() -> None:
    request = request_of()
    for staff in (INSTALLER, SUPPORT, ADMIN):
        principal = Principal.for_user(staff, links=frozenset({request.id}))
        assert not access.can(principal, Action.CONSENT, request)


def test_a_link_opens_its_one_sent_request_and_no_other() -> None:
    request, other, draft = request_of(), request_of(), request_of(Status.DRAFT)
    holder = Principal(links=frozenset({request.id, draft.id}))
    assert access.can(holder, Action.CONSENT, request)
    assert access.can(holder, Action.CANCEL, request)
    assert not access.can(holder, Action.FIX_IDENTIFIER, request)
    assert not access.sees(holder, other)
    assert not access.sees(holder, draft)  # a draft has nothing to consent to yet
    assert holder.actor.label == "owner-link"


def test_an_api_key_sees_its_tenant_only_and_never_consents() -> None:
    key = Principal.for_api_key(7, ACME)
    foreign = Principal.for_api_key(8, OTHER)
    request = request_of()
    assert access.can(key, Action.CANCEL, request)
    assert not access.can(key, Action.CONSENT, request)
    assert not access.sees(foreign, request)


def test_only_the_owner_or_the_tenants_key_offboards() -> None:
    entity = Entity(id=uuid.uuid4(), tenant_id=ACME, owner_id=OWNER.id)
    assert access.can_offboard(Principal.for_user(OWNER), entity)
    assert access.can_offboard(Principal.for_api_key(7, ACME), entity)
    for user in (NEIGHBOUR, SUPPORT, ADMIN, FOREIGN_ADMIN):
        assert not access.can_offboard(Principal.for_user(user), entity)
    assert not access.can_offboard(Principal.for_api_key(8, OTHER), entity)


def test_tenant_settings_are_for_admins() -> None:
    assert access.manages_tenant(Principal.for_user(ADMIN))
    assert not access.manages_tenant(Principal.for_user(SUPPORT))
    assert access.manages_collectives(Principal.for_api_key(7, ACME))
    assert not access.manages_collectives(Principal.for_user(OWNER))


def test_only_installers_start_for_customers_and_have_an_installer_home() -> None:
    assert access.starts_for_customers(Principal.for_user(INSTALLER))
    for user in (OWNER, SUPPORT, ADMIN):
        principal = Principal.for_user(user)
        assert not access.starts_for_customers(principal)
        # Their installer home is empty: the clause matches nothing.
        assert str(access.installs_filter(principal).compile()) == "false"
    assert not access.starts_for_customers(Principal())


# ---------------------------------------------------------------- reconnecting a device


def device_of(owner: User = OWNER, tenant_id: int = ACME) -> Entity:
    return Entity(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        owner_id=owner.id,
        request=request_of(Status.SUCCEEDED),
        status="NeedsReconnect",
    )


@pytest.mark.parametrize(
    "principal,allowed",
    [
        (Principal(user=OWNER), True),
        (Principal(user=NEIGHBOUR), False),
        (Principal(user=INSTALLER), False),  # hands the link over; never consents
        (Principal(user=SUPPORT), False),
        (Principal(user=FOREIGN_ADMIN), False),
        (Principal.for_api_key(9, ACME), True),  # hands the redirectLink to the owner
        (Principal.for_api_key(9, OTHER), False),
        (Principal(), False),
    ],
)
def test_who_may_reconnect_a_device(principal: Principal, allowed: bool) -> None:
    assert access.can_reconnect(principal, device_of()) is allowed


@pytest.mark.parametrize(
    "principal,allowed",
    [
        (Principal(user=OWNER), True),
        (Principal(user=NEIGHBOUR), False),
        (Principal(user=INSTALLER), True),  # started its request
        (Principal(user=SUPPORT), True),
        (Principal(user=FOREIGN_ADMIN), False),
        (Principal.for_api_key(9, ACME), True),
        (Principal(), False),
    ],
)
def test_who_is_shown_a_device_already_connected(principal: Principal, allowed: bool) -> None:
    assert access.sees_entity(principal, device_of()) is allowed
