"""Consent with manufacturers through the test client: the sandbox's outcomes, hostile
callbacks, the app approval, tokens at rest, consent links, expiry and offboarding.

The test client plays the owner's browser and also presses the buttons on the sandbox's
own pages (the manufacturer's sign-in page and its simulated app); a callback is the
redirect the sandbox answers with.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
import uuid
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from app.consent import crypto
from app.consent import sandbox as sandbox_module
from app.consent.links import consent_url
from app.consent.providers import get_provider
from app.extensions import db
from app.jobs.tasks import poll_approvals
from app.models import (
    ConsentAttempt,
    ConsentLink,
    Entity,
    Event,
    OnboardingRequest,
    ProviderGrant,
    SandboxApproval,
    SandboxAuthorization,
)
from app.models.types import utcnow
from tests.integration.helpers import (
    EAN,
    HX,
    PASSWORD,
    accept_terms,
    count,
    entities_of,
    get_request,
    in_db,
    path_of,
    signed_in_client,
    submit,
    title_of,
    url,
    walk_to_check,
)

AUDI_VIN = "WAUZZZ8V0KA000000"
CORRECTED_VIN = "WAUZZZ8V0KA111111"
# Other devices: one device is in one request under way at a time.
KIA_VIN = "KNAZZZ8V0KA222222"
BMW_VIN = "WBAZZZ8V0KA333333"
SITE = " \N{EN DASH} Entity Onboarding"  # after every page title
OWNER_ACCOUNT = "owner@sandbox.example"
DENIED = "denied@sandbox.example"
NO_DEVICE = "no-device@sandbox.example"
ERROR = "error@sandbox.example"
SILENT = "silent@sandbox.example"


# ---------------------------------------------------------------- helpers


def path(location: str) -> str:
    """An absolute URL as the path and query the test client opens."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def with_query(location: str, **changes: str | None) -> str:
    """`location` with some query parameters replaced (None drops one)."""
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return f"{parts.path}?{urlencode(query)}"


def at_consent(
    client: FlaskClient,
    type_id: str,
    manufacturer: str,
    details: dict[str, str] | None,
    collective: str,
) -> uuid.UUID:
    """A request sent, its terms accepted: step 2 (redirect or app_consent) is next."""
    request_id = walk_to_check(client, type_id, manufacturer, details, collective)
    submit(client, request_id)
    accept_terms(client, request_id)
    return request_id


def go_to_provider(client: FlaskClient, request_id: uuid.UUID, position: int = 2) -> str:
    """Press "Continue to <manufacturer>"; the provider's authorization URL."""
    response = client.post(url(request_id, f"steps/{position}"))
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert re.search(r"/sandbox/[a-z-]+/authorize\?", location), location
    return location


def hidden_inputs(response: TestResponse) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.text
        )
    }


def sign_in_at_provider(
    client: FlaskClient, authorize_url: str, account: str = OWNER_ACCOUNT, decision: str = "allow"
) -> TestResponse:
    """Open the sandbox sign-in page and press Allow (or Deny) as `account`."""
    page = client.get(path(authorize_url))
    assert page.status_code == 200, page.text[:500]
    assert re.search(r"<h1[^>]*>Sign in to \w+ \(sandbox\)</h1>", page.text)
    form = hidden_inputs(page)
    form.pop("csrf_token", None)
    return client.post(
        urlsplit(authorize_url).path, data={**form, "account": account, "decision": decision}
    )


def callback_url(
    client: FlaskClient,
    request_id: uuid.UUID,
    account: str = OWNER_ACCOUNT,
    decision: str = "allow",
) -> str:
    """Start the redirect step and sign in at the sandbox: where it sends the owner back
    (not opened yet)."""
    answer = sign_in_at_provider(client, go_to_provider(client, request_id), account, decision)
    assert answer.status_code == 302, answer.text[:500]
    location = answer.headers["Location"]
    assert "/consent/callback/" in location, location
    return path(location)


def connect(
    client: FlaskClient,
    request_id: uuid.UUID,
    account: str = OWNER_ACCOUNT,
    decision: str = "allow",
) -> TestResponse:
    """The whole redirect step: start, sign in at the sandbox, come back."""
    return client.get(callback_url(client, request_id, account, decision))


def step_of(app: Flask, request_id: uuid.UUID, position: int = 2):
    return next(s for s in get_request(app, request_id).steps if s.position == position)


def _rows(app: Flask, request_id: uuid.UUID, model: type) -> list:
    with in_db(app) as session:
        step_ids = [s.id for s in session.get(OnboardingRequest, request_id).steps]
        found = list(
            session.scalars(select(model).where(model.step_id.in_(step_ids)).order_by(model.id))
        )
        session.expunge_all()
        return found


def attempts_of(app: Flask, request_id: uuid.UUID) -> list[ConsentAttempt]:
    return _rows(app, request_id, ConsentAttempt)


def grants_of(app: Flask, request_id: uuid.UUID) -> list[ProviderGrant]:
    return _rows(app, request_id, ProviderGrant)


def decrypt(app: Flask, value: bytes | None) -> str | None:
    with app.app_context():
        return crypto.decrypt(value)


def events_of(app: Flask, request_id: uuid.UUID, kind: str) -> list[Event]:
    return [e for e in get_request(app, request_id).events if e.kind == kind]


def rejections(app: Flask, request_id: uuid.UUID) -> list[str]:
    return [e.data["reason"] for e in events_of(app, request_id, "callback_rejected")]


def snapshot(app: Flask, request_id: uuid.UUID) -> tuple:
    """What a rejected callback must leave as it was."""
    request = get_request(app, request_id)
    return (
        request.status,
        request.failure_reason,
        [(s.position, s.status, s.failure_reason, s.attempts) for s in request.steps],
        [(a.state, a.finished_at, a.outcome) for a in attempts_of(app, request_id)],
        len(grants_of(app, request_id)),
        request.entity is not None,
    )


def assert_rejected(response: TestResponse, title: str) -> None:
    """A clear page: status 400, a plain title, nothing that looks like a crash."""
    assert response.status_code == 400, response.text[:500]
    assert title_of(response) == title + SITE
    assert "Nothing was changed" in response.text
    assert "Traceback" not in response.text


def run(app: Flask, *args: str):
    runner = app.test_cli_runner()
    with app.app_context():
        return runner.invoke(args=list(args))


def set_column(app: Flask, model: type, where, **values) -> None:
    with in_db(app) as session:
        session.execute(update(model).where(where).values(**values))
        session.commit()


# ---- app_consent


