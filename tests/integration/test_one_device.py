"""One device, connected once; and reconnecting a device whose grant the manufacturer
stopped honouring (NeedsReconnect), from the owner's home page and through the API."""

from __future__ import annotations

import json
import re
import threading
import uuid
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.catalog import current_catalog
from app.extensions import db
from app.jobs.tasks import check_entity_grants
from app.models import Entity, Event, OnboardingRequest, Role, Tenant, WebhookDelivery
from app.onboarding import steps
from app.onboarding.audit import OWNER_LINK, SYSTEM
from app.onboarding.intake import create_request
from app.webhooks import create_endpoint
from tests.integration.helpers import (
    AUDI_VIN,
    HX,
    XENN_REFERENCE,
    add_user,
    in_db,
    onboard_xenn,
    path_of,
    signed_in_client,
    start,
    submit,
    url,
    walk_to_check,
)
from tests.integration.test_api import Partner, issue_key
from tests.integration.test_consent import hidden_inputs
from tests.integration.test_webhooks import Receiver, receiver  # noqa: F401  (a fixture)

API = "/api/v1"


@pytest.fixture
def alice(app: Flask, world) -> FlaskClient:
    return signed_in_client(app, world.alice)


@pytest.fixture
def support_client(app: Flask, world) -> FlaskClient:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "sam@acme.example", Role.SUPPORT)
        session.commit()
    return signed_in_client(app, "sam@acme.example")


@pytest.fixture
def acme(app: Flask, client: FlaskClient, world) -> Partner:
    secret, key_id = issue_key(app, world.acme_id)
    return Partner(client, secret, world.acme_id, key_id)


def live_entities(app: Flask, tenant_id: int) -> list[Entity]:
    with in_db(app) as session:
        found = list(
            session.scalars(
                select(Entity).where(
                    Entity.tenant_id == tenant_id,
                    Entity.status.in_(["Connected", "NeedsReconnect"]),
                )
            )
        )
        session.expunge_all()
        return found


def take_every_step(app: Flask, request_id: uuid.UUID | str) -> None:
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(str(request_id)))
        for step in list(onboarding.steps):
            steps.complete_step(onboarding, step, OWNER_LINK, {"kept": str(request_id)})
        session.commit()


# ---------------------------------------------------------------- the constraint


