"""Sign-in against guessing and stolen cookies: failed tries limited per account and per
address, a new session (and CSRF token) at sign-in, sign-out that ends the session for good."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.helpers import (
    HX,
    PASSWORD,
    csrf_token,
    error_summary,
    make_world,
    path_of,
    sign_in,
)

TOO_MANY = "Too many failed sign-ins."


@pytest.fixture
def limits(app: Flask) -> None:
    app.config["SIGN_IN_ACCOUNT_LIMIT"] = "3 per minute"
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "5 per minute"


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def try_password(client: FlaskClient, email: str, password: str = "wrong", **kwargs):
    return client.post("/auth/login", data={"email": email, "password": password}, **kwargs)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_failed_sign_ins_to_one_account_are_limited(app, world, limits, headers):
    client = from_address(app, "192.0.2.1")
    for _ in range(3):
        assert try_password(client, world.alice).status_code == 422

    # Even the right password waits now: the answer says nothing about it.
    blocked = try_password(client, world.alice, PASSWORD, headers=headers)

    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert error_summary(blocked) == ["Too many failed sign-ins. Wait 1 minute, then try again."]
    assert f'value="{world.alice}"' in blocked.text  # what was typed stays
    # From another address too: the account is what is being guessed.
    assert try_password(from_address(app, "192.0.2.2"), world.alice, PASSWORD).status_code == 429
    # Another account is not held up.
    assert path_of(sign_in(client, world.bob)) == "/"


def test_failed_sign_ins_from_one_address_are_limited(app, world, limits):
    client = from_address(app, "192.0.2.1")
    for n in range(5):
        assert try_password(client, f"guess{n}@acme.example").status_code == 422

    assert try_password(client, world.alice, PASSWORD).status_code == 429
    assert TOO_MANY in try_password(client, world.bob, PASSWORD).text
    # Someone else, elsewhere, signs in as usual.
    assert path_of(sign_in(from_address(app, "192.0.2.9"), world.alice)) == "/"


def test_successful_sign_ins_are_not_counted(app, world, limits):
    client = from_address(app, "192.0.2.1")
    for _ in range(6):
        sign_in(client, world.alice)
        client.post("/auth/logout")

    assert path_of(sign_in(client, world.alice)) == "/"


@pytest.mark.csrf
def test_sign_in_starts_a_new_session_with_a_new_csrf_token(client, world):
    before = csrf_token(client.get("/auth/login"))
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["consent_links"] = [str(uuid.uuid4())]

    response = client.post(
        "/auth/login", data={"email": world.alice, "password": PASSWORD, "csrf_token": before}
    )

    assert path_of(response) == "/"
    after = csrf_token(client.get("/"))
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "consent_links" not in session
    # The old token no longer signs anything.
    assert client.post("/auth/logout", data={"csrf_token": before}).status_code == 400
    assert path_of(client.post("/auth/logout", data={"csrf_token": after})) == "/auth/login"


def test_a_session_cookie_replayed_after_sign_out_opens_nothing(app, client, world):
    sign_in(client, world.alice)
    stolen = client.get_cookie("session")
    assert stolen is not None

    client.post("/auth/logout")
    replay = app.test_client()
    replay.set_cookie("session", stolen.value)

    assert path_of(replay.get("/")) == "/auth/login"
    assert replay.get("/onboarding/new").status_code == 302


def test_sign_out_ends_every_session_of_the_account(app, world):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, world.alice)
    sign_in(phone, world.alice)

    laptop.post("/auth/logout")

    assert path_of(phone.get("/")) == "/auth/login"


def test_sign_out_drops_the_consent_links_this_browser_opened(client, world):
    sign_in(client, world.alice)
    with client.session_transaction() as session:
        session["consent_links"] = [str(uuid.uuid4())]

    client.post("/auth/logout")

    with client.session_transaction() as session:
        assert "consent_links" not in session


def test_behind_a_proxy_each_client_address_counts_on_its_own(production_app):
    app = production_app(
        PROXY_HOPS=1,
        SIGN_IN_ADDRESS_LIMIT="2 per minute",
        SIGN_IN_ACCOUNT_LIMIT="50 per minute",
        WTF_CSRF_ENABLED=False,
    )
    make_world(app)
    proxy = from_address(app, "10.0.0.1")  # every request arrives from the proxy
    host = {"Host": "onboarding.example", "X-Forwarded-Proto": "https"}
    first = {**host, "X-Forwarded-For": "198.51.100.1"}
    second = {**host, "X-Forwarded-For": "198.51.100.2"}
    for n in range(2):
        assert try_password(proxy, f"guess{n}@acme.example", headers=first).status_code == 422

    assert try_password(proxy, "guess9@acme.example", headers=first).status_code == 429
    assert try_password(proxy, "guess9@acme.example", headers=second).status_code == 422
