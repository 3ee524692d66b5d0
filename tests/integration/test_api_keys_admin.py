"""API keys: an admin lists, creates (shown once) and revokes them; so does the command line."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app.models import ApiKey, Role, Tenant
from app.models.user import hash_api_key
from tests.integration.helpers import add_user, csrf_token, in_db, signed_in_client

PAGE = "/admin/api-keys"


@pytest.fixture
def world(app: Flask, world):
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "ada@acme.example", Role.ADMIN)
        add_user(session, session.get(Tenant, world.other_id), "oscar@other.example", Role.ADMIN)
        session.commit()
    return world


def call_api(app: Flask, secret: str):
    return app.test_client().get(
        "/api/v1/collectives", headers={"Authorization": f"Bearer {secret}"}
    )


def secret_on(page_text: str) -> str:
    match = re.search(r'id="new-api-key">(eo_[\w-]+)</code>', page_text)
    assert match, "no new key on the page"
    return match.group(1)


def test_an_admin_creates_a_key_that_is_shown_once_and_works(app: Flask, world) -> None:
    admin = signed_in_client(app, "ada@acme.example")
    assert "There are no API keys yet." in admin.get(PAGE).text

    created = admin.post(PAGE, data={"name": "Partner app"})

    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    secret = secret_on(created.text)
    listed = admin.get(PAGE).text
    assert "Partner app" in listed
    assert secret not in listed and secret[:10] in listed
    with in_db(app) as session:
        key = session.scalar(select(ApiKey))
        assert key.tenant_id == world.acme_id
        assert key.key_hash == hash_api_key(secret)
    api = call_api(app, secret)
    assert api.status_code == 200


def test_a_key_needs_a_name(app: Flask, world) -> None:
    admin = signed_in_client(app, "ada@acme.example")
    response = admin.post(PAGE, data={"name": ""})
    assert response.status_code == 422
    assert "Enter what the key is for" in response.text


def test_revoking_a_key_stops_it_at_once(app: Flask, world) -> None:
    admin = signed_in_client(app, "ada@acme.example")
    secret = secret_on(admin.post(PAGE, data={"name": "Old app"}).text)
    with in_db(app) as session:
        key_id = session.scalar(select(ApiKey.id))
    assert call_api(app, secret).status_code == 200  # this worker now trusts the key

    confirm = admin.get(f"{PAGE}/{key_id}/revoke")
    assert confirm.status_code == 200 and "Yes, revoke the key" in confirm.text
    assert "Active" in admin.get(PAGE).text  # asking revoked nothing
    response = admin.post(f"{PAGE}/{key_id}/revoke")

    assert response.status_code == 302
    assert "Revoked" in admin.get(PAGE).text
    api = call_api(app, secret)
    assert api.status_code == 401


def test_only_admins_and_only_their_own_tenants_keys(app: Flask, world) -> None:
    ada = signed_in_client(app, "ada@acme.example")
    ada.post(PAGE, data={"name": "Acme app"})
    with in_db(app) as session:
        key_id = session.scalar(select(ApiKey.id))

    assert signed_in_client(app, "alice@acme.example").get(PAGE).status_code == 404
    assert app.test_client().get(PAGE).status_code == 302  # to sign in
    oscar = signed_in_client(app, "oscar@other.example")
    assert "Acme app" not in oscar.get(PAGE).text
    assert oscar.post(f"{PAGE}/{key_id}/revoke").status_code == 404
    with in_db(app) as session:
        assert session.get(ApiKey, key_id).revoked_at is None


@pytest.mark.csrf
def test_the_forms_carry_csrf(app: Flask, world) -> None:
    admin = app.test_client()
    login = admin.get("/auth/login")
    admin.post(
        "/auth/login",
        data={
            "email": "ada@acme.example",
            "password": "correct horse battery",
            "csrf_token": csrf_token(login),
        },
    )
    assert admin.post(PAGE, data={"name": "No token"}).status_code == 400
    page = admin.get(PAGE)
    created = admin.post(PAGE, data={"name": "With token", "csrf_token": csrf_token(page)})
    assert created.status_code == 201


def flask(runner: FlaskCliRunner, *args: str):
    """Run `flask ARGS` as the `flask` command does: inside the app's context."""
    with runner.app.app_context():
        return runner.invoke(args=list(args))


def test_the_command_line_lists_and_revokes_keys(app: Flask, runner: FlaskCliRunner, world) -> None:
    created = flask(runner, "api-keys", "create", "--tenant", "acme", "--name", "CLI app")
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    prefix = secret[:10]

    listed = flask(runner, "api-keys", "list", "--tenant", "acme")
    assert listed.exit_code == 0
    assert f"{prefix}…" in listed.output and "active" in listed.output
    assert secret not in listed.output
    assert "no API keys" in flask(runner, "api-keys", "list", "--tenant", "other").output

    assert flask(runner, "api-keys", "revoke", prefix, "--tenant", "other").exit_code != 0
    revoked = flask(runner, "api-keys", "revoke", f"{prefix}…", "--tenant", "acme")
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in flask(runner, "api-keys", "list", "--tenant", "acme").output
    api = call_api(app, secret)
    assert api.status_code == 401
