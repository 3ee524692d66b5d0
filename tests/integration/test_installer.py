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
from sqlalchemy import select

from app.consent.links import consent_url
from app.models import ConsentMessage, OnboardingRequest, Role, Tenant, User
from app.onboarding.states import Door, Status, StepStatus
from app.onboarding.steps import current_step
from tests.integration.helpers import (
    AUDI_VIN,
    HX,
    PAIRING_CODE,
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
    assert "Waiting on: Agree to share" in page or "Waiting on:" in page
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