def approval_of(app: Flask, request_id: uuid.UUID) -> SandboxApproval:
    external_id = attempts_of(app, request_id)[-1].external_id
    with in_db(app) as session:
        approval = session.get(SandboxApproval, uuid.UUID(external_id))
        assert approval is not None
        session.expunge(approval)
        return approval


def ask_the_app(client: FlaskClient, request_id: uuid.UUID) -> TestResponse:
    """Press "Send the request to my <manufacturer> app"."""
    response = client.post(url(request_id, "steps/2"))
    assert path_of(response) == url(request_id, "steps/2")
    return response


def answer_in_the_app(
    client: FlaskClient,
    app: Flask,
    request_id: uuid.UUID,
    account: str = OWNER_ACCOUNT,
    decision: str = "allow",
) -> TestResponse:
    """Approve (or decline) on the sandbox's simulated manufacturer app."""
    approval = approval_of(app, request_id)
    screen = f"/sandbox/{approval.provider}/app/{approval.id}"
    assert client.get(screen).status_code == 200
    response = client.post(screen, data={"account": account, "decision": decision})
    assert response.status_code == 200, response.text[:500]
    return response


def signed_callback(
    app: Flask,
    provider: str,
    body: bytes,
    timestamp: str | None = None,
    secret_of: str | None = None,
) -> dict:
    """Headers of a callback as the provider (or `secret_of` another provider) signs it."""
    timestamp = timestamp or str(int(time.time()))
    with app.test_request_context():
        signature = get_provider(secret_of or provider).sign(body, timestamp)
    return {
        "Content-Type": "application/json",
        "X-Sandbox-Timestamp": timestamp,
        "X-Sandbox-Signature": signature,
    }


def deliver(
    client: FlaskClient,
    app: Flask,
    provider: str,
    approval: SandboxApproval,
    status: str = "approved",
) -> TestResponse:
    body = json.dumps({"id": str(approval.id), "status": status}).encode()
    return client.post(
        f"/consent/callback/{provider}/app", data=body, headers=signed_callback(app, provider, body)
    )


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def alice(app, world):
    return signed_in_client(app, world.alice)


@pytest.fixture
def group(world) -> str:
    return str(world.household_id)


@pytest.fixture
def audi(alice, group) -> uuid.UUID:
    """Alice's Audi EV, waiting at the sign-in step."""
    return at_consent(alice, "EV", "Audi", {"vin": AUDI_VIN}, group)


@pytest.fixture
def kia(alice, group) -> uuid.UUID:
    """Alice's Kia EV, waiting at the approve-in-the-app step."""
    return at_consent(alice, "EV", "Kia", {"vin": AUDI_VIN}, group)


@pytest.fixture
def lost_callbacks(monkeypatch):
    """The sandbox's signed callbacks never arrive; only polling can settle an approval."""
    monkeypatch.setattr(sandbox_module, "_send_callback", lambda provider, row: None)


# ---------------------------------------------------------------- redirect: outcomes


def test_approved_succeeds_with_exactly_one_entity(app, alice, audi, world):
    response = connect(alice, audi)

    assert path_of(response) == url(audi, "done")
    request = get_request(app, audi)
    assert request.status == "Succeeded"
    assert [s.status for s in request.steps] == ["done", "done"]
    evidence = request.steps[1].evidence
    assert evidence["provider"] == "audi" and evidence["sandbox"] is True
    assert evidence["grant_id"] == grants_of(app, audi)[0].grant_id
    [entity] = entities_of(app, audi)
    assert (entity.type, entity.manufacturer, entity.information) == (
        "EV",
        "Audi",
        {"vin": AUDI_VIN},
    )
    assert entity.status == "Connected" and entity.collective_id == world.household_id
    statuses = [(e.data["from"], e.data["to"]) for e in events_of(app, audi, "status")]
    assert statuses[-2:] == [("Pending", "InProgress"), ("InProgress", "Succeeded")]
    done = alice.get(url(audi, "done"))
    assert "Your electric vehicle is connected" in done.text and AUDI_VIN in done.text


def test_denied_fails_the_step_and_a_retry_succeeds_without_retyping(app, alice, audi):
    response = connect(alice, audi, DENIED)

    assert path_of(response) == url(audi, "steps/2")  # the step says what went wrong
    request = get_request(app, audi)
    assert request.status == "Pending"
    assert (request.steps[1].status, request.steps[1].failure_reason) == ("failed", "denied")
    assert entities_of(app, audi) == [] and grants_of(app, audi) == []
    page = alice.get(url(audi, "steps/2"))
    assert "You did not allow access at Audi." in page.text
    assert "Try again at Audi" in page.text

    assert path_of(connect(alice, audi)) == url(audi, "done")
    assert get_request(app, audi).status == "Succeeded"
    assert entities_of(app, audi)[0].information == {"vin": AUDI_VIN}
    assert step_of(app, audi).attempts == 2


def test_deny_button_with_any_account_is_a_denial(app, alice, audi):
    connect(alice, audi, OWNER_ACCOUNT, decision="deny")

    assert step_of(app, audi).failure_reason == "denied"


def test_device_not_on_the_account_can_be_corrected_then_retried(app, alice, audi):
    assert path_of(connect(alice, audi, NO_DEVICE)) == url(audi, "steps/2")

    request = get_request(app, audi)
    assert request.status == "Pending"
    assert (request.steps[1].status, request.steps[1].failure_reason) == (
        "failed",
        "device_not_found",
    )
    [grant] = grants_of(app, audi)
    assert grant.access_token is None and grant.revoked_at is not None  # not kept
    page = alice.get(url(audi, "steps/2"))
    assert f"{AUDI_VIN} is not on the Audi account you used." in page.text
    assert f'action="/onboarding/{audi}/steps/2/identifier"' in page.text

    corrected = alice.post(url(audi, "steps/2/identifier"), data={"vin": CORRECTED_VIN.lower()})

    assert path_of(corrected) == url(audi, "steps/2")
    assert get_request(app, audi).information == {"vin": CORRECTED_VIN}
    # The corrected VIN was not tried yet: the warning names the one that was.
    for headers in ({}, HX):
        page = alice.get(url(audi, "steps/2"), headers=headers)
        assert f"{AUDI_VIN} is not on the Audi account you used." in page.text
        assert f"{CORRECTED_VIN} is not on the" not in page.text
        assert f"You changed it to {CORRECTED_VIN}, which has not been tried yet." in page.text
    [event] = events_of(app, audi, "information_corrected")
    assert event.data == {"before": {"vin": AUDI_VIN}, "after": {"vin": CORRECTED_VIN}}
    assert path_of(connect(alice, audi)) == url(audi, "done")
    assert entities_of(app, audi)[0].information == {"vin": CORRECTED_VIN}


