"""The installer's pages: start for a customer, hand the consent link over, watch it land.

Each is driven through the test client, as full pages and as htmx fragments.
"""

from __future__ import annotations

import html
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from app.consent.links import consent_url
from app.models import Collective, ConsentMessage, OnboardingRequest, Role, Tenant, User
from app.onboarding.audit import SYSTEM, Actor
from app.onboarding.lifecycle import cancel_request
from app.onboarding.states import Door, Status, StepStatus
from app.onboarding.steps import current_step, fail_step_attempt
from tests.integration.helpers import (
    AUDI_VIN,
    HX,
    PAIRING_CODE,
    WRONG_PAIRING_CODE,
    XENN_REFERENCE,
    World,
    accept_terms,
    add_user,
    count,
    field_errors,
    get_request,
    in_db,
    link_path,
    pair,
    path_of,
    sent_emails,
    sent_texts,
    signed_in_client,
    title_of,
)
from tests.qr_reading import read_svg_qr, svgs_in

INSTALLER = "ian@acme.example"
OTHER_INSTALLER = "iris@acme.example"
FOREIGN_INSTALLER = "ivan@other.example"
CUSTOMER = {
    "customer_name": "Jan Peeters",
    "customer_email": "jan.peeters@example.com",
    "customer_mobile": "+32 470 12 34 56",
}


@pytest.fixture
def installers(app: Flask, world: World) -> None:
    with in_db(app) as session:
        acme = session.get(Tenant, world.acme_id)
        other = session.get(Tenant, world.other_id)
        add_user(session, acme, INSTALLER, Role.INSTALLER)
        add_user(session, acme, OTHER_INSTALLER, Role.INSTALLER)
        add_user(session, other, FOREIGN_INSTALLER, Role.INSTALLER)
        session.commit()


@pytest.fixture
def ian(app: Flask, installers: None) -> FlaskClient:
    return signed_in_client(app, INSTALLER)


def start(client: FlaskClient, device: str = "EV/Audi", key: str = "key-1") -> uuid.UUID:
    response = client.post("/installer/new", data={"device": device, "start_key": key})
    match = re.fullmatch(r"/installer/([0-9a-f-]{36})/details", path_of(response))
    assert match, response.headers.get("Location")
    return uuid.UUID(match.group(1))


def give_details(
    client: FlaskClient, request_id: uuid.UUID, fields: dict[str, str], group: str = "none"
) -> None:
    data = {**CUSTOMER, "collective": group, **fields}
    response = client.post(f"/installer/{request_id}/details", data=data)
    assert path_of(response) == f"/installer/{request_id}/check", field_errors(response)


def send(client: FlaskClient, request_id: uuid.UUID) -> None:
    response = client.post(f"/installer/{request_id}/check")
    assert path_of(response) == f"/installer/{request_id}"


def install(client: FlaskClient, device: str = "EV/Audi", key: str = "key-1") -> uuid.UUID:
    request_id = start(client, device, key)
    fields = {"vin": AUDI_VIN} if device == "EV/Audi" else {"reference": XENN_REFERENCE}
    give_details(client, request_id, fields)
    send(client, request_id)
    return request_id


def text(response: object) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())  # type: ignore[attr-defined]


# ---------------------------------------------------------------- home


def test_an_installer_lands_on_their_installations(app: Flask, ian: FlaskClient) -> None:
    assert path_of(ian.get("/")) == "/installer"
    page = ian.get("/installer")
    assert page.status_code == 200
    assert title_of(page).startswith("Your installations")
    assert "New installation" in page.text
    assert 'href="/installer"' in page.text  # the header's link
    assert "Your devices" not in title_of(page)