def test_the_database_refuses_a_second_live_entity_for_one_device(app: Flask, world) -> None:
    ids = []
    for _ in range(4):
        with in_db(app) as session:
            tenant = session.get(Tenant, world.acme_id)
            request = create_request(
                tenant, "EV", "Audi", {"vin": AUDI_VIN}, current_catalog(), SYSTEM
            )
            session.commit()
            ids.append(request.id)

    def entity(request_id: uuid.UUID, status: str, tenant_id: int = world.acme_id) -> Entity:
        return Entity(
            tenant_id=tenant_id,
            request_id=request_id,
            type="EV",
            manufacturer="Audi",
            device_id=AUDI_VIN,
            status=status,
        )

    with in_db(app) as session:
        session.add(entity(ids[0], "Connected"))
        session.commit()
        session.add(entity(ids[1], "NeedsReconnect"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # Disconnected ones do not count, nor another tenant's.
        session.add(entity(ids[2], "Disconnected"))
        session.add(entity(ids[3], "Connected", world.other_id))
        session.commit()


# ---------------------------------------------------------------- the wizard's identifier step


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_the_identifier_step_says_the_device_is_connected(
    app: Flask, alice: FlaskClient, world, headers
) -> None:
    first = onboard_xenn(alice, str(world.household_id))
    [entity] = live_entities(app, world.acme_id)
    again = start(alice, "RetrofitMeter")
    alice.post(url(again, "manufacturer"), data={"manufacturer": "Xenn"})

    page = alice.post(url(again, "details"), data={"reference": XENN_REFERENCE}, headers=headers)

    assert page.status_code == 200
    assert f"This Xenn ({XENN_REFERENCE}) is connected since" in page.text
    assert f'href="/#device-{entity.id}"' in page.text
    assert f'value="{XENN_REFERENCE}"' in page.text  # what was typed stays
    with in_db(app) as session:
        assert session.get(OnboardingRequest, again).information == {}  # nothing kept
    # Connecting it again on purpose goes on; success renews the same entity.
    renewed = alice.post(
        url(again, "details"), data={"reference": XENN_REFERENCE, "renew": "1"}, headers=headers
    )
    assert renewed.status_code == 302
    assert first != again


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_the_identifier_step_points_to_the_request_under_way(
    app: Flask, alice: FlaskClient, world, headers
) -> None:
    under_way = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, str(world.household_id))
    submit(alice, under_way)
    again = start(alice, "EV")
    alice.post(url(again, "manufacturer"), data={"manufacturer": "Audi"})

    page = alice.post(url(again, "details"), data={"vin": AUDI_VIN}, headers=headers)

    assert page.status_code == 200
    assert "This Audi (WAUZZZ…000) is already in a request that is under way" in page.text
    assert f'href="/onboarding/{under_way}/consent"' in page.text
    assert 'name="renew"' not in page.text  # no way to start a second one
    renew = alice.post(url(again, "details"), data={"vin": AUDI_VIN, "renew": "1"})
    assert renew.status_code == 200


def test_a_manufacturers_own_number_names_a_device_with_its_manufacturer(
    app: Flask, alice: FlaskClient, world, support_client: FlaskClient
) -> None:
    """An SMA plant 1234567 and a SolarEdge site 1234567 are two installations; a VIN
    is one car whoever is named as its maker."""
    sma = walk_to_check(
        alice,
        "PV",
        "SMA",
        {"plantId": "1234567", "email": "jo@example.com"},
        str(world.household_id),
    )
    submit(alice, sma)
    again = start(alice, "PV")
    alice.post(url(again, "manufacturer"), data={"manufacturer": "SolarEdge"})

    page = alice.post(url(again, "details"), data={"siteId": "1234567"})

    assert path_of(page).endswith("/check"), page.text[:300]
    with in_db(app) as session:
        keys = {r.manufacturer: r.device_id for r in session.scalars(select(OnboardingRequest))}
    assert keys == {"SMA": "SMA:1234567", "SolarEdge": "SolarEdge:1234567"}
    # Support finds both by the number a caller reads out.
    found = support_client.get("/support/", query_string={"view": "all", "q": "1234567"})
    assert str(sma) in found.text and str(again) in found.text


# ---------------------------------------------------------------- every door renews the entity


def test_a_second_api_request_for_a_connected_device_renews_its_entity(
    app: Flask, acme: Partner, world
) -> None:
    first = acme.onboard(vin=AUDI_VIN)
    take_every_step(app, first["id"])
    second = acme.onboard(vin=AUDI_VIN)
    take_every_step(app, second["id"])

    [entity] = live_entities(app, world.acme_id)
    shown = acme.get(f"/onboarding/entities/{second['id']}").json
    assert shown["status"] == "Succeeded"
    assert shown["data"]["entity"]["id"] == str(entity.id)
    assert str(entity.request_id) == second["id"]
    with in_db(app) as session:
        old = session.get(OnboardingRequest, uuid.UUID(first["id"]))
        # The older consent's evidence is kept on its own request.
        assert all(s.evidence.get("kept") == first["id"] for s in old.steps)
        kinds = [e.kind for e in old.events]
        assert "consent_renewed" in kinds


@pytest.fixture
def ian(app: Flask, world) -> FlaskClient:
    """An installer of acme, signed in."""
    from tests.integration.test_installer import INSTALLER

    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), INSTALLER, role=Role.INSTALLER)
        session.commit()
    return signed_in_client(app, INSTALLER)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_an_installers_second_request_renews_the_same_entity(
    app: Flask, world, ian: FlaskClient, headers
) -> None:
    from tests.integration.test_installer import CUSTOMER, install, send
    from tests.integration.test_installer import start as start_install

    first = install(ian, key="key-1")
    take_every_step(app, first)
    second = start_install(ian, key="key-2")
    details = f"/installer/{second}/details"
    typed = {**CUSTOMER, "collective": "none", "vin": AUDI_VIN}

    # The installer is told the car is connected, and what installing it again does.
    page = ian.post(details, data=typed, headers=headers)
    assert page.status_code == 200
    assert "This Audi (WAUZZZ…000) is connected since" in page.text
    assert f'value="{AUDI_VIN}"' in page.text and 'name="renew"' in page.text
    with in_db(app) as session:
        assert session.get(OnboardingRequest, second).information == {}  # nothing kept
    assert path_of(ian.post(details, data={**typed, "renew": "1"})) == f"/installer/{second}/check"
    send(ian, second)
    take_every_step(app, second)

    [entity] = live_entities(app, world.acme_id)
    assert entity.request_id == second


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_an_installer_is_pointed_to_the_installation_under_way(ian: FlaskClient, headers) -> None:
    from tests.integration.test_installer import CUSTOMER, install
    from tests.integration.test_installer import start as start_install

    under_way = install(ian, key="key-1")
    again = start_install(ian, key="key-2")
    typed = {**CUSTOMER, "collective": "none", "vin": AUDI_VIN}

    for data in (typed, {**typed, "renew": "1"}):  # no way to start a second one
        page = ian.post(f"/installer/{again}/details", data=data, headers=headers)
        assert page.status_code == 200
        assert "This Audi (WAUZZZ…000) is already in a request that is under way" in page.text
        assert f'href="/installer/{under_way}"' in page.text
        assert 'name="renew"' not in page.text