def test_a_wrong_correction_is_explained_and_changes_nothing(app, alice, audi):
    connect(alice, audi, NO_DEVICE)

    response = alice.post(url(audi, "steps/2/identifier"), data={"vin": "WAUZZZ8V0KA00000"})

    assert response.status_code == 422
    assert "A VIN has 17 characters; this one has 16" in html.unescape(response.text)
    assert get_request(app, audi).information == {"vin": AUDI_VIN}


def test_provider_error_fails_the_step_and_a_retry_succeeds(app, alice, audi):
    assert path_of(connect(alice, audi, ERROR)) == url(audi, "steps/2")

    request = get_request(app, audi)
    assert request.status == "Pending"
    assert (request.steps[1].status, request.steps[1].failure_reason) == (
        "failed",
        "provider_error",
    )
    assert "Audi had a problem and could not answer." in alice.get(url(audi, "steps/2")).text

    assert path_of(connect(alice, audi)) == url(audi, "done")
    assert len(entities_of(app, audi)) == 1


def test_silent_account_never_answers_and_the_request_stays_pending(app, alice, audi):
    answer = sign_in_at_provider(alice, go_to_provider(alice, audi), SILENT)

    assert answer.status_code == 200
    assert "The owner closed this window (sandbox)" in answer.text
    request = get_request(app, audi)
    assert request.status == "Pending"
    assert request.steps[1].status == "waiting"
    page = alice.get(url(audi, "steps/2"))
    assert "Continue to Audi again" in page.text
    # ...and the owner can still come back and finish.
    assert path_of(connect(alice, audi)) == url(audi, "done")


def test_fluvius_smart_meter_by_ean_and_flow(app, alice, group):
    request_id = at_consent(alice, "SmartMeter", "Fluvius", {"ean": EAN, "flow": "B2B"}, group)

    location = callback_url(alice, request_id)

    assert location.startswith("/consent/callback/fluvius?")
    assert path_of(alice.get(location)) == url(request_id, "done")
    [entity] = entities_of(app, request_id)
    assert (entity.information, entity.properties) == ({"ean": EAN}, {"flow": "B2B"})


@pytest.mark.parametrize(
    ("type_id", "manufacturer", "details", "kind"),
    [
        ("EV", "BMW", {"vin": AUDI_VIN}, "redirect"),
        ("EV", "Tesla", {"vin": AUDI_VIN}, "redirect"),
        ("EV", "Volkswagen", {"vin": AUDI_VIN}, "redirect"),
        ("EV", "Renault", {"vin": AUDI_VIN}, "redirect"),
        ("EV", "Volvo", {"vin": AUDI_VIN}, "redirect"),
        ("EV", "Hyundai", {"vin": AUDI_VIN}, "app_consent"),
        ("PV", "Huawei", None, "redirect"),
        ("PV", "SMA", {"plantId": "1234567", "email": "sun@example.com"}, "redirect"),
        ("PV", "SolarEdge", {"siteId": "1234567"}, "app_consent"),
        ("PV", "Fronius", {"pvSystemId": "1F0A5D0C-3B8E-4C2D-9A1B-7E6F5D4C3B2A"}, "redirect"),
        ("PV", "Enphase", {"systemId": "4123456"}, "redirect"),
    ],
)
def test_every_sandbox_manufacturer_onboards_to_an_entity(
    app, alice, group, type_id, manufacturer, details, kind
):
    request_id = at_consent(alice, type_id, manufacturer, details, group)

    if kind == "redirect":
        response = connect(alice, request_id)
    else:
        ask_the_app(alice, request_id)
        answer_in_the_app(alice, app, request_id)
        response = alice.get(url(request_id, "steps/2"))
    assert path_of(response) == url(request_id, "done")
    [entity] = entities_of(app, request_id)
    assert entity.manufacturer == manufacturer


# ---------------------------------------------------------------- hostile callbacks


def test_unknown_state_is_refused_and_nothing_is_recorded(app, alice, audi):
    location = callback_url(alice, audi)
    before, events = snapshot(app, audi), count(app, Event)

    for bad in (
        with_query(location, state="not-a-state-we-started"),
        with_query(location, state=None),
        with_query(location, state=""),
        # the right state, sent to another manufacturer's callback
        location.replace("/consent/callback/audi", "/consent/callback/bmw"),
    ):
        response = alice.get(bad)
        assert_rejected(response, "This sign-in link is not one we started")

    assert snapshot(app, audi) == before
    assert count(app, Event) == events  # no request is known: nothing to attach it to
    # The genuine callback still works afterwards.
    assert path_of(alice.get(location)) == url(audi, "done")


def test_replaying_the_same_callback_changes_nothing(app, alice, audi):
    location = callback_url(alice, audi)
    assert path_of(alice.get(location)) == url(audi, "done")
    before = snapshot(app, audi)

    response = alice.get(location)

    assert_rejected(response, "This sign-in was already used")
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["state_reused"]
    assert len(entities_of(app, audi)) == 1 and len(grants_of(app, audi)) == 1


def test_replaying_a_denial_changes_nothing(app, alice, audi):
    location = callback_url(alice, audi, DENIED)
    alice.get(location)
    before = snapshot(app, audi)

    assert_rejected(alice.get(location), "This sign-in was already used")
    assert snapshot(app, audi) == before


@pytest.mark.parametrize("who", ["anonymous", "bob", "carol"])
def test_a_callback_finished_in_another_browser_is_refused(app, alice, audi, world, who):
    location = callback_url(alice, audi)
    before = snapshot(app, audi)
    other = app.test_client() if who == "anonymous" else signed_in_client(app, getattr(world, who))

    response = other.get(location)

    assert_rejected(response, "Finish the sign-in in the browser where you started it")
    assert "Back to your consent steps" not in response.text  # not their request
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["other_browser"]
    # The owner's own browser can still finish it.
    assert path_of(alice.get(location)) == url(audi, "done")


def test_someone_else_cannot_fail_the_owners_step_with_a_forged_denial(app, alice, audi):
    location = callback_url(alice, audi)
    state = dict(parse_qsl(urlsplit(location).query))["state"]
    before = snapshot(app, audi)

    forged = app.test_client().get(
        f"/consent/callback/audi?{urlencode({'state': state, 'error': 'access_denied'})}"
    )

    assert_rejected(forged, "Finish the sign-in in the browser where you started it")
    assert snapshot(app, audi) == before


def test_a_missing_verifier_is_refused(app, alice, audi):
    location = callback_url(alice, audi)
    set_column(app, ConsentAttempt, ConsentAttempt.kind == "redirect", code_verifier=None)
    before = snapshot(app, audi)

    response = alice.get(location)

    assert_rejected(response, "This sign-in cannot be checked")
    assert "Back to your consent steps" in response.text
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["missing_verifier"]