def test_home_lists_installs_with_customer_device_and_waiting_step(
    app: Flask, ian: FlaskClient
) -> None:
    install(ian)
    page = text(ian.get("/installer"))
    assert "Jan Peeters" in page
    assert AUDI_VIN in page
    assert "Waiting on the owner: Agree to share" in page
    fragment = ian.get("/installer/installs", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "Jan Peeters" in fragment.text
    seen = re.search(r'hx-get="/installer/installs\?seen=([0-9a-f]+)"', fragment.text)
    assert seen
    unchanged = ian.get(f"/installer/installs?seen={seen.group(1)}", headers=HX)
    assert unchanged.status_code == 204
    assert path_of(ian.get("/installer/installs")) == "/installer"


def test_owners_and_support_have_no_installer_pages(app: Flask, world: World) -> None:
    alice = signed_in_client(app, world.alice)
    assert alice.get("/installer").status_code == 404
    assert alice.post("/installer/new", data={"device": "EV/Audi"}).status_code == 404
    assert alice.get("/").status_code == 200  # their own "Your devices"


# ---------------------------------------------------------------- start


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_start_with_bad_input_says_why_and_keeps_everything_typed(
    app: Flask, ian: FlaskClient, headers: dict[str, str]
) -> None:
    nothing = ian.post("/installer/new", data={"start_key": "k"}, headers=headers)
    assert nothing.status_code == 422
    assert field_errors(nothing) == {"device": "Choose the device."}
    tampered = ian.post("/installer/new", data={"device": "EV/Nope", "start_key": "k"})
    assert field_errors(tampered) == {"device": "Choose the device from the list."}

    request_id = start(ian)
    bad = {
        "vin": "WAUZZZ",
        "customer_name": "",
        "customer_email": "jan@",
        "customer_mobile": "12",
        "collective": "none",
    }
    response = ian.post(f"/installer/{request_id}/details", data=bad, headers=headers)
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"vin", "customer_name", "customer_email", "customer_mobile"}
    assert errors["customer_name"] == "Enter the customer's name."
    for value in ("WAUZZZ", "jan@", 'value="12"'):
        assert value in response.text
    if headers:
        assert "<html" not in response.text

    neither = {**bad, "vin": AUDI_VIN, "customer_name": "Jan", "customer_email": ""}
    neither["customer_mobile"] = ""
    response = ian.post(f"/installer/{request_id}/details", data=neither, headers=headers)
    assert field_errors(response) == {
        "customer_email": "Enter the customer's email address or mobile number, or both."
    }
    assert get_request(app, request_id).status == Status.DRAFT


def test_the_request_records_door_creator_and_customer(
    app: Flask, world: World, ian: FlaskClient
) -> None:
    request_id = install(ian)
    request = get_request(app, request_id)
    with in_db(app) as session:
        ian_id = session.scalar(select(User.id).where(User.email == INSTALLER))
    assert request.channel == Door.INSTALLER
    assert request.created_by_id == ian_id
    assert request.owner_id is None
    assert (request.customer_name, request.email, request.customer_mobile) == (
        "Jan Peeters",
        "jan.peeters@example.com",
        "+32470123456",
    )
    assert request.information == {"vin": AUDI_VIN}
    assert request.status == Status.PENDING
    assert [s.kind for s in request.steps] == ["terms", "redirect"]


def test_a_customer_with_an_account_finds_the_request_at_home(
    app: Flask, world: World, ian: FlaskClient
) -> None:
    request_id = start(ian)
    give_details(ian, request_id, {"vin": AUDI_VIN, "customer_email": world.bob})
    bob = signed_in_client(app, world.bob)
    assert AUDI_VIN not in bob.get("/").text  # not theirs while the installer checks it
    send(ian, request_id)
    assert AUDI_VIN in bob.get("/").text
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        assert request.owner is not None and request.owner.email == world.bob
        assert request.created_by.email == INSTALLER


def test_a_retried_start_and_send_make_one_request(app: Flask, ian: FlaskClient) -> None:
    first = start(ian, key="same")
    again = start(ian, key="same")
    assert first == again
    give_details(ian, first, {"vin": AUDI_VIN})
    send(ian, first)
    send(ian, first)  # the check page's form twice: still one request, one set of steps
    assert count(app, OnboardingRequest) == 1
    assert len(get_request(app, first).steps) == 2


# ---------------------------------------------------------------- hand over


def test_hand_over_shows_a_stable_link_and_its_qr_code(app: Flask, ian: FlaskClient) -> None:
    request_id = install(ian)
    page = ian.get(f"/installer/{request_id}")
    assert page.status_code == 200
    links = re.findall(r'class="qr-code__url code">([^<]+)<', page.text)
    assert len(links) == 1
    [svg] = [s for s in svgs_in(page.text) if "qr-code" in s]
    assert read_svg_qr(svg) == html.unescape(links[0])
    assert (
        re.findall(r'class="qr-code__url code">([^<]+)<', ian.get(f"/installer/{request_id}").text)
        == links
    )
    assert 'name="email-channel" value="email"' in page.text


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_retried_send_sends_one_message(
    app: Flask, ian: FlaskClient, headers: dict[str, str]
) -> None:
    request_id = install(ian)
    page = ian.get(f"/installer/{request_id}")
    key = re.search(
        r'id="email-submission_key" name="email-submission_key" type="hidden" value="([^"]+)"',
        page.text,
    )
    assert key, page.text
    data = {
        "email-channel": "email",
        "email-to": "jan.peeters@example.com",
        "email-submission_key": key.group(1),
    }
    for _ in range(2):
        response = ian.post(f"/installer/{request_id}/send", data=data, headers=headers)
        assert path_of(response) == f"/installer/{request_id}"
    assert len(sent_emails(app)) == 1
    assert count(app, ConsentMessage) == 1
    assert count(app, OnboardingRequest) == 1
    events = [e for e in get_request(app, request_id).events if e.kind == "message_sent"]
    assert len(events) == 1
    assert "The link was sent by email" in text(ian.get(f"/installer/{request_id}"))


