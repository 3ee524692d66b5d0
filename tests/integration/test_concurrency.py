"""Fifty calls of one state change at once: exactly one changes it, the rest get an
idempotent answer, and nobody gets a 500.

Each call runs in its own thread with its own test client, so each has its own request
context and database session, as with a threaded or multi-worker server. On PostgreSQL
(TEST_DATABASE_URL, CI's second pass) the fifty start together at a barrier. SQLite
serialises writers on one file lock, and a reader upgrading to a writer fails at once
rather than waiting: there the same fifty calls run one after another, which still
checks that the repeats are answered as repeats.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.consent import crypto
from app.consent.providers import Provider
from app.extensions import db
from app.models import (
    ApiKey,
    ConsentStep,
    Entity,
    Event,
    IdempotencyRecord,
    OnboardingRequest,
    ProviderGrant,
    Tenant,
)
from app.onboarding import steps
from app.onboarding.audit import OWNER_LINK
from tests.integration.helpers import (
    AUDI_VIN,
    PAIRING_CODE,
    XENN_REFERENCE,
    World,
    accept_terms,
    in_db,
    signed_in_client,
    url,
    walk_to_check,
)

FAN_OUT = 50
API = "/api/v1"


def on_postgresql(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def race(app: Flask, call: Callable[[int], Any], fan_out: int = FAN_OUT) -> list[Any]:
    """`call(i)` for i in range(fan_out), each in its own thread; their results in order."""
    together = on_postgresql(app)
    barrier = threading.Barrier(fan_out)
    one_at_a_time = threading.Lock()
    results: list[Any] = [None] * fan_out
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            if together:
                results[index] = call(index)
            else:
                with one_at_a_time:
                    results[index] = call(index)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(fan_out)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    return results


def statuses(responses: list[Any]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def events(app: Flask, request_id: uuid.UUID | str, kind: str) -> list[dict[str, Any]]:
    with in_db(app) as session:
        return list(
            session.scalars(
                select(Event.data).where(
                    Event.request_id == uuid.UUID(str(request_id)), Event.kind == kind
                )
            )
        )


@pytest.fixture
def api_key(app: Flask, world: World) -> dict[str, str]:
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, world.acme_id), "race")
        session.add(key)
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def create(app: Flask, headers: dict[str, str], **body: Any) -> str:
    answer = app.test_client().post(
        f"{API}/onboarding/entities",
        json={"type": "EV", "manufacturer": "Audi", "vin": AUDI_VIN, **body},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json["id"])


def clients_like(app: Flask, signed_in: FlaskClient) -> Callable[[], FlaskClient]:
    """New test clients carrying `signed_in`'s session cookie (a client is not thread-safe)."""
    cookie = signed_in.get_cookie("session")
    assert cookie is not None

    def new() -> FlaskClient:
        client = app.test_client()
        client.set_cookie("session", cookie.value)
        return client

    return new


# ---------------------------------------------------------------- the API