def test_fifty_completions_at_once_leave_one_entity(app: Flask, world) -> None:
    ids = []
    with app.test_request_context(), in_db(app) as session:
        tenant = session.get(Tenant, world.acme_id)
        for _ in range(50):
            request = create_request(
                tenant,
                "RetrofitMeter",
                "Xenn",
                {},
                current_catalog(),
                SYSTEM,
                reference=XENN_REFERENCE,
            )
            session.flush()
            steps.complete_step(request, request.steps[0], SYSTEM, {"terms_version": "x"})
            ids.append(request.id)
        session.commit()
    go = threading.Barrier(len(ids))
    # As many at once as the connection pool holds, as in a web server's workers.
    pool = threading.Semaphore(10)
    failures: list[BaseException] = []

    def complete(request_id: uuid.UUID) -> None:
        go.wait()
        with pool, app.app_context():
            for _attempt in range(100):  # SQLite writes one at a time: wait for its turn
                try:
                    request = db.session.get(OnboardingRequest, request_id)
                    steps.complete_step(request, request.steps[-1], SYSTEM, {})
                    db.session.commit()
                    return
                except (OperationalError, StaleDataError):
                    db.session.rollback()
                except BaseException as failure:  # reported below
                    db.session.rollback()
                    failures.append(failure)
                    return
                finally:
                    db.session.remove()
            failures.append(RuntimeError(f"{request_id} never got its turn"))

    threads = [threading.Thread(target=complete, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, failures[:3]
    assert len(live_entities(app, world.acme_id)) == 1
    with in_db(app) as session:
        statuses = session.scalars(
            select(OnboardingRequest.status).where(OnboardingRequest.id.in_(ids))
        ).all()
        assert set(statuses) == {"Succeeded"}


# ---------------------------------------------------------------- reconnecting


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in_at_audi(client: FlaskClient, step_path: str, account: str) -> str:
    """From the Audi step's page: go to the sandbox, sign in as `account`, come back."""
    page = client.get(step_path)
    assert page.status_code == 200, page.text[:300]
    authorize = client.post(step_path)
    assert authorize.status_code == 302, authorize.text[:300]
    form_page = client.get(_path(authorize.headers["Location"]))
    fields = hidden_inputs(form_page)
    fields.pop("csrf_token", None)
    back = client.post(
        urlsplit(authorize.headers["Location"]).path,
        data={**fields, "account": account, "decision": "allow"},
    )
    assert back.status_code == 302, back.text[:300]
    return path_of(client.get(_path(back.headers["Location"])))


def connected_audi(app: Flask, alice: FlaskClient, world, account: str) -> Entity:
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, str(world.household_id))
    submit(alice, request_id)
    from tests.integration.helpers import accept_terms

    accept_terms(alice, request_id)
    assert sign_in_at_audi(alice, url(request_id, "steps/2"), account) == url(request_id, "done")
    [entity] = live_entities(app, world.acme_id)
    return entity


def test_a_revoked_grant_is_found_and_the_owner_reconnects_the_same_entity(
    app: Flask,
    alice: FlaskClient,
    world,
    receiver: Receiver,  # noqa: F811  (the fixture imported above)
) -> None:
    entity = connected_audi(app, alice, world, "revoked@sandbox.example")
    with in_db(app) as session:
        create_endpoint(world.acme_id, receiver.url, ["entity.needs_reconnect"], "", SYSTEM)
        session.commit()

    with app.test_request_context(), in_db(app):
        assert check_entity_grants() == 1
    with in_db(app) as session:
        assert session.get(Entity, entity.id).status == "NeedsReconnect"
        [event] = session.scalars(select(Event).where(Event.kind == "needs_reconnect")).all()
        assert event.data["entity_id"] == str(entity.id)
        # Through the outbox: the event became the endpoint's delivery.
        [delivery] = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_type == "entity.needs_reconnect")
        ).all()
        assert delivery.event_id == event.id
    [(_headers, body, _status)] = receiver.wait_for(1)
    sent = json.loads(body)
    assert sent["type"] == "entity.needs_reconnect"
    assert (sent["data"]["id"], sent["data"]["status"]) == (str(entity.id), "NeedsReconnect")

    home = alice.get("/")
    assert "Needs reconnecting" in home.text
    answer = alice.post(f"/devices/{entity.id}/reconnect")
    step_path = path_of(answer)
    assert re.fullmatch(r"/onboarding/[0-9a-f-]{36}/steps/1", step_path), step_path
    done = sign_in_at_audi(alice, step_path, "owner@sandbox.example")
    assert done.endswith("/done")

    [renewed] = live_entities(app, world.acme_id)
    assert (renewed.id, renewed.status) == (entity.id, "Connected")
    assert renewed.request_id != entity.request_id
    with in_db(app) as session:
        old = session.get(OnboardingRequest, entity.request_id)
        assert [s.status for s in old.steps] == ["done", "done"]  # evidence kept
        assert old.steps[1].evidence["provider"]
    assert "Needs reconnecting" not in alice.get("/").text