def test_send_by_text_message_and_a_bad_number_next_to_its_field(
    app: Flask, ian: FlaskClient
) -> None:
    request_id = install(ian)
    bad = {"sms-channel": "sms", "sms-to": "12", "sms-submission_key": "k1"}
    response = ian.post(f"/installer/{request_id}/send", data=bad)
    assert response.status_code == 422
    assert "sms-to" in field_errors(response)
    assert 'value="12"' in response.text
    good = {**bad, "sms-to": "+32470123456"}
    assert path_of(ian.post(f"/installer/{request_id}/send", data=good)) == (
        f"/installer/{request_id}"
    )
    assert len(sent_texts(app)) == 1


# ---------------------------------------------------------------- watch it land


def test_status_fragment_follows_the_owner_to_connected(app: Flask, ian: FlaskClient) -> None:
    request_id = install(ian, "RetrofitMeter/Xenn")
    fragment = ian.get(f"/installer/{request_id}/status", headers=HX)
    assert fragment.status_code == 200
    assert 'hx-trigger="every' in fragment.text
    seen = re.search(r"seen=([0-9a-f]+)", fragment.text)
    assert seen
    assert (
        ian.get(f"/installer/{request_id}/status?seen={seen.group(1)}", headers=HX).status_code
        == 204
    )

    with app.test_request_context(), in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        url = consent_url(request)
        session.commit()
    owner = app.test_client()
    owner.get(link_path(url))
    accept_terms(owner, request_id)
    assert "Waiting for the owner" in text(ian.get(f"/installer/{request_id}/status", headers=HX))
    pair(owner, request_id, PAIRING_CODE)

    done = ian.get(f"/installer/{request_id}/status", headers=HX)
    assert "Connected" in text(done)
    assert "hx-trigger" not in done.text  # final: the page stops asking
    page = ian.get(f"/installer/{request_id}")
    assert "Connected" in text(page) and "Refresh" not in page.text
    assert path_of(ian.get(f"/installer/{request_id}/status")) == f"/installer/{request_id}"


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("kind", ["terms", "redirect", "app_consent", "pairing_code"])
def test_the_installer_cannot_take_any_consent_step(
    app: Flask, ian: FlaskClient, kind: str
) -> None:
    device = {
        "terms": "EV/Audi",
        "redirect": "EV/Audi",
        "app_consent": "EV/Kia",
        "pairing_code": "RetrofitMeter/Xenn",
    }[kind]
    request_id = start(ian, device)
    fields = {"reference": XENN_REFERENCE} if device.endswith("Xenn") else {"vin": AUDI_VIN}
    give_details(ian, request_id, fields)
    send(ian, request_id)
    request = get_request(app, request_id)
    step = next(s for s in request.steps if s.kind == kind)
    if step.position > 1:
        # The earlier steps are the owner's, through the link.
        with app.test_request_context(), in_db(app) as session:
            url = consent_url(session.get(OnboardingRequest, request_id))
            session.commit()
        owner = app.test_client()
        owner.get(link_path(url))
        for position in range(1, step.position):
            accept_terms(owner, request_id, position)
    path = f"/onboarding/{request_id}/steps/{step.position}"
    page = ian.get(path)
    assert page.status_code == 403
    assert (
        "This step is for the device's owner. Hand them the link or the QR code."
        in html.unescape(page.text)
    )
    posted = ian.post(path, data={"version": "1", "code": PAIRING_CODE})
    assert posted.status_code == 403
    after = get_request(app, request_id)
    assert next(s for s in after.steps if s.kind == kind).status in (StepStatus.TODO,)
    with in_db(app) as session:
        assert current_step(session.get(OnboardingRequest, request_id)).position == step.position


