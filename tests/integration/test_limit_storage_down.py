"""When the rate limit storage (Redis in production) cannot be reached, people can still
sign in and partners can still call the API, and the limits still hold, counted in each
process until the storage answers again. Never a 500."""

from __future__ import annotations

import pytest
from flask import Flask

from app.api import limits
from app.models import ApiKey, Tenant
from tests.integration.helpers import PASSWORD, in_db, path_of, sign_in

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def storage_down(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = NOBODY_LISTENS
    app.config["SIGN_IN_ACCOUNT_LIMIT"] = "3 per minute"
    limits.init_app(app)  # counts in the storage configured now


def test_sign_in_goes_on_and_failures_are_still_limited(app, world, storage_down):
    client = app.test_client()
    assert path_of(sign_in(client, world.alice)) == "/"

    guesser = app.test_client()

    def try_password(password: str):
        return guesser.post("/auth/login", data={"email": world.bob, "password": password})

    for _ in range(3):
        assert try_password("wrong").status_code == 422
    blocked = try_password(PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-ins." in blocked.text


def test_the_api_answers_and_still_limits(app, client, world, storage_down):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, world.acme_id), "partner")
        session.add(key)
        session.commit()
    headers = {"Authorization": f"Bearer {secret}"}

    for _ in range(2):
        answer = client.get("/api/v1/collectives", headers=headers)
        assert answer.status_code == 200
        assert "X-RateLimit-Remaining" in answer.headers
    assert client.get("/api/v1/collectives", headers=headers).status_code == 429