def test_a_blank_verifier_is_refused(app, alice, audi):
    location = callback_url(alice, audi)
    set_column(app, ConsentAttempt, ConsentAttempt.kind == "redirect", code_verifier="")
    before = snapshot(app, audi)

    assert_rejected(alice.get(location), "This sign-in cannot be checked")
    assert snapshot(app, audi) == before


def test_an_unknown_code_is_refused_and_the_real_one_still_works(app, alice, audi):
    location = callback_url(alice, audi)
    before = snapshot(app, audi)

    response = alice.get(with_query(location, code="a-code-nobody-issued"))

    assert_rejected(response, "The manufacturer did not accept this sign-in")
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["code_rejected"]
    assert path_of(alice.get(location)) == url(audi, "done")


def test_a_callback_without_a_code_is_refused(app, alice, audi):
    location = callback_url(alice, audi)
    before = snapshot(app, audi)

    response = alice.get(with_query(location, code=None))

    assert_rejected(response, "The manufacturer did not send an answer we can use")
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["missing_code"]


def test_an_expired_code_is_refused(app, alice, audi):
    location = callback_url(alice, audi)
    set_column(
        app,
        SandboxAuthorization,
        SandboxAuthorization.provider == "audi",
        expires_at=utcnow() - timedelta(seconds=1),
    )
    before = snapshot(app, audi)

    response = alice.get(location)

    assert_rejected(response, "The manufacturer did not accept this sign-in")
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["code_rejected"]
    assert "expired" in events_of(app, audi, "callback_rejected")[0].data["detail"]


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(app, alice, audi):
    # The first sign-in's code is used (the device is not on that account)...
    first = callback_url(alice, audi, NO_DEVICE)
    alice.get(first)
    used_code = dict(parse_qsl(urlsplit(first).query))["code"]
    # ...then a new sign-in comes back with that used code instead of its own.
    second = callback_url(alice, audi)
    before = snapshot(app, audi)

    response = alice.get(with_query(second, code=used_code))

    assert_rejected(response, "The manufacturer did not accept this sign-in")
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["code_rejected"]
    assert "already used" in events_of(app, audi, "callback_rejected")[0].data["detail"]
    assert path_of(alice.get(second)) == url(audi, "done")
    assert len(entities_of(app, audi)) == 1


def test_a_wrong_pkce_verifier_is_refused(app, alice, audi):
    location = callback_url(alice, audi)
    set_column(app, ConsentAttempt, ConsentAttempt.kind == "redirect", code_verifier="x" * 64)
    before = snapshot(app, audi)

    response = alice.get(location)

    assert_rejected(response, "The manufacturer did not accept this sign-in")
    assert snapshot(app, audi) == before
    assert "PKCE" in events_of(app, audi, "callback_rejected")[0].data["detail"]


def test_a_wrong_client_secret_is_refused(app, alice, audi, monkeypatch):
    location = callback_url(alice, audi)
    before = snapshot(app, audi)
    # Our side holds the wrong secret (a misconfigured provider); the sandbox checks it.
    monkeypatch.setattr(
        "app.consent.providers.sandbox_client_secret", lambda name: "not-the-secret"
    )

    response = alice.get(location)

    assert response.status_code == 400
    assert "Nothing was changed" in response.text
    assert snapshot(app, audi) == before
    assert rejections(app, audi) == ["code_rejected"]
    assert events_of(app, audi, "callback_rejected")[0].data["error"] == "invalid_client"
    # The code was not spent on the refused client: with the right secret it works.
    monkeypatch.undo()
    assert path_of(alice.get(location)) == url(audi, "done")


def test_a_callback_for_a_step_that_is_no_longer_waiting_is_refused(app, alice, audi):
    location = callback_url(alice, audi)
    alice.post(url(audi, "cancel"))
    before = snapshot(app, audi)

    response = alice.get(location)

    assert_rejected(response, "This step is not waiting for a sign-in")
    assert snapshot(app, audi) == before
    assert get_request(app, audi).status == "Canceled"


def test_rejections_and_tokens_are_logged_without_secrets(app, alice, audi, caplog):
    caplog.set_level(logging.DEBUG)
    location = callback_url(alice, audi)
    alice.get(with_query(location, state="forged"))

    assert "consent callback rejected: unknown_state" in caplog.text
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    assert code not in caplog.text


# ---------------------------------------------------------------- double clicks, two tabs


def test_starting_the_redirect_twice_then_finishing_both_makes_one_grant(app, alice, audi):
    first = callback_url(alice, audi)
    second = callback_url(alice, audi)  # another tab, or the button pressed twice

    assert path_of(alice.get(first)) == url(audi, "done")
    response = alice.get(second)

    assert_rejected(response, "This step is not waiting for a sign-in")
    assert len(grants_of(app, audi)) == 1 and len(entities_of(app, audi)) == 1
    assert get_request(app, audi).status == "Succeeded"


def test_the_second_tab_can_finish_when_the_first_never_comes_back(app, alice, audi):
    callback_url(alice, audi)  # the first tab is abandoned at the provider
    second = callback_url(alice, audi)

    assert path_of(alice.get(second)) == url(audi, "done")
    assert len(grants_of(app, audi)) == 1


def test_posting_the_step_after_success_starts_nothing(app, alice, audi):
    connect(alice, audi)
    attempts = len(attempts_of(app, audi))

    response = alice.post(url(audi, "steps/2"))

    assert path_of(response) == url(audi, "done")
    assert len(attempts_of(app, audi)) == attempts
    assert len(grants_of(app, audi)) == 1 and len(entities_of(app, audi)) == 1


# ---------------------------------------------------------------- tokens at rest


class RecordingClient(FlaskClient):
    """A browser that keeps every answer it got (status, headers and body)."""

    seen: list[str]

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        self.seen.append(f"{response.status}\n{response.headers}\n{response.get_data(True)}")
        return response


def test_tokens_are_encrypted_at_rest_and_never_shown_or_logged(app, world, group, caplog):
    caplog.set_level(logging.DEBUG)
    browser = RecordingClient(app, app.response_class, use_cookies=True)
    browser.seen = []
    browser.post("/auth/login", data={"email": world.alice, "password": PASSWORD})
    request_id = at_consent(browser, "EV", "Audi", {"vin": AUDI_VIN}, group)
    connect(browser, request_id)
    for page in (
        "",
        url(request_id, "consent"),
        url(request_id, "done"),
        url(request_id, "steps/2"),
    ):
        browser.get(page or "/")

    [grant] = grants_of(app, request_id)
    access, refresh = decrypt(app, grant.access_token), decrypt(app, grant.refresh_token)
    assert access and refresh and access != refresh
    for token, stored in ((access, grant.access_token), (refresh, grant.refresh_token)):
        assert token.encode() not in stored
        assert stored != token.encode()
        assert all(token not in answer for answer in browser.seen)
        assert token not in caplog.text
        assert all(token not in str(r.args) for r in caplog.records)
        with in_db(app) as session:
            timeline = json.dumps([e.data for e in session.scalars(select(Event))], default=str)
            evidence = json.dumps(session.get(OnboardingRequest, request_id).steps[1].evidence)
        assert token not in timeline and token not in evidence