def test_other_installers_and_tenants_get_404(app: Flask, ian: FlaskClient, world: World) -> None:
    draft = start(ian, key="draft")
    sent = install(ian, key="sent")
    for email in (OTHER_INSTALLER, FOREIGN_INSTALLER, world.carol):
        client = signed_in_client(app, email)
        for request_id in (draft, sent):
            for path in ("", "/status", "/device", "/details", "/check"):
                assert client.get(f"/installer/{request_id}{path}").status_code == 404, (
                    email,
                    path,
                )
            for path in ("/device", "/details", "/check", "/send"):
                response = client.post(f"/installer/{request_id}{path}", data={})
                assert response.status_code == 404, (email, path)
    assert get_request(app, draft).status == Status.DRAFT


# ---------------------------------------------------------------- after the hand-over


def owner_link(app: Flask, request_id: uuid.UUID) -> FlaskClient:
    """The owner's phone, holding the request's consent link."""
    with app.test_request_context(), in_db(app) as session:
        url = consent_url(session.get(OnboardingRequest, request_id))
        session.commit()
    owner = app.test_client()
    owner.get(link_path(url))
    return owner


def fail_second_step(app: Flask, request_id: uuid.UUID, reason: str) -> None:
    """The owner agreed to the terms; the manufacturer's step then did not work."""
    accept_terms(owner_link(app, request_id), request_id)
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        step = current_step(request)
        assert step is not None and step.position == 2
        fail_step_attempt(request, step, Actor.provider("sandbox"), reason, AUDI_VIN)
        session.commit()


def events_of(app: Flask, request_id: uuid.UUID, kind: str) -> list[dict[str, object]]:
    return [e.data for e in get_request(app, request_id).events if e.kind == kind]


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_an_address_typed_at_hand_over_becomes_the_customers(
    app: Flask, world: World, ian: FlaskClient, headers: dict[str, str]
) -> None:
    request_id = start(ian)
    give_details(ian, request_id, {"vin": AUDI_VIN, "customer_email": ""})
    send(ian, request_id)
    assert get_request(app, request_id).email is None
    data = {
        "email-channel": "email",
        "email-to": " Jan.Peeters@Example.COM ",
        "email-submission_key": "k1",
    }
    response = ian.post(f"/installer/{request_id}/send", data=data, headers=headers)
    assert path_of(response) == f"/installer/{request_id}"
    [message] = sent_emails(app)
    request = get_request(app, request_id)
    assert request.email == message.to[0]  # normalised as it was sent
    assert request.email_search == request.email.lower()  # what the console searches
    assert events_of(app, request_id, "customer_contact") == [
        {"email": {"before": None, "after": request.email}}
    ]
    assert f'value="{request.email}"' in ian.get(f"/installer/{request_id}").text

    # Another address: the customer's from now on, the old one on the timeline.
    changed = {**data, "email-to": world.bob, "email-submission_key": "k2"}
    ian.post(f"/installer/{request_id}/send", data=changed, headers=headers)
    request = get_request(app, request_id)
    assert request.email == world.bob
    with in_db(app) as session:  # a customer with an account finds it at home
        assert request.owner_id == session.scalar(select(User.id).where(User.email == world.bob))
    assert events_of(app, request_id, "customer_contact")[-1] == {
        "email": {"before": message.to[0], "after": world.bob}
    }
    # The same address again changes nothing more.
    ian.post(f"/installer/{request_id}/send", data={**changed, "email-submission_key": "k3"})
    assert len(events_of(app, request_id, "customer_contact")) == 2


def test_a_number_typed_at_hand_over_becomes_the_customers(app: Flask, ian: FlaskClient) -> None:
    request_id = start(ian)
    give_details(ian, request_id, {"vin": AUDI_VIN, "customer_mobile": ""})
    send(ian, request_id)
    data = {"sms-channel": "sms", "sms-to": "+32 470 99 88 77", "sms-submission_key": "k1"}
    assert path_of(ian.post(f"/installer/{request_id}/send", data=data)) == (
        f"/installer/{request_id}"
    )
    assert get_request(app, request_id).customer_mobile == "+32470998877"
    assert 'value="+32470998877"' in ian.get(f"/installer/{request_id}").text
    bad = {**data, "sms-to": "12", "sms-submission_key": "k2"}
    assert ian.post(f"/installer/{request_id}/send", data=bad).status_code == 422
    assert get_request(app, request_id).customer_mobile == "+32470998877"


