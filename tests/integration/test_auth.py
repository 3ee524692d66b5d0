"""Signing in and out: one message for any failure, no open redirect, safe cookies, CSRF."""

import html
import re
from urllib.parse import quote

import pytest

from app.models import User
from tests.integration.helpers import (
    HX,
    PASSWORD,
    TITLE_SUFFIX,
    csrf_token,
    error_summary,
    field_errors,
    in_db,
    path_of,
    sign_in,
    title_of,
)

NOT_RIGHT = "The email address or the password is not right."


def login_form_action(page) -> str:
    match = re.search(r'<form method="post" action="(/auth/login[^"]*)"', page.text)
    assert match, "no sign-in form"
    return html.unescape(match.group(1))


def test_login_page(client):
    page = client.get("/auth/login")

    assert page.status_code == 200
    assert title_of(page) == "Sign in" + TITLE_SUFFIX
    assert 'name="email"' in page.text
    assert 'name="password"' in page.text


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client, world):
    response = client.get("/onboarding/new")

    assert path_of(response) == "/auth/login?next=%2Fonboarding%2Fnew"
    assert path_of(client.get("/")) == "/auth/login"

    after = client.post(
        "/auth/login?next=%2Fonboarding%2Fnew", data={"email": world.alice, "password": PASSWORD}
    )
    assert path_of(after) == "/onboarding/new"


def test_good_sign_in_opens_the_home_page(client, world):
    assert path_of(sign_in(client, world.alice)) == "/"

    home = client.get("/")
    assert home.status_code == 200
    assert "Alice" in home.text
    assert "Sign out" in home.text


def test_email_is_matched_whatever_its_case_and_spaces(client, world):
    response = client.post(
        "/auth/login", data={"email": "  ALICE@Acme.Example ", "password": PASSWORD}
    )

    assert path_of(response) == "/"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("alice@acme.example", "wrong password"),
        ("nobody@acme.example", PASSWORD),
        ("alice@acme.example", PASSWORD.upper()),
    ],
    ids=["wrong password", "unknown email", "password in another case"],
)
def test_failed_sign_in_says_the_same_whatever_was_wrong(client, world, email, password):
    response = client.post("/auth/login", data={"email": email, "password": password})

    assert response.status_code == 422
    assert title_of(response).startswith("Error: Sign in")
    assert error_summary(response) == [NOT_RIGHT]
    assert f'value="{email}"' in response.text  # the email typed is kept
    assert password not in response.text  # the password is not sent back
    assert path_of(client.get("/")) == "/auth/login"  # still signed out


def test_wrong_password_and_unknown_email_answer_alike(client, world):
    wrong = client.post("/auth/login", data={"email": world.alice, "password": "nope"})
    unknown = client.post("/auth/login", data={"email": "zed@acme.example", "password": "nope"})

    assert wrong.status_code == unknown.status_code == 422
    assert error_summary(wrong) == error_summary(unknown) == [NOT_RIGHT]

    # The same page but for the email typed (and the CSRF token, signed with the time).
    def page_of(response, email):
        text = response.text.replace(email, "EMAIL")
        return re.sub(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]+', r"\1", text)

    assert page_of(wrong, world.alice) == page_of(unknown, "zed@acme.example")


def test_deactivated_user_cannot_sign_in(app, client, world):
    with in_db(app) as session:
        session.query(User).filter_by(email=world.alice).one().active = False
        session.commit()

    response = client.post("/auth/login", data={"email": world.alice, "password": PASSWORD})

    assert response.status_code == 422
    assert error_summary(response) == [NOT_RIGHT]


def test_empty_fields_are_asked_for(client, world):
    response = client.post("/auth/login", data={"email": "", "password": ""})

    assert response.status_code == 422
    assert error_summary(response) == ["Enter your email address.", "Enter your password."]
    assert field_errors(response) == {
        "email": "Enter your email address.",
        "password": "Enter your password.",
    }


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "//evil.example/onboarding/new",
        "https://evil.example",
        "http://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\tevil.example",
        "https:/evil.example",
        "evil.example",
    ],
)
def test_next_never_leads_off_site(client, world, next_url):
    login_url = f"/auth/login?next={quote(next_url, safe='')}"

    page = client.get(login_url)
    assert login_form_action(page) == "/auth/login"  # the bad `next` is dropped, not carried

    response = client.post(login_url, data={"email": world.alice, "password": PASSWORD})
    assert path_of(response) == "/"

    # Already signed in: the login page sends home, not to `next`.
    assert path_of(client.get(login_url)) == "/"