def test_app_consent_tokens_are_encrypted_too(app, alice, kia):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)

    [grant] = grants_of(app, kia)
    token = decrypt(app, grant.access_token)
    assert token and token.encode() not in grant.access_token


def test_token_keys_rotate_and_old_values_stay_readable(app, alice, audi):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["TOKEN_ENCRYPTION_KEYS"] = old_key
    connect(alice, audi)
    [grant] = grants_of(app, audi)
    token = decrypt(app, grant.access_token)
    assert Fernet(old_key).decrypt(grant.access_token).decode() == token

    app.config["TOKEN_ENCRYPTION_KEYS"] = f"{new_key}, {old_key}"
    assert decrypt(app, grant.access_token) == token  # readable before the rotation
    result = run(app, "onboarding", "rotate-tokens")
    assert result.exit_code == 0, result.output
    assert "Re-encrypted the tokens of 1 grant(s)." in result.output

    [rotated] = grants_of(app, audi)
    assert rotated.access_token != grant.access_token
    app.config["TOKEN_ENCRYPTION_KEYS"] = new_key  # the old key is dropped
    assert decrypt(app, rotated.access_token) == token
    assert (
        decrypt(app, rotated.refresh_token) == Fernet(old_key).decrypt(grant.refresh_token).decode()
    )
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(rotated.access_token)
    assert token not in result.output


def test_without_configured_keys_tokens_are_still_encrypted(app):
    with app.app_context():
        app.config.pop("TOKEN_ENCRYPTION_KEYS", None)
        stored = crypto.encrypt("secret-token")
        assert stored is not None and b"secret-token" not in stored
        assert crypto.decrypt(stored) == "secret-token"
        assert crypto.encrypt(None) is None and crypto.decrypt(None) is None


# ---------------------------------------------------------------- app_consent


def test_app_consent_page_waits_with_a_live_region(app, alice, kia):
    ask_the_app(alice, kia)

    page = alice.get(url(kia, "steps/2"))
    assert re.search(r'<div id="live-status"[^>]*aria-live="polite"', page.text)
    assert f'hx-get="/onboarding/{kia}/steps/2/status"' in page.text
    assert "Open the Kia app (sandbox)" in page.text
    status = alice.get(url(kia, "steps/2/status"), headers=HX)
    assert status.status_code == 200
    assert "Waiting for your approval in the Kia app" in status.text
    assert "<html" not in status.text
    assert step_of(app, kia).status == "waiting" and get_request(app, kia).status == "Pending"


def test_app_consent_settled_by_the_signed_callback(app, alice, kia):
    ask_the_app(alice, kia)

    screen = answer_in_the_app(alice, app, kia)

    assert "You approved the request." in screen.text
    assert approval_of(app, kia).callbacks_sent == 1
    # Settled before the owner's page asks again.
    request = get_request(app, kia)
    assert request.status == "Succeeded" and len(entities_of(app, kia)) == 1
    status = alice.get(url(kia, "steps/2/status"), headers=HX)
    assert status.headers["HX-Redirect"] == url(kia, "done")
    assert path_of(alice.get(url(kia, "steps/2"))) == url(kia, "done")


def poll_the_manufacturer(app: Flask) -> None:
    """The polling job's sweep, as the consumer runs it every minute."""
    poll_approvals.call_local()


def test_app_consent_settled_by_polling_when_the_callback_is_lost(app, alice, kia, lost_callbacks):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    assert get_request(app, kia).status == "Pending"
    assert step_of(app, kia).status == "waiting"
    # The owner's page only reads: it asks nobody, so it still waits.
    waiting = alice.get(url(kia, "steps/2/status"), headers=HX)
    assert "Waiting for your approval in the Kia app" in waiting.text

    poll_the_manufacturer(app)
    status = alice.get(url(kia, "steps/2/status"), headers=HX)

    assert status.status_code == 200 and status.headers["HX-Redirect"] == url(kia, "done")
    assert get_request(app, kia).status == "Succeeded" and len(entities_of(app, kia)) == 1


def test_without_javascript_a_refresh_shows_the_settled_approval(app, alice, kia, lost_callbacks):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    poll_the_manufacturer(app)

    assert path_of(alice.get(url(kia, "steps/2"))) == url(kia, "done")
    assert len(entities_of(app, kia)) == 1


def test_poll_then_late_callback_makes_one_entity(app, alice, kia, lost_callbacks):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    poll_the_manufacturer(app)  # the poll settles it
    approval = approval_of(app, kia)

    for _ in range(2):  # the lost callback arrives late, and again
        assert deliver(app.test_client(), app, "kia", approval).status_code == 204

    assert len(entities_of(app, kia)) == 1 and len(grants_of(app, kia)) == 1
    assert get_request(app, kia).status == "Succeeded"


def test_callback_then_poll_makes_one_entity(app, alice, kia, lost_callbacks):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    assert deliver(app.test_client(), app, "kia", approval_of(app, kia)).status_code == 204

    poll_the_manufacturer(app)
    status = alice.get(url(kia, "steps/2/status"), headers=HX)

    assert status.headers["HX-Redirect"] == url(kia, "done")
    assert len(entities_of(app, kia)) == 1 and len(grants_of(app, kia)) == 1


def test_callback_arriving_while_the_poll_settles_makes_one_entity(
    app, alice, kia, lost_callbacks, monkeypatch
):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    approval = approval_of(app, kia)
    from app.consent.providers import Provider

    original = Provider.collect_approval_tokens

    def callback_first(self, approval_id):
        # The provider's callback wins the race while the poll is about to collect.
        monkeypatch.setattr(Provider, "collect_approval_tokens", original)
        with app.app_context():  # another worker: its own app context and session
            assert deliver(app.test_client(), app, "kia", approval).status_code == 204
        return original(self, approval_id)

    monkeypatch.setattr(Provider, "collect_approval_tokens", callback_first)

    poll_the_manufacturer(app)

    assert len(entities_of(app, kia)) == 1 and len(grants_of(app, kia)) == 1
    next_poll = alice.get(url(kia, "steps/2/status"), headers=HX)
    assert next_poll.headers["HX-Redirect"] == url(kia, "done")
    request = get_request(app, kia)
    assert request.status == "Succeeded"
    assert [s.status for s in request.steps] == ["done", "done"]