def test_a_grant_expired_from_the_sandbox_page_needs_reconnecting(
    app: Flask, alice: FlaskClient, world
) -> None:
    entity = connected_audi(app, alice, world, "owner@sandbox.example")
    with app.test_request_context(), in_db(app):
        assert check_entity_grants() == 0  # renewed: still fine
    page = alice.get("/sandbox/audi/grants")
    assert page.status_code == 200
    grant = re.search(r'name="grant" value="([0-9a-f]+)"', page.text)
    assert grant
    alice.post("/sandbox/audi/grants", data={"grant": grant.group(1), "action": "expire"})
    assert 'name="grant"' not in alice.get("/sandbox/audi/grants").text

    result = app.test_cli_runner().invoke(args=["onboarding", "check-grants"])
    assert result.output.strip() == "1 entit(y/ies) need reconnecting.", result.output
    [lapsed] = live_entities(app, world.acme_id)
    assert (lapsed.id, lapsed.status) == (entity.id, "NeedsReconnect")


def test_the_api_reconnect_answers_one_redirect_link_while_under_way(
    app: Flask, acme: Partner, world
) -> None:
    first = acme.onboard(vin=AUDI_VIN)
    take_every_step(app, first["id"])
    [entity] = live_entities(app, world.acme_id)

    made = acme.post(f"/entities/{entity.id}/reconnect")
    assert made.status_code == 201, made.json
    link = made.json["action"]["redirectLink"]
    assert link and made.json["status"] == "Pending"
    assert [s["kind"] for s in made.json["steps"]] == ["redirect"]  # the manufacturer's only
    again = acme.post(f"/entities/{entity.id}/reconnect")
    assert again.status_code == 200
    assert (again.json["id"], again.json["action"]["redirectLink"]) == (made.json["id"], link)

    take_every_step(app, made.json["id"])
    shown = acme.get(f"/entities/{entity.id}").json
    assert (shown["status"], shown["requestId"]) == ("Connected", made.json["id"])
    finished = acme.get(f"/onboarding/entities/{made.json['id']}").json
    assert finished["data"]["entity"]["id"] == str(entity.id)

    acme.post("/offboarding/entities", {"entityId": str(entity.id)})
    gone = acme.post(f"/entities/{entity.id}/reconnect")
    assert gone.status_code == 409
    assert acme.post(f"/entities/{uuid.uuid4()}/reconnect").status_code == 404