def test_fifty_creates_with_one_idempotency_key_make_one_request(
    app: Flask, api_key: dict[str, str]
) -> None:
    headers = {**api_key, "Idempotency-Key": "order-4711"}
    body = {"type": "EV", "manufacturer": "Audi", "vin": AUDI_VIN}
    answers = race(
        app,
        lambda _i: app.test_client().post(f"{API}/onboarding/entities", json=body, headers=headers),
    )
    assert statuses(answers) == {201: FAN_OUT}, [a.text for a in answers if a.status_code != 201]
    assert len({a.json["id"] for a in answers}) == 1
    with in_db(app) as session:
        assert session.scalar(select(func.count()).select_from(OnboardingRequest)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_fifty_cancels_cancel_once_and_all_answer_canceled(
    app: Flask, api_key: dict[str, str]
) -> None:
    request_id = create(app, api_key)
    answers = race(
        app,
        lambda i: app.test_client().post(
            f"{API}/onboarding/entities/{request_id}/cancel",
            json={"reason": f"caller {i}"},
            headers=api_key,
        ),
    )
    assert statuses(answers) == {200: FAN_OUT}, [a.text for a in answers if a.status_code != 200]
    assert {a.json["status"] for a in answers} == {"Canceled"}
    assert [e["to"] for e in events(app, request_id, "status")] == ["Pending", "Canceled"]
    assert len(events(app, request_id, "cancel_reason")) == 1


def test_fifty_offboards_offboard_once_and_revoke_once(
    app: Flask, api_key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = create(app, api_key)
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(request_id))
        for step in list(onboarding.steps):
            steps.complete_step(onboarding, step, OWNER_LINK, {})
        step = session.scalars(
            select(ConsentStep).where(ConsentStep.request_id == onboarding.id)
        ).first()
        session.add(ProviderGrant(step=step, provider="audi", access_token=crypto.encrypt("t")))
        session.commit()
        entity_id = str(onboarding.entity.id)
    revoked: list[str] = []
    monkeypatch.setattr(Provider, "revoke", lambda self, token: revoked.append(token))

    answers = race(
        app,
        lambda i: app.test_client().post(
            f"{API}/offboarding/entities",
            json={"entityId": entity_id, "reason": f"reason {i}"},
            headers=api_key,
        ),
    )
    assert statuses(answers) == {201: 1, 200: FAN_OUT - 1}, [a.text for a in answers]
    assert len({a.json["id"] for a in answers}) == 1
    winner = next(a for a in answers if a.status_code == 201)
    # Every answer tells the one offboarding that happened, with its reason.
    assert {a.json["data"]["reason"] for a in answers} == {winner.json["data"]["reason"]}
    assert len(events(app, request_id, "offboarded")) == 1
    assert revoked == ["t"]


def test_fifty_first_reads_of_an_overdue_request_all_read_it_as_expired(
    app: Flask, api_key: dict[str, str]
) -> None:
    request_id = create(app, api_key)
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(request_id))
        onboarding.created_at -= app.config["REQUEST_EXPIRES_AFTER"] + timedelta(minutes=1)
        session.commit()
    answers = race(
        app,
        lambda _i: app.test_client().get(
            f"{API}/onboarding/entities/{request_id}", headers=api_key
        ),
    )
    assert statuses(answers) == {200: FAN_OUT}, [a.text for a in answers if a.status_code != 200]
    assert {(a.json["status"], a.json["failureReason"]) for a in answers} == {("Failed", "expired")}
    assert [e["to"] for e in events(app, request_id, "status")] == ["Pending", "Failed"]


# ---------------------------------------------------------------- the wizard


def test_fifty_first_views_of_an_overdue_draft_in_the_wizard_never_fail(
    app: Flask, world: World
) -> None:
    owner = signed_in_client(app, world.alice)
    request_id = walk_to_check(
        owner, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, request_id)
        onboarding.created_at -= app.config["REQUEST_EXPIRES_AFTER"] + timedelta(minutes=1)
        session.commit()
    new_client = clients_like(app, owner)
    answers = race(app, lambda _i: new_client().get(url(request_id, "check")))
    assert all(a.status_code < 500 for a in answers), statuses(answers)
    assert [e["to"] for e in events(app, request_id, "status")] == ["Failed"]


def test_fifty_submits_send_the_request_once(app: Flask, world: World) -> None:
    owner = signed_in_client(app, world.alice)
    request_id = walk_to_check(
        owner, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )
    new_client = clients_like(app, owner)
    answers = race(app, lambda _i: new_client().post(url(request_id, "check")))
    assert all(a.status_code in (302, 303) for a in answers), statuses(answers)
    assert [e["to"] for e in events(app, request_id, "status")] == ["Pending"]


def test_fifty_completions_of_the_last_step_make_one_entity(app: Flask, world: World) -> None:
    owner = signed_in_client(app, world.alice)
    request_id = walk_to_check(
        owner, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )
    owner.post(url(request_id, "check"))
    accept_terms(owner, request_id)
    new_client = clients_like(app, owner)
    answers = race(
        app, lambda _i: new_client().post(url(request_id, "steps/2"), data={"code": PAIRING_CODE})
    )
    assert all(a.status_code in (302, 303) for a in answers), statuses(answers)
    # The winner goes to done; the others back to a page of the request, where it stands.
    locations = [a.headers["Location"] for a in answers]
    assert all(f"/onboarding/{request_id}" in where for where in locations), locations
    with in_db(app) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Entity).where(Entity.request_id == request_id)
            )
            == 1
        )
        assert db.session.get(OnboardingRequest, request_id).status == "Succeeded"
    assert len(events(app, request_id, "entity_created")) == 1