def test_sending_the_app_request_twice_asks_once(app, alice, kia):
    ask_the_app(alice, kia)
    ask_the_app(alice, kia)

    assert len(attempts_of(app, kia)) == 1
    answer_in_the_app(alice, app, kia)
    assert len(entities_of(app, kia)) == 1


def test_app_consent_declined_then_retried(app, alice, kia):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia, decision="deny")

    assert (step_of(app, kia).status, step_of(app, kia).failure_reason) == ("failed", "denied")
    page = alice.get(url(kia, "steps/2"))
    assert "You did not allow access at Kia." in page.text
    assert "Send a new request to the app" in page.text

    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    assert get_request(app, kia).status == "Succeeded"
    assert len(attempts_of(app, kia)) == 2


@pytest.mark.parametrize(
    ("account", "reason"),
    [(DENIED, "denied"), (ERROR, "provider_error"), (NO_DEVICE, "device_not_found")],
)
def test_app_consent_outcomes_by_sandbox_account(app, alice, kia, account, reason):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia, account)

    assert step_of(app, kia).failure_reason == reason
    assert get_request(app, kia).status == "Pending"
    assert entities_of(app, kia) == []


def test_app_consent_silent_account_keeps_waiting(app, alice, kia):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia, SILENT)

    assert approval_of(app, kia).status == "pending"
    status = alice.get(url(kia, "steps/2/status"), headers=HX)
    assert "HX-Redirect" not in status.headers
    assert step_of(app, kia).status == "waiting" and get_request(app, kia).status == "Pending"


def test_app_consent_device_not_found_corrected_then_retried(app, alice, kia):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia, NO_DEVICE)

    corrected = alice.post(url(kia, "steps/2/identifier"), data={"vin": CORRECTED_VIN})
    assert path_of(corrected) == url(kia, "steps/2")
    ask_the_app(alice, kia)
    assert approval_of(app, kia).device == CORRECTED_VIN
    answer_in_the_app(alice, app, kia)
    assert entities_of(app, kia)[0].information == {"vin": CORRECTED_VIN}


# ---- the app callback itself


def test_app_callback_with_a_bad_signature_is_refused(app, alice, kia, lost_callbacks):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    approval = approval_of(app, kia)
    body = json.dumps({"id": str(approval.id), "status": "approved"}).encode()
    headers = signed_callback(app, "kia", body)
    before = snapshot(app, kia)
    client = app.test_client()

    for bad in (
        {**headers, "X-Sandbox-Signature": "0" * 64},
        {**headers, "X-Sandbox-Signature": ""},
        {k: v for k, v in headers.items() if not k.startswith("X-")},
        signed_callback(app, "kia", body, secret_of="hyundai"),
    ):
        response = client.post("/consent/callback/kia/app", data=body, headers=bad)
        assert response.status_code == 401, response.text
    # A signed body, changed on the way:
    tampered = body.replace(b"approved", b"denied")
    assert (
        client.post("/consent/callback/kia/app", data=tampered, headers=headers).status_code == 401
    )

    assert snapshot(app, kia) == before


@pytest.mark.parametrize("age", [301, 3600, -3600])
def test_app_callback_with_a_stale_timestamp_is_refused(app, alice, kia, lost_callbacks, age):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    approval = approval_of(app, kia)
    body = json.dumps({"id": str(approval.id), "status": "approved"}).encode()
    headers = signed_callback(app, "kia", body, timestamp=str(int(time.time()) - age))
    before = snapshot(app, kia)

    response = app.test_client().post("/consent/callback/kia/app", data=body, headers=headers)

    assert response.status_code == 401
    assert snapshot(app, kia) == before


def test_app_callback_with_a_malformed_timestamp_is_refused(app):
    body = b"{}"
    response = app.test_client().post(
        "/consent/callback/kia/app",
        data=body,
        headers={"X-Sandbox-Timestamp": "yesterday", "X-Sandbox-Signature": "x"},
    )
    assert response.status_code == 401


def test_app_callback_for_an_unknown_approval_is_refused(app, alice, kia, lost_callbacks):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    before = snapshot(app, kia)
    client = app.test_client()

    body = json.dumps({"id": str(uuid.uuid4()), "status": "approved"}).encode()
    assert (
        client.post(
            "/consent/callback/kia/app", data=body, headers=signed_callback(app, "kia", body)
        ).status_code
        == 404
    )
    # Kia's approval, signed by Hyundai, sent to Hyundai's callback: not Hyundai's approval.
    approval = approval_of(app, kia)
    body = json.dumps({"id": str(approval.id), "status": "approved"}).encode()
    assert (
        client.post(
            "/consent/callback/hyundai/app",
            data=body,
            headers=signed_callback(app, "hyundai", body),
        ).status_code
        == 404
    )
    for junk in (b"not json", b"[1, 2]"):
        assert (
            client.post(
                "/consent/callback/kia/app", data=junk, headers=signed_callback(app, "kia", junk)
            ).status_code
            == 404
        )

    assert snapshot(app, kia) == before


def test_app_callback_cannot_claim_an_approval_the_app_did_not_give(app, alice, kia):
    ask_the_app(alice, kia)
    approval = approval_of(app, kia)

    # Correctly signed, but the provider itself has no approved decision to collect: no
    # access is taken; the owner is told the manufacturer had a problem and may retry.
    response = deliver(app.test_client(), app, "kia", approval, status="approved")

    assert response.status_code == 204
    request = get_request(app, kia)
    assert request.entity is None and grants_of(app, kia) == []
    assert request.status == "Pending"
    assert step_of(app, kia).failure_reason == "provider_error"


# ---------------------------------------------------------------- expiry


def age_request(app: Flask, request_id: uuid.UUID, days: int) -> None:
    set_column(
        app,
        OnboardingRequest,
        OnboardingRequest.id == request_id,
        created_at=utcnow() - timedelta(days=days),
    )