def test_a_local_next_is_kept(client, world):
    page = client.get("/auth/login?next=/onboarding/new%3Fa%3D1")
    assert login_form_action(page) == "/auth/login?next=/onboarding/new?a%3D1"

    response = client.post(
        "/auth/login?next=/onboarding/new%3Fa%3D1",
        data={"email": world.alice, "password": PASSWORD},
    )
    assert path_of(response) == "/onboarding/new?a=1"
    # Already signed in: straight on.
    assert path_of(client.get("/auth/login?next=/onboarding/new")) == "/onboarding/new"


def test_a_failed_sign_in_keeps_a_local_next(client, world):
    response = client.post(
        "/auth/login?next=/onboarding/new", data={"email": world.alice, "password": "nope"}
    )

    assert response.status_code == 422
    assert login_form_action(response) == "/auth/login?next=/onboarding/new"


def test_sign_out_is_post_only(client, world):
    sign_in(client, world.alice)

    assert client.get("/auth/logout").status_code == 405
    assert client.get("/").status_code == 200  # still signed in

    response = client.post("/auth/logout")
    assert path_of(response) == "/auth/login"
    assert "You are signed out." in client.get("/auth/login").text
    assert path_of(client.get("/")) == "/auth/login"


def test_sign_out_when_signed_out_asks_to_sign_in(client, world):
    assert path_of(client.post("/auth/logout")).startswith("/auth/login")


def test_session_cookie_is_http_only_and_same_site_lax(client, world):
    response = sign_in(client, world.alice)

    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    attributes = {
        part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]
    }
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"


def test_login_page_answers_htmx_with_a_fragment(client):
    page = client.get("/auth/login", headers=HX)

    assert page.status_code == 200
    assert "<html" not in page.text
    assert f"<title>Sign in{TITLE_SUFFIX}</title>" in page.text
    assert "HX-Request" in page.headers["Vary"]


# ---------------------------------------------------------------- CSRF


@pytest.mark.csrf
def test_sign_in_without_a_csrf_token_is_refused(client, world):
    response = client.post("/auth/login", data={"email": world.alice, "password": PASSWORD})

    assert response.status_code == 400
    assert path_of(client.get("/")) == "/auth/login"


@pytest.mark.csrf
def test_sign_in_with_a_wrong_csrf_token_is_refused(client, world):
    client.get("/auth/login")
    response = client.post(
        "/auth/login", data={"email": world.alice, "password": PASSWORD, "csrf_token": "forged"}
    )

    assert response.status_code == 400


@pytest.mark.csrf
def test_sign_in_with_the_csrf_token_works(client, world):
    token = csrf_token(client.get("/auth/login"))

    response = client.post(
        "/auth/login", data={"email": world.alice, "password": PASSWORD, "csrf_token": token}
    )

    assert path_of(response) == "/"


@pytest.mark.csrf
def test_sign_out_without_a_csrf_token_is_refused(client, world):
    token = csrf_token(client.get("/auth/login"))
    client.post(
        "/auth/login", data={"email": world.alice, "password": PASSWORD, "csrf_token": token}
    )

    assert client.post("/auth/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in

    home = client.get("/")
    assert path_of(client.post("/auth/logout", data={"csrf_token": csrf_token(home)})) == (
        "/auth/login"
    )


@pytest.mark.csrf
def test_htmx_post_with_the_csrf_header_passes(client, world):
    token = csrf_token(client.get("/auth/login"))
    client.post(
        "/auth/login", data={"email": world.alice, "password": PASSWORD, "csrf_token": token}
    )
    header_token = csrf_token(client.get("/"))  # the one in <body hx-headers>

    response = client.post("/auth/logout", headers={**HX, "X-CSRFToken": header_token})

    assert path_of(response) == "/auth/login"
    assert path_of(client.get("/")) == "/auth/login"