def test_a_wrong_pairing_code_reads_as_words(app: Flask, ian: FlaskClient) -> None:
    request_id = install(ian, "RetrofitMeter/Xenn")
    owner = owner_link(app, request_id)
    accept_terms(owner, request_id)
    pair(owner, request_id, WRONG_PAIRING_CODE)
    page = text(ian.get(f"/installer/{request_id}"))
    assert "pairing_code_mismatch" not in page
    assert "the pairing code did not match the device" in page
    assert "Check the pairing code on the device with the owner" in page


@pytest.mark.parametrize(
    "reason,says",
    [
        ("denied", "The owner refused access."),
        ("device_not_found", "Check the identifier with the owner and fix it here"),
        ("provider_error", "try again from the same link in a few minutes"),
    ],
)
def test_a_failed_step_shows_on_home_and_request_page(
    app: Flask, ian: FlaskClient, reason: str, says: str
) -> None:
    request_id = install(ian)
    fail_second_step(app, request_id, reason)
    label = {
        "denied": "access was refused",
        "device_not_found": "the device is not on the account",
        "provider_error": "the manufacturer had a problem",
    }[reason]
    for response in (ian.get("/installer"), ian.get("/installer/installs", headers=HX)):
        home = text(response)
        assert "A step did not work" in home
        assert f"Sign in at Audi and allow access: {label}." in home
        assert says in home
        assert "Waiting on" not in home
    for response in (
        ian.get(f"/installer/{request_id}"),
        ian.get(f"/installer/{request_id}/status", headers=HX),
    ):
        page = text(response)
        assert f"Sign in at Audi and allow access: {label}." in page and says in page
        fix = f'href="/installer/{request_id}/identifier"' in response.text
        assert fix  # offered always while it waits; first thing when the device was not found
        assert ('class="button" href="/installer/' in response.text) == (
            reason == "device_not_found"
        )


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_the_installer_fixes_the_identifier(
    app: Flask, ian: FlaskClient, headers: dict[str, str]
) -> None:
    request_id = install(ian)
    fail_second_step(app, request_id, "device_not_found")
    path = f"/installer/{request_id}/identifier"
    page = ian.get(path, headers=headers)
    assert page.status_code == 200 and AUDI_VIN in page.text
    bad = ian.post(path, data={"vin": "WAUZZZ"}, headers=headers)
    assert bad.status_code == 422
    assert "vin" in field_errors(bad) and 'value="WAUZZZ"' in bad.text
    assert get_request(app, request_id).information == {"vin": AUDI_VIN}
    new_vin = "WAUZZZ8V0KA000001"
    response = ian.post(path, data={"vin": new_vin}, headers=headers)
    assert path_of(response) == f"/installer/{request_id}"
    request = get_request(app, request_id)
    assert request.information == {"vin": new_vin}
    [corrected] = events_of(app, request_id, "information_corrected")
    assert corrected == {"before": {"vin": AUDI_VIN}, "after": {"vin": new_vin}}
    fixed = ian.get(f"/installer/{request_id}")
    page = text(fixed)
    assert "Saved." in page
    assert f"changed to {new_vin} since; that one has not been tried yet." in page
    # The step's notice no longer asks for the fix just made.
    assert "The identifier is fixed: the owner can try the step again from the same link." in page
    assert "Check the identifier with the owner" not in page
    assert 'class="button" href="/installer/' not in fixed.text


