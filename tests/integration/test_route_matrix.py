"""Every route, called by everyone who must not reach Acme's objects, answers 404 (or the
sign-in page, or 401 for the API) — generated from app.url_map.

A route the POLICY below does not know fails the test until its policy is written down.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from app.models import (
    ApiKey,
    Entity,
    OnboardingRequest,
    Role,
    Tenant,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.onboarding import steps
from app.onboarding.states import Status
from tests.integration.helpers import (
    World,
    accept_terms,
    add_user,
    in_db,
    onboard_xenn,
    signed_in_client,
    start,
    submit,
    walk_to_check,
)

# What each endpoint holds, and so who must not reach it:
# - "request": one of a tenant's onboarding requests (the URL has its id)
# - "entity": one of a tenant's devices
# - "api-object": an API call on one object of a tenant (request, entity)
# - "api-list": an API list or create: scoped to the caller's own tenant
# - "admin": the tenant's settings (admins of the tenant only; everyone else signed in 404)
# - "support": a support console page of the caller's own tenant (support and admin only;
#   everyone else 404)
# - "signed-in": a page for anyone signed in, about their own things only
# - "public": nothing of a tenant's (sign-in, static files, sandbox, callbacks, links)
POLICY: dict[str, str] = {
    "wizard.resume": "request",
    "wizard.type": "request",
    "wizard.manufacturer": "request",
    "wizard.details": "request",
    "wizard.collective": "request",
    "wizard.vin_maker": "request",
    "wizard.brand_not_listed": "request",
    "wizard.brand_noted": "request",
    "wizard.check": "request",
    "wizard.discard": "request",
    "wizard.start": "signed-in",
    "consent.resume": "request",
    "consent.overview": "request",
    "consent.step": "request",
    "consent.step_status": "request",
    "consent.correct_identifier": "request",
    "consent.cancel": "request",
    "consent.decline": "request",
    "consent.done": "request",
    "consent.open_link": "public",
    "consent.oauth_callback": "public",
    "consent.app_callback": "public",
    "support.requests": "support",
    "support.funnel": "support",
    "support.request_page": "request",
    "support.send_link": "request",
    "support.show_link": "request",
    "support.fix_identifier": "request",
    "support.cancel": "request",
    "support.add_note": "request",
    "main.home": "signed-in",
    "main.favicon": "public",
    "installer.home": "signed-in",
    "installer.installs_list": "signed-in",
    "installer.start": "signed-in",
    "installer.device": "request",
    "installer.details": "request",
    "installer.check": "request",
    "installer.request_page": "request",
    "installer.request_status": "request",
    "installer.send": "request",
    "installer.fix_identifier": "request",
    "installer.discard": "request",
    "main.disconnect": "entity",
    "main.reconnect": "entity",
    "admin.users": "admin",
    "admin.user": "admin",
    "admin.deactivate_user": "admin",
    "admin.reactivate_user": "admin",
    "admin.invite_again": "admin",
    "admin.groups": "admin",
    "admin.group": "admin",
    "admin.api_keys": "admin",
    "admin.revoke_api_key": "admin",
    "admin.webhook_endpoints": "admin",
    "admin.webhook_endpoint": "admin",
    "admin.send_test_event": "admin",
    "admin.send_delivery_again": "admin",
    "admin.settings": "admin",
    "admin.remove_tenant_logo": "admin",
    "admin.history": "admin",
    "auth.set_password": "public",
    "branding.logo": "public",
    "auth.login": "public",
    "auth.logout": "public",
    "i18n.switch": "public",
    "static": "public",
    "api.create_onboarding_request": "api-list",
    "api.list_onboarding_requests": "api-list",
    "api.get_onboarding_request": "api-object",
    "api.cancel_onboarding_request": "api-object",
    "api.entity_types": "api-list",
    "api.list_entities": "api-list",
    "api.get_entity": "api-object",
    "api.offboard_entity": "api-list",
    "api.reconnect_entity": "api-object",
    "api.create_collective": "api-list",
    "api.list_collectives": "api-list",
    "api.create_webhook": "api-list",
    "api.list_webhooks": "api-list",
    "api.get_webhook": "api-object",
    "api.update_webhook": "api-object",
    "api.delete_webhook": "api-object",
    "api.list_webhook_deliveries": "api-object",
    "api.send_webhook_test": "api-object",
    "api.retry_webhook_delivery": "api-object",
    "api.docs": "public",
    "api.openapi": "public",
}
PUBLIC_PREFIXES = ("sandbox.", "openapi_")


@dataclass(frozen=True)
class Objects:
    pending: uuid.UUID  # Alice's sent request
    draft: uuid.UUID  # Alice's draft
    entity: uuid.UUID  # Alice's connected device
    api_key: int  # Acme's API key
    webhook: uuid.UUID  # Acme's webhook endpoint
    delivery: str  # a delivery to it
    user: int  # Acme's owner Alice
    collective: uuid.UUID  # Acme's household


OUTSIDERS = [
    # (who, email) — each of another tenant, and another owner of the same tenant
    ("foreign owner", "carol@other.example"),
    ("foreign installer", "ivan@other.example"),
    ("foreign support", "sue@other.example"),
    ("foreign admin", "oscar@other.example"),
    ("same-tenant owner", "bob@acme.example"),
]


@pytest.fixture
def objects(app: Flask, world: World) -> Objects:
    with in_db(app) as session:
        other = session.get(Tenant, world.other_id)
        add_user(session, other, "ivan@other.example", Role.INSTALLER)
        add_user(session, other, "sue@other.example", Role.SUPPORT)
        add_user(session, other, "oscar@other.example", Role.ADMIN)
        key, _secret = ApiKey.issue(session.get(Tenant, world.acme_id), "acme")
        session.add(key)
        hook = WebhookEndpoint(
            tenant_id=world.acme_id,
            url="https://hooks.acme.example/in",
            event_types=["onboarding.created"],
            secret=b"-",
        )
        session.add(hook)
        session.flush()
        delivery = WebhookDelivery(
            id="msg_matrix",
            endpoint_id=hook.id,
            event_type="webhook.test",
            payload={},
            status="delivered",
            attempts=1,
        )
        session.add(delivery)
        session.commit()
        key_id, hook_id = key.id, hook.id
    alice = signed_in_client(app, world.alice)
    done = onboard_xenn(alice, str(world.household_id))
    pending = walk_to_check(
        alice, "RetrofitMeter", "Xenn", {"reference": "P1000000001"}, str(world.household_id)
    )
    submit(alice, pending)
    accept_terms(alice, pending)
    draft = start(alice, "EV")  # started last: starting again reuses a blank draft
    with in_db(app) as session:
        request = session.get(OnboardingRequest, pending)
        assert request is not None and request.status == Status.PENDING
        entity = session.query(Entity).filter_by(request_id=done).one()
        alice_id = session.query(User.id).filter_by(email=world.alice).scalar()
        return Objects(
            pending,
            draft,
            entity.id,
            key_id,
            hook_id,
            "msg_matrix",
            alice_id,
            world.household_id,
        )


def _values(rule: Rule, objects: Objects, request_id: uuid.UUID) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        values[name] = {
            "request_id": request_id,
            "entity_id": objects.entity,
            "position": 2,
            "key_id": objects.api_key,
            "endpoint_id": objects.webhook,
            "delivery_id": objects.delivery,
            "provider": "audi",
            "approval_id": uuid.uuid4(),
            "token": "x",
            "filename": "css/app.css",
            "user_id": objects.user,
            "collective_id": objects.collective,
            "tenant_id": 1,
            "digest": "0" * 16,
        }[name]
    return values


def _rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if not r.endpoint.startswith(PUBLIC_PREFIXES)]


def test_every_route_has_a_written_policy(app: Flask) -> None:
    unknown = sorted({r.endpoint for r in _rules(app)} - set(POLICY))
    assert not unknown, f"write down who may reach these routes in POLICY: {unknown}"


def _calls(app: Flask, objects: Objects, kind: str) -> list[tuple[str, str]]:
    calls = []
    for rule in _rules(app):
        if POLICY.get(rule.endpoint) != kind:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            ids = [objects.pending, objects.draft] if "request_id" in rule.arguments else [None]
            for request_id in ids:
                with app.test_request_context():
                    path = app.url_map.bind("localhost").build(
                        rule.endpoint, _values(rule, objects, request_id), method=method
                    )
                calls.append((method, path))
    return calls


@pytest.mark.parametrize("who,email", OUTSIDERS, ids=[o[0] for o in OUTSIDERS])
def test_outsiders_get_404_for_every_route_with_acmes_objects(
    app: Flask, objects: Objects, who: str, email: str
) -> None:
    client = signed_in_client(app, email)
    calls = _calls(app, objects, "request") + _calls(app, objects, "entity")
    calls += _calls(app, objects, "api-object")
    assert len(calls) > 20
    for method, path in calls:
        response = client.open(path, method=method, headers={"X-CSRFToken": "-"})
        assert response.status_code == 404, (who, method, path, response.status_code)
    # Nothing changed: Alice's requests and device are as they were.
    with in_db(app) as session:
        assert session.get(OnboardingRequest, objects.pending).status == Status.PENDING
        assert session.get(OnboardingRequest, objects.draft).status == Status.DRAFT
        assert session.get(Entity, objects.entity).status == "Connected"


def test_anonymous_is_sent_to_sign_in_or_told_401(app: Flask, objects: Objects) -> None:
    client = app.test_client()
    for kind in ("request", "entity", "signed-in", "admin", "support"):
        for method, path in _calls(app, objects, kind):
            response = client.open(path, method=method)
            assert response.status_code in (302, 401), (method, path, response.status_code)
            if response.status_code == 302:
                assert re.match(r"^/auth/login", response.location or ""), (path, response.location)
    for kind in ("api-object", "api-list"):
        for method, path in _calls(app, objects, kind):
            assert client.open(path, method=method).status_code == 401, (method, path)


def test_another_tenants_api_key_gets_404_for_acmes_objects(
    app: Flask, objects: Objects, world: World
) -> None:
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, world.other_id), "other")
        session.add(key)
        session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    for method, path in _calls(app, objects, "api-object"):
        response = client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 404, (method, path, response.status_code)


def test_admin_pages_are_404_for_everyone_but_the_tenants_admins(
    app: Flask, objects: Objects, world: World
) -> None:
    """Owners, installers and support staff of any tenant never find the admin area; another
    tenant's admin finds their own, never Acme's objects in it."""
    with in_db(app) as session:
        acme = session.get(Tenant, world.acme_id)
        add_user(session, acme, "ina@acme.example", Role.INSTALLER)
        add_user(session, acme, "sam@acme.example", Role.SUPPORT)
        session.commit()
    calls = _calls(app, objects, "admin")
    assert len(calls) >= 20
    everyone = ("bob@acme.example", "ina@acme.example", "sam@acme.example")
    for email in (*everyone, "ivan@other.example", "sue@other.example"):
        client = signed_in_client(app, email)
        for method, path in calls:
            for headers in ({"X-CSRFToken": "-"}, {"X-CSRFToken": "-", "HX-Request": "true"}):
                response = client.open(path, method=method, headers=headers)
                assert response.status_code == 404, (email, method, path, response.status_code)
    oscar = signed_in_client(app, "oscar@other.example")
    own_pages = {"/admin", "/admin/users", "/admin/groups", "/admin/api-keys", "/admin/webhooks"}
    own_pages |= {"/admin/settings", "/admin/settings/logo/remove", "/admin/history"}
    acmes = [(method, path) for method, path in calls if path.rstrip("/") not in own_pages]
    assert len(acmes) >= 10
    for method, path in acmes:
        response = oscar.open(path, method=method, headers={"X-CSRFToken": "-"})
        assert response.status_code == 404, (method, path, response.status_code)
    with in_db(app) as session:
        assert session.get(ApiKey, objects.api_key).revoked_at is None
        assert session.get(User, objects.user).active


def test_staff_never_take_a_consent_step(app: Flask, objects: Objects, world: World) -> None:
    """Support staff and admins of the request's own tenant see it, but its consent steps
    refuse them with a plain explanation, and the step stays open."""
    with in_db(app) as session:
        acme = session.get(Tenant, world.acme_id)
        add_user(session, acme, "sam@acme.example", Role.SUPPORT)
        add_user(session, acme, "ada@acme.example", Role.ADMIN)
        session.commit()
    for email in ("sam@acme.example", "ada@acme.example"):
        client = signed_in_client(app, email)
        page = client.get(f"/onboarding/{objects.pending}/steps/2")
        assert page.status_code == 403
        assert "This step is for the device's owner" in html.unescape(page.text)
        posted = client.post(f"/onboarding/{objects.pending}/steps/2", data={"code": "482913"})
        assert posted.status_code == 403
    with in_db(app) as session:
        request = session.get(OnboardingRequest, objects.pending)
        assert request.status == Status.PENDING
        assert steps.current_step(request).position == 2


def test_the_support_console_is_404_for_owners_and_installers(
    app: Flask, objects: Objects, world: World
) -> None:
    """Owners and installers, of any tenant, never find the console; its request pages are
    404 for them even for their own requests."""
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "ina@acme.example", Role.INSTALLER)
        session.commit()
    support_pages = _calls(app, objects, "support")
    request_pages = [
        (method, path) for method, path in _calls(app, objects, "request") if "/support/" in path
    ]
    assert support_pages and request_pages
    for email in (world.alice, "ina@acme.example", "ivan@other.example", world.carol):
        client = signed_in_client(app, email)
        for method, path in support_pages + request_pages:
            response = client.open(path, method=method, headers={"X-CSRFToken": "-"})
            assert response.status_code == 404, (email, method, path, response.status_code)