def test_expire_command_fails_old_requests_and_leaves_the_rest(app, alice, audi, group):
    young = at_consent(alice, "EV", "Audi", {"vin": CORRECTED_VIN}, group)
    finished = at_consent(alice, "EV", "Kia", {"vin": KIA_VIN}, group)
    ask_the_app(alice, finished)
    answer_in_the_app(alice, app, finished)
    canceled = at_consent(alice, "EV", "BMW", {"vin": BMW_VIN}, group)
    alice.post(url(canceled, "cancel"))
    for request_id in (audi, finished, canceled):
        age_request(app, request_id, 15)
    age_request(app, young, 13)
    final_before = {r: snapshot(app, r) for r in (finished, canceled)}

    result = run(app, "onboarding", "expire")

    assert result.exit_code == 0, result.output
    assert "Expired 1 request(s)." in result.output
    request = get_request(app, audi)
    assert (request.status, request.failure_reason) == ("Failed", "expired")
    assert request.finished_at is not None
    [event] = [e for e in events_of(app, audi, "status") if e.data["to"] == "Failed"]
    assert event.actor == "system" and event.data["reason"] == "expired"
    assert get_request(app, young).status == "Pending"
    assert {r: snapshot(app, r) for r in (finished, canceled)} == final_before
    assert run(app, "onboarding", "expire").output.strip() == "Expired 0 request(s)."


def test_expiry_follows_the_configured_time(app, alice, audi):
    age_request(app, audi, 2)
    app.config["REQUEST_EXPIRES_AFTER"] = timedelta(days=1)

    run(app, "onboarding", "expire")

    assert get_request(app, audi).status == "Failed"


def test_an_old_request_expires_when_it_is_opened(app, alice, audi):
    age_request(app, audi, 15)

    page = alice.get(url(audi, "consent"))

    assert page.status_code == 200
    request = get_request(app, audi)
    assert (request.status, request.failure_reason) == ("Failed", "expired")
    assert "it expired before the consent was given" in page.text
    # Its steps cannot be taken any more.
    assert path_of(alice.post(url(audi, "steps/2"))) == url(audi, "consent")
    assert attempts_of(app, audi) == []


def test_a_callback_for_an_expired_request_is_refused(app, alice, audi):
    location = callback_url(alice, audi)
    age_request(app, audi, 15)
    run(app, "onboarding", "expire")

    assert_rejected(alice.get(location), "This step is not waiting for a sign-in")
    assert get_request(app, audi).status == "Failed" and grants_of(app, audi) == []


def test_opening_a_final_old_request_changes_nothing(app, alice, audi):
    connect(alice, audi)
    age_request(app, audi, 30)
    before = snapshot(app, audi)

    assert alice.get(url(audi, "done")).status_code == 200
    assert snapshot(app, audi) == before


# ---------------------------------------------------------------- consent links


def link_for(app: Flask, request_id: uuid.UUID) -> str:
    with app.test_request_context():
        request = db.session.get(OnboardingRequest, request_id)
        link = consent_url(request)
        db.session.commit()
        return path(link)


def age_links(app: Flask, request_id: uuid.UUID, by: timedelta) -> None:
    """Make every link of the request as old as if it had been made `by` earlier."""
    with in_db(app) as session:
        for link in session.scalars(
            select(ConsentLink).where(ConsentLink.request_id == request_id)
        ):
            link.created_at -= by
        session.commit()


@pytest.fixture
def sent(alice, group) -> uuid.UUID:
    """Alice's Audi request, sent: its consent is for the owner to give through a link."""
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, group)
    submit(alice, request_id)
    return request_id


def test_a_link_opens_the_consent_pages_without_an_account(app, sent):
    owner = app.test_client()

    response = owner.get(link_for(app, sent))

    assert path_of(response) == url(sent, "consent")
    page = owner.get(url(sent, "consent"))
    assert page.status_code == 200 and "Give your consent" in page.text
    assert "Cancel this request" not in page.text  # only the signed-in owner cancels
    accept_terms(owner, sent)
    assert path_of(connect(owner, sent)) == url(sent, "done")
    assert "Your electric vehicle is connected" in owner.get(url(sent, "done")).text
    request = get_request(app, sent)
    assert request.status == "Succeeded"
    assert request.steps[0].actor == "owner-link"  # the terms; the sign-in is Audi's word
    assert {e.actor for e in events_of(app, sent, "step_started")} == {"owner-link"}


def test_a_link_does_not_open_another_request(app, alice, sent, group, world):
    other = walk_to_check(alice, "EV", "BMW", {"vin": BMW_VIN}, group)
    submit(alice, other)
    owner = app.test_client()
    owner.get(link_for(app, sent))

    for page in ("consent", "steps/1", "steps/2", "done", "steps/2/status"):
        response = owner.get(url(other, page))
        assert response.status_code in (302, 404), (page, response.status_code)
        if response.status_code == 302:
            assert path_of(response).startswith("/auth/login"), path_of(response)
    for page in ("steps/1", "steps/2", "cancel"):
        response = owner.post(url(other, page))
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert path_of(response).startswith("/auth/login")
    assert get_request(app, other).status == "Pending"
    assert [s.status for s in get_request(app, other).steps] == ["todo", "todo"]
    # Someone signed in, holding the link to one request, gets 404 for another's request.
    carol = signed_in_client(app, world.carol)
    carol.get(link_for(app, sent))
    assert carol.get(url(other, "consent")).status_code == 404
    assert carol.get(url(sent, "consent")).status_code == 200


def test_a_link_to_one_request_does_not_open_the_owners_account(app, sent):
    owner = app.test_client()
    owner.get(link_for(app, sent))

    assert path_of(owner.get("/")).startswith("/auth/login")
    assert path_of(owner.get(url(sent, "check"))).startswith("/auth/login")


@pytest.mark.parametrize("tamper", ["change_link", "flip_character", "truncate", "junk"])
def test_a_tampered_link_gets_a_clear_page(app, sent, tamper):
    link = link_for(app, sent)
    token = link.removeprefix("/c/")
    _payload, _, rest = token.partition(".")
    forged = {
        # a valid-looking id of another link, with the old signature
        "change_link": _b64(uuid.uuid4().bytes) + "." + rest,
        "flip_character": token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:],
        "truncate": token[:-6],
        "junk": "not-a-link",
    }[tamper]
    owner = app.test_client()

    response = owner.get(f"/c/{forged}")

    assert response.status_code == 400
    assert title_of(response) == "This link does not work" + SITE
    assert "ask whoever sent it for a new one" in response.text
    assert path_of(owner.get(url(sent, "consent"))).startswith("/auth/login")


