"""Production refuses unsafe settings: a public or short SECRET_KEY, sandboxes nobody asked
for, unknown hosts; it sends HSTS. Development and tests start as before, with no settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import create_app
from app.config import DEFAULT_SECRET_KEY, UnsafeConfiguration
from app.consent.providers import get_provider
from tests.integration.conftest import PRODUCTION_URL

ROOT = Path(__file__).resolve().parents[2]
HOST = {"Host": urlsplit(PRODUCTION_URL).netloc}


@pytest.mark.parametrize(
    "key",
    [DEFAULT_SECRET_KEY, "", "short", "x" * 31],
    ids=["the public default", "empty", "short", "31 characters"],
)
def test_production_refuses_a_default_or_short_secret_key(production_app, key):
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY") as refused:
        production_app(SECRET_KEY=key)

    assert "32" in str(refused.value)


def test_production_starts_with_a_long_secret_key(production_app):
    app = production_app(SECRET_KEY="k" * 32)

    assert app.test_client().get("/auth/login", headers=HOST).status_code == 200


def test_production_without_a_secret_key_stops_with_a_message_naming_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "TEST_DATABASE_URL")}
    env.update(APP_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}")
    flask = Path(sys.executable).with_name("flask")

    run = subprocess.run(
        [str(flask), "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode != 0
    assert "SECRET_KEY must be set" in run.stderr


def test_development_starts_with_no_settings_at_all(monkeypatch, tmp_path):
    for name in ("APP_ENV", "SECRET_KEY", "PUBLIC_URL", "SANDBOX_PROVIDERS"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.db'}"})

    assert app.config["SANDBOX_PROVIDERS"] is True
    assert app.config["TRUSTED_HOSTS"] is None
    response = app.test_client().get("/auth/login", headers={"Host": "anything.example"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_production_sends_hsts(production_app):
    response = production_app().test_client().get("/auth/login", headers=HOST)

    assert response.headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains")


def test_production_refuses_unknown_hosts(production_app):
    client = production_app().test_client()

    assert client.get("/auth/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/auth/login", headers=HOST).status_code == 200
    # With its port, as a browser sends it for a non-standard one.
    assert client.get("/auth/login", headers={"Host": "onboarding.example:8443"}).status_code == 200


def test_production_answers_the_hosts_named_in_trusted_hosts(production_app):
    client = production_app(EXTRA_TRUSTED_HOSTS=["10.0.0.7"]).test_client()

    assert client.get("/auth/login", headers={"Host": "10.0.0.7"}).status_code == 200
    assert client.get("/auth/login", headers={"Host": "10.0.0.8"}).status_code == 400


def _sandbox_authorize_path(app) -> str:
    with app.test_request_context():
        provider = get_provider("audi")
        url = provider.authorization_url("state-1", "v" * 64)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_production_has_no_sandbox_providers_unless_asked(production_app):
    app = production_app()
    client = app.test_client()

    assert client.get(_sandbox_authorize_path(app), headers=HOST).status_code == 404
    token = client.post("/sandbox/audi/token", data={"grant_type": "x"}, headers=HOST)
    assert token.status_code == 404
    assert client.post("/sandbox/xenn/pairing", headers=HOST).status_code == 404


def test_production_sandboxes_asked_for_say_so_on_every_page(production_app):
    app = production_app(SANDBOX_PROVIDERS=True)
    client = app.test_client()

    page = client.get(_sandbox_authorize_path(app), headers=HOST)

    assert page.status_code == 200
    assert 'class="sandbox-banner"' in page.text
    assert "Sandbox: a simulation of Audi" in page.text
