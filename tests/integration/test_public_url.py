"""Absolute links come from PUBLIC_URL, never from the Host header a caller sends."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from app.consent.providers import get_provider
from app.models import ApiKey, Role, Tenant
from tests.integration.helpers import (
    AUDI_VIN,
    add_user,
    in_db,
    path_of,
    sent_emails,
    signed_in_client,
)
from tests.qr_reading import read_svg_qr, svgs_in

EVIL = "evil.example"
PUBLIC = "http://localhost"  # the tests' PUBLIC_URL (tests/conftest.py)


@pytest.fixture
def answers(app: Flask) -> list[str]:
    """Every request carries `Host: evil.example`; what the app answers is kept here."""
    seen: list[str] = []
    inner = app.wsgi_app

    def hostile(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["HTTP_HOST"] = EVIL
        environ["SERVER_NAME"] = EVIL

        def keep_headers(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            seen.extend(f"{name}: {value}" for name, value in headers)
            return start_response(status, headers, *rest)

        body = b"".join(inner(environ, keep_headers))
        seen.append(body.decode("utf-8", "replace"))
        return [body]

    app.wsgi_app = hostile  # type: ignore[method-assign]
    return seen


def test_api_links_ignore_the_host_header(app: Flask, client, world, answers) -> None:
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, world.acme_id), "partner")
        session.add(key)
        session.commit()
    headers = {"Authorization": f"Bearer {secret}"}

    created = client.post(
        "/api/v1/onboarding/entities",
        json={"type": "EV", "manufacturer": "Audi", "vin": AUDI_VIN},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    action = created.json["action"]
    assert action["redirectLink"].startswith(f"{PUBLIC}/c/")
    assert action["documentationLink"] == f"{PUBLIC}/api/v1/docs"
    client.get(f"/api/v1/onboarding/requests/{created.json['id']}", headers=headers)
    client.get("/api/v1/docs")

    assert answers
    assert not [answer for answer in answers if EVIL in answer]


def test_hand_over_link_qr_code_and_email_ignore_the_host_header(
    app: Flask, world, answers
) -> None:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "ian@acme.example", Role.INSTALLER)
        session.commit()
    ian = signed_in_client(app, "ian@acme.example")
    started = ian.post("/installer/new", data={"device": "EV/Audi", "start_key": "k"})
    request_path = path_of(started).removesuffix("/details")
    details = ian.post(
        f"{request_path}/details",
        data={
            "vin": AUDI_VIN,
            "customer_name": "Jan Peeters",
            "customer_email": "jan@example.com",
            "collective": "none",
        },
    )
    assert path_of(details) == f"{request_path}/check"
    assert path_of(ian.post(f"{request_path}/check")) == request_path

    page = ian.get(request_path)
    [link] = re.findall(r'class="qr-code__url code">([^<]+)<', page.text)
    assert html.unescape(link).startswith(f"{PUBLIC}/c/")
    [svg] = [s for s in svgs_in(page.text) if "qr-code" in s]
    assert read_svg_qr(svg).startswith(f"{PUBLIC}/c/")
    key = re.search(r'name="email-submission_key" type="hidden" value="([^"]+)"', page.text)
    assert key
    sent = ian.post(
        f"{request_path}/send",
        data={
            "email-channel": "email",
            "email-to": "jan@example.com",
            "email-submission_key": key.group(1),
        },
    )
    assert path_of(sent) == request_path

    [email] = sent_emails(app)
    assert f"{PUBLIC}/c/" in email.body
    assert EVIL not in email.body
    assert not [answer for answer in answers if EVIL in answer]


def test_oauth_redirect_uri_ignores_the_host_header(app: Flask) -> None:
    with app.test_request_context("/", base_url=f"http://{EVIL}"):
        provider = get_provider("audi")
        authorize = provider.authorization_url("state-1", "v" * 64)
        redirect_uri, callback_url = provider.redirect_uri, provider.callback_url

    assert redirect_uri == f"{PUBLIC}/consent/callback/audi"
    assert authorize.startswith(f"{PUBLIC}/sandbox/audi/authorize?")
    assert parse_qs(urlsplit(authorize).query)["redirect_uri"] == [redirect_uri]
    assert callback_url.startswith(f"{PUBLIC}/")


def test_links_follow_public_url_with_its_scheme(app: Flask) -> None:
    app.config["PUBLIC_URL"] = "https://onboarding.example"
    with app.test_request_context("/", base_url=f"http://{EVIL}:8080"):
        assert get_provider("audi").redirect_uri == (
            "https://onboarding.example/consent/callback/audi"
        )