def _b64(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_an_expired_link_gets_a_clear_page(app, sent):
    link = link_for(app, sent)
    age_links(app, sent, timedelta(days=15))
    owner = app.test_client()

    response = owner.get(link)

    assert response.status_code == 400
    assert title_of(response) == "This link has expired" + SITE
    assert path_of(owner.get(url(sent, "consent"))).startswith("/auth/login")


def test_link_lifetime_follows_the_configuration(app, sent):
    link = link_for(app, sent)
    age_links(app, sent, timedelta(seconds=120))

    assert app.test_client().get(link).status_code == 302
    app.config["CONSENT_LINK_MAX_AGE"] = timedelta(seconds=60)
    assert app.test_client().get(link).status_code == 400


def test_a_link_to_a_request_that_is_gone_gets_a_clear_page(app, sent):
    link = link_for(app, sent)
    with in_db(app) as session:
        session.delete(session.get(OnboardingRequest, sent))
        session.commit()

    response = app.test_client().get(link)
    assert response.status_code == 400
    assert title_of(response) == "This link does not work" + SITE


def test_a_link_sign_in_finished_elsewhere_is_refused(app, sent):
    owner, stranger = app.test_client(), app.test_client()
    owner.get(link_for(app, sent))
    accept_terms(owner, sent)
    location = callback_url(owner, sent)

    assert_rejected(
        stranger.get(location), "Finish the sign-in in the browser where you started it"
    )
    assert path_of(owner.get(location)) == url(sent, "done")


# ---------------------------------------------------------------- offboarding


@pytest.fixture
def connected(app, alice, audi) -> Entity:
    connect(alice, audi)
    [entity] = entities_of(app, audi)
    return entity


def devices_answer(app: Flask, token: str) -> int:
    return (
        app.test_client()
        .get(
            "/sandbox/audi/devices",
            query_string={"identifier": AUDI_VIN},
            headers={"Authorization": f"Bearer {token}"},
        )
        .status_code
    )


def test_offboarding_revokes_destroys_tokens_and_disconnects(app, alice, audi, connected):
    [grant] = grants_of(app, audi)
    token = decrypt(app, grant.access_token)
    assert devices_answer(app, token) == 200
    evidence = step_of(app, audi).evidence
    page = alice.get(f"/devices/{connected.id}/disconnect")
    assert page.status_code == 200 and "Disconnect Audi electric vehicle" in page.text

    response = alice.post(f"/devices/{connected.id}/disconnect", data={"reason": "privacy"})

    assert path_of(response) == "/"
    home = alice.get("/")
    assert "is disconnected. Its access was withdrawn." in html.unescape(home.text)
    [entity] = entities_of(app, audi)
    assert entity.status == "Disconnected" and entity.disconnected_at is not None
    request = get_request(app, audi)
    assert request.status == "Succeeded"  # the request's history is not rewritten
    for step in request.steps:
        assert (step.status, step.revoke_reason) == ("revoked", "privacy")
        assert step.revoked_at is not None and step.completed_at is not None
    assert step_of(app, audi).evidence == evidence  # kept
    [grant] = grants_of(app, audi)
    assert (grant.access_token, grant.refresh_token) == (None, None)
    assert grant.revoked_at is not None
    assert devices_answer(app, token) == 401  # the provider ended the grant too
    [event] = events_of(app, audi, "offboarded")
    assert event.data == {"entity_id": str(entity.id), "reason": "privacy"}
    assert event.actor.startswith("user:")


def test_offboarding_twice_is_harmless(app, alice, audi, connected):
    alice.post(f"/devices/{connected.id}/disconnect", data={"reason": "sold"})
    before = snapshot(app, audi), len(get_request(app, audi).events)

    again = alice.post(f"/devices/{connected.id}/disconnect", data={"reason": "other"})

    assert path_of(again) == "/"
    assert (snapshot(app, audi), len(get_request(app, audi).events)) == before
    assert step_of(app, audi).revoke_reason == "sold"
    assert path_of(alice.get(f"/devices/{connected.id}/disconnect")) == "/"


def test_offboarding_needs_no_reason(app, alice, audi, connected):
    # Withdrawing consent is the owner's right: the reason is optional.
    response = alice.post(f"/devices/{connected.id}/disconnect", data={})

    assert path_of(response) == "/"
    assert entities_of(app, audi)[0].status == "Disconnected"
    assert grants_of(app, audi)[0].access_token is None


def test_offboarding_refuses_a_reason_not_offered(app, alice, audi, connected):
    response = alice.post(f"/devices/{connected.id}/disconnect", data={"reason": "bored"})

    assert response.status_code == 422
    assert entities_of(app, audi)[0].status == "Connected"
    assert decrypt(app, grants_of(app, audi)[0].access_token)


def test_offboarding_goes_on_when_the_provider_cannot_revoke(
    app, alice, audi, connected, monkeypatch, caplog
):
    from app.consent.providers import Provider, ProviderError

    def unreachable(self, token):
        raise ProviderError("audi did not answer")

    monkeypatch.setattr(Provider, "revoke", unreachable)

    alice.post(f"/devices/{connected.id}/disconnect", data={"reason": "sold"})

    assert entities_of(app, audi)[0].status == "Disconnected"
    assert grants_of(app, audi)[0].access_token is None
    assert "revocation at audi failed" in caplog.text


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_another_owners_entity_cannot_be_offboarded(app, audi, connected, world, who):
    intruder = signed_in_client(app, getattr(world, who))

    assert intruder.get(f"/devices/{connected.id}/disconnect").status_code == 404
    assert (
        intruder.post(f"/devices/{connected.id}/disconnect", data={"reason": "sold"}).status_code
        == 404
    )
    assert entities_of(app, audi)[0].status == "Connected"
    assert decrypt(app, grants_of(app, audi)[0].access_token)


def test_offboarding_needs_sign_in(app, audi, connected):
    response = app.test_client().post(
        f"/devices/{connected.id}/disconnect", data={"reason": "sold"}
    )

    assert path_of(response).startswith("/auth/login")
    assert entities_of(app, audi)[0].status == "Connected"


def test_offboarding_an_app_consent_entity(app, alice, kia):
    ask_the_app(alice, kia)
    answer_in_the_app(alice, app, kia)
    [entity] = entities_of(app, kia)
    token = decrypt(app, grants_of(app, kia)[0].access_token)

    alice.post(f"/devices/{entity.id}/disconnect", data={"reason": "provider"})

    assert entities_of(app, kia)[0].status == "Disconnected"
    assert grants_of(app, kia)[0].access_token is None
    assert (
        app.test_client()
        .get("/sandbox/kia/devices", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 401
    )


# ---------------------------------------------------------------- production without sandboxes


def test_without_sandboxes_nor_settings_the_sign_in_step_fails_at_home(app, alice, audi):
    app.config["SANDBOX_PROVIDERS"] = False  # production's default

    response = alice.post(url(audi, "steps/2"))

    assert path_of(response) == url(audi, "steps/2")  # never off to a page that is not there
    step = step_of(app, audi)
    assert (step.status, step.failure_reason) == ("failed", "provider_error")
    assert entities_of(app, audi) == []
    assert alice.get(url(audi, "steps/2")).status_code == 200