def test_a_finished_request_offers_no_fix(app: Flask, ian: FlaskClient) -> None:
    request_id = install(ian)
    ian.post(f"/installer/{request_id}/identifier", data={"vin": "WAUZZZ8V0KA000001"})
    with in_db(app) as session:
        cancel_request(session.get(OnboardingRequest, request_id), SYSTEM)
        session.commit()
    page = ian.get(f"/installer/{request_id}")
    assert f"/installer/{request_id}/identifier" not in page.text
    response = ian.post(f"/installer/{request_id}/identifier", data={"vin": AUDI_VIN})
    assert path_of(response) == f"/installer/{request_id}"
    assert get_request(app, request_id).information == {"vin": "WAUZZZ8V0KA000001"}


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_an_unfinished_start_is_the_installers_and_can_be_discarded(
    app: Flask, ian: FlaskClient, headers: dict[str, str]
) -> None:
    draft = start(ian, key="draft")
    sent = install(ian, key="sent")
    home = text(ian.get("/installer", headers=headers))
    assert "Your unfinished start" in home
    assert "You have not finished it: continue, or discard it." in home
    assert "Your answers" not in home and "Customer not given" not in home
    assert home.count("Discard") == 1

    confirm = ian.get(f"/installer/{draft}/discard", headers=headers)
    assert confirm.status_code == 200
    assert "Discard this unfinished installation?" in text(confirm)
    assert get_request(app, draft).status == Status.DRAFT  # asking changes nothing
    response = ian.post(f"/installer/{draft}/discard", headers=headers)
    assert path_of(response) == "/installer"
    request = get_request(app, draft)
    assert request.status == Status.CANCELED
    assert events_of(app, draft, "cancel_reason") == [{"reason": "discarded by the installer"}]
    home = text(ian.get("/installer"))
    assert "was discarded" in home and "Your unfinished start" not in home
    assert path_of(ian.post(f"/installer/{draft}/discard")) == "/installer"  # again: no change

    refused = ian.post(f"/installer/{sent}/discard", headers=headers)
    assert path_of(refused) == f"/installer/{sent}"
    assert get_request(app, sent).status == Status.PENDING


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_details_from_a_tab_that_missed_a_device_change_are_not_lost(
    app: Flask, ian: FlaskClient, headers: dict[str, str]
) -> None:
    request_id = start(ian)
    tab_b = ian.get(f"/installer/{request_id}/details")
    assert 'name="rendered_for" type="hidden" value="EV/Audi"' in tab_b.text
    # Tab A: the device becomes a Xenn meter.
    ian.post(f"/installer/{request_id}/device", data={"device": "RetrofitMeter/Xenn"})
    # Tab B: the VIN and the customer, for the Audi it still shows.
    data = {**CUSTOMER, "vin": AUDI_VIN, "collective": "none", "rendered_for": "EV/Audi"}
    response = ian.post(f"/installer/{request_id}/details", data=data, headers=headers)
    assert response.status_code == 422
    page = text(response)
    assert "This installation changed in another tab" in page
    assert AUDI_VIN in page  # said back, not silently dropped
    assert 'value="Jan Peeters"' in response.text
    assert 'name="rendered_for" type="hidden" value="RetrofitMeter/Xenn"' in response.text
    request = get_request(app, request_id)
    assert request.customer_name is None and request.information == {}
    # Submitted again from the page as it is now, it saves.
    again = {**data, "reference": XENN_REFERENCE, "rendered_for": "RetrofitMeter/Xenn"}
    del again["vin"]
    assert path_of(ian.post(f"/installer/{request_id}/details", data=again)) == (
        f"/installer/{request_id}/check"
    )


def test_the_error_summary_follows_the_fields(app: Flask, ian: FlaskClient) -> None:
    request_id = start(ian)
    bad = {"vin": "X", "customer_name": "", "customer_email": "jan@", "customer_mobile": "1"}
    response = ian.post(f"/installer/{request_id}/details", data=bad)
    summary = re.findall(r'<li><a href="#([^"]+)">', response.text)
    assert summary == ["vin", "customer_name", "customer_email", "customer_mobile"]


def test_the_group_defaults_to_none_and_only_where_there_are_groups(
    app: Flask, world: World, ian: FlaskClient
) -> None:
    request_id = start(ian)
    page = ian.get(f"/installer/{request_id}/details").text
    checked = re.search(
        r'<input[^>]*checked[^>]*name="collective"[^>]*>|<input[^>]*name="collective"[^>]*checked[^>]*>',
        page,
    )
    assert checked and 'value="none"' in checked.group(0)
    data = {**CUSTOMER, "vin": AUDI_VIN}  # no group chosen: "No group"
    assert path_of(ian.post(f"/installer/{request_id}/details", data=data)) == (
        f"/installer/{request_id}/check"
    )
    assert get_request(app, request_id).collective_id is None
    with in_db(app) as session:
        session.execute(delete(Collective).where(Collective.tenant_id == world.acme_id))
        session.commit()
    other = start(ian, key="other")
    assert 'name="collective"' not in ian.get(f"/installer/{other}/details").text


def test_connected_shows_the_entity_and_since_when(app: Flask, ian: FlaskClient) -> None:
    request_id = install(ian, "RetrofitMeter/Xenn")
    owner = owner_link(app, request_id)
    accept_terms(owner, request_id)
    pair(owner, request_id, PAIRING_CODE)
    for response in (
        ian.get(f"/installer/{request_id}"),
        ian.get(f"/installer/{request_id}/status", headers=HX),
    ):
        page = text(response)
        assert f"Identifier {XENN_REFERENCE}" in page
        assert "Connected since" in page
