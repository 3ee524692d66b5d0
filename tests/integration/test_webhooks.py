"""Webhooks end to end: a real HTTP receiver on a loopback port, a real job consumer (Huey on
SQLite, or Redis when it answers), Standard Webhooks signatures checked with the
`standardwebhooks` package and the secret the API answered once."""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app import create_app
from app.extensions import db
from app.jobs import huey
from app.jobs.tasks import webhook_sweep
from app.models import (
    ApiKey,
    Event,
    OnboardingRequest,
    Tenant,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.onboarding.audit import SYSTEM
from app.onboarding.lifecycle import cancel_request
from app.webhooks.delivery import refusal
from tests.conftest import database_uri_for
from tests.integration.helpers import (
    in_db,
    make_world,
    onboard_xenn,
    pending_request,
    signed_in_client,
)

PROBLEM = "application/problem+json"
REDIS_URL = "redis://127.0.0.1:6379/9"
WAIT = 30  # seconds at most for the consumer to deliver


# ---------------------------------------------------------------- a receiver


@dataclass
class Receiver:
    """An HTTP server on a loopback port that keeps every webhook it gets."""

    fail_first: int = 0
    got: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self.changed:
            status = 500 if len(self.got) < self.fail_first else 204
            self.got.append((dict(request.headers), request.get_data(), status))
            self.changed.notify_all()
        body = "not now" if status == 500 else ""
        return Response(body, status=status)(environ, start_response)

    def wait_for(self, count: int) -> list[tuple[dict[str, str], bytes, int]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.got) >= count, timeout=WAIT), self.got
            return list(self.got)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join()


# ---------------------------------------------------------------- apps and a consumer


def make_app(tmp_path: Path, **config: Any) -> Flask:
    settings = {
        "TESTING": True,
        "SECRET_KEY": "testing",
        "SQLALCHEMY_DATABASE_URI": database_uri_for(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "WEBHOOKS_ALLOW_PRIVATE": True,
        "WEBHOOK_RETRY_DELAYS": (0.1, 0.1, 0.1),
        "PUBLIC_URL": "http://localhost",
    }
    settings.update(config)
    flask_app = create_app(settings)
    with flask_app.app_context():
        db.create_all()
    return flask_app


def drop(flask_app: Flask) -> None:
    with flask_app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """Jobs run inline (immediate mode): for tests about a job's own logic."""
    flask_app = make_app(tmp_path)
    yield flask_app
    drop(flask_app)


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


QUEUES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "redis",
        id="redis",
        marks=pytest.mark.skipif(
            not redis_answers() and os.environ.get("CI") != "true",
            reason="Redis does not answer on 127.0.0.1:6379",
        ),
    ),
]


@pytest.fixture(params=QUEUES)
def queued_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """Jobs go on a real queue (SQLite file, or Redis db 9), run by a real consumer."""
    storage: dict[str, Any] = {"JOBS_IMMEDIATE": False}
    if request.param == "redis":
        storage["REDIS_URL"] = REDIS_URL
    else:
        storage["JOBS_SQLITE_PATH"] = str(tmp_path / "jobs.sqlite3")
    flask_app = make_app(tmp_path, **storage)
    huey.storage.flush_all()  # only this queue's own keys
    consumer = huey.create_consumer(
        workers=2, worker_type="thread", periodic=False, initial_delay=0.05, max_delay=0.2
    )
    consumer._set_signal_handlers = lambda: None  # pytest keeps its own
    consumer.start()
    yield flask_app
    consumer.stop(graceful=True)
    huey.storage.flush_all()
    drop(flask_app)


# ---------------------------------------------------------------- helpers


@dataclass
class Partner:
    client: FlaskClient
    secret: str

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.open(
            f"/api/v1{path}",
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {self.secret}"},
        )


def partner_of(flask_app: Flask, tenant_id: int) -> Partner:
    with in_db(flask_app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, tenant_id), "partner")
        session.add(key)
        session.commit()
    return Partner(flask_app.test_client(), secret)


def subscribe(partner: Partner, url: str, *types: str) -> dict[str, Any]:
    response = partner.call("POST", "/webhooks", {"url": url, "eventTypes": list(types)})
    assert response.status_code == 201, response.text
    return response.json


def verified(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The body, once its Standard Webhooks signature checks out (raises otherwise)."""
    return Webhook(secret).verify(body, headers)


def eventually(check: Callable[[], bool]) -> None:
    waiter = threading.Event()
    for _ in range(WAIT * 20):
        if check():
            return
        waiter.wait(0.05)
    raise AssertionError("the condition never held")


def deliveries(flask_app: Flask) -> list[WebhookDelivery]:
    with in_db(flask_app) as session:
        rows = session.query(WebhookDelivery).order_by(WebhookDelivery.created_at).all()
        for row in rows:
            _ = row.log
        session.expunge_all()
        return rows


# ---------------------------------------------------------------- through a real consumer


def test_a_finished_request_reaches_the_receiver_signed(queued_app: Flask, receiver: Receiver):
    world = make_world(queued_app)
    partner = partner_of(queued_app, world.acme_id)
    endpoint = subscribe(
        partner,
        receiver.url,
        "onboarding.created",
        "onboarding.status_changed",
        "entity.connected",
    )
    alice = signed_in_client(queued_app, world.alice)

    request_id = onboard_xenn(alice, str(world.household_id))

    with in_db(queued_app) as session:
        changes = [
            (e.data["from"], e.data["to"])
            for e in session.query(Event).filter_by(request_id=request_id, kind="status")
        ]
    assert changes == [("Draft", "Pending"), ("Pending", "InProgress"), ("InProgress", "Succeeded")]
    got = receiver.wait_for(1 + len(changes) + 1)
    bodies = [verified(endpoint["secret"], headers, body) for headers, body, _ in got]
    assert sorted(b["type"] for b in bodies) == sorted(
        ["onboarding.created", "entity.connected"] + ["onboarding.status_changed"] * 3
    )
    assert all(b["data"].get("requestId", b["data"]["id"]) == str(request_id) for b in bodies)
    seen = sorted(
        (b["data"]["previousStatus"], b["data"]["status"])
        for b in bodies
        if b["type"] == "onboarding.status_changed"
    )
    assert seen == sorted(changes)
    [connected] = [b for b in bodies if b["type"] == "entity.connected"]
    assert connected["data"]["status"] == "Connected"
    assert len({headers["Webhook-Id"] for headers, _, _ in got}) == len(got)
    # A forged or altered body fails the same check.
    headers, body, _ = got[0]
    with pytest.raises(Exception, match="signature"):
        verified(endpoint["secret"], headers, body[:-1] + b',"forged":true}')


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(
    queued_app: Flask, receiver: Receiver
):
    receiver.fail_first = 2
    world = make_world(queued_app)
    partner = partner_of(queued_app, world.acme_id)
    endpoint = subscribe(partner, receiver.url, "onboarding.created")

    sent = partner.call("POST", f"/webhooks/{endpoint['id']}/test")

    assert sent.status_code == 202
    got = receiver.wait_for(3)
    assert [status for _, _, status in got] == [500, 500, 204]
    assert len({headers["Webhook-Id"] for headers, _, _ in got}) == 1  # one message, retried
    for headers, body, _ in got:
        assert verified(endpoint["secret"], headers, body)["type"] == "webhook.test"

    def logged() -> bool:
        [delivery] = deliveries(queued_app)
        return delivery.status == "delivered"

    eventually(logged)
    log = partner.call("GET", f"/webhooks/{endpoint['id']}/deliveries").json["data"]
    assert [a["statusCode"] for a in log[0]["log"]] == [500, 500, 204]
    assert log[0]["log"][0]["responseExcerpt"] == "not now"


# ---------------------------------------------------------------- the outbox (jobs inline)


def test_a_rolled_back_change_sends_nothing(app: Flask, receiver: Receiver):
    world = make_world(app)
    subscribe(partner_of(app, world.acme_id), receiver.url, "onboarding.status_changed")
    request_id = pending_request(app)
    sent_before = len(receiver.got)

    with in_db(app) as session:
        cancel_request(session.get(OnboardingRequest, request_id), SYSTEM, reason="oops")
        session.flush()  # the event row is written...
        session.rollback()  # ...and taken back with the change

    webhook_sweep.call_local()  # what the consumer does every minute
    assert len(receiver.got) == sent_before
    with in_db(app) as session:
        assert session.get(OnboardingRequest, request_id).status == "Pending"
        assert session.query(Event).filter_by(dispatched_at=None).count() == 0


def test_a_change_committed_while_the_queue_is_down_is_sent_later(
    app: Flask, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    world = make_world(app)
    endpoint = subscribe(partner_of(app, world.acme_id), receiver.url, "onboarding.status_changed")
    request_id = pending_request(app)
    sent_before = len(receiver.got)

    def queue_down() -> None:
        raise ConnectionError("the queue is down")

    import app.jobs.tasks as tasks

    monkeypatch.setattr(tasks, "dispatch_events", queue_down)
    with in_db(app) as session:
        cancel_request(session.get(OnboardingRequest, request_id), SYSTEM, reason="changed mind")
        session.commit()  # committed; the job that would send it never got queued
    assert len(receiver.got) == sent_before
    monkeypatch.undo()

    webhook_sweep.call_local()

    headers, body, _ = receiver.wait_for(sent_before + 1)[-1]
    sent = verified(endpoint["secret"], headers, body)
    assert (sent["data"]["previousStatus"], sent["data"]["status"]) == ("Pending", "Canceled")


def test_every_retry_used_marks_the_endpoint_failing(app: Flask, receiver: Receiver):
    receiver.fail_first = 99
    world = make_world(app)
    partner = partner_of(app, world.acme_id)
    endpoint = subscribe(partner, receiver.url, "onboarding.created")
    from app.jobs.tasks import deliver_webhook

    partner.call("POST", f"/webhooks/{endpoint['id']}/test")  # attempt 1, inline
    for _ in range(3):  # the three retries the configuration allows
        with in_db(app) as session:
            delivery = session.query(WebhookDelivery).one()
            delivery.next_attempt_at = delivery.created_at  # due now
            session.commit()
            delivery_id = delivery.id
        deliver_webhook.call_local(delivery_id)

    [delivery] = deliveries(app)
    assert (delivery.status, delivery.attempts) == ("failed", 4)
    shown = partner.call("GET", f"/webhooks/{endpoint['id']}").json
    assert shown["failing"] is True and shown["failingSince"]
    again = partner.call("POST", f"/webhooks/{endpoint['id']}/deliveries/{delivery.id}/retry")
    assert again.status_code == 202
    assert len(receiver.got) == 5  # sent again at once


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path, receiver: Receiver):
    strict = make_app(tmp_path, WEBHOOKS_ALLOW_PRIVATE=False)
    try:
        with strict.test_request_context():
            for url in (
                receiver.url,
                "http://localhost/x",
                "http://10.1.2.3/x",
                "http://169.254.169.254/latest/meta-data",
                "http://[::1]/x",
                "ftp://example.com/x",
            ):
                assert refusal(url), url
        world = make_world(strict)
        partner = partner_of(strict, world.acme_id)
        endpoint = subscribe(partner, receiver.url, "onboarding.created")
        partner.call("POST", f"/webhooks/{endpoint['id']}/test")
        assert receiver.got == []
        [delivery] = deliveries(strict)
        assert delivery.status == "refused"
        assert "loopback" in (delivery.log[0].error or "")
    finally:
        drop(strict)


# ---------------------------------------------------------------- the API


def test_the_secret_is_shown_once_and_errors_are_problems(app: Flask):
    world = make_world(app)
    partner = partner_of(app, world.acme_id)
    created = subscribe(partner, "https://hooks.example.com/in", "entity.connected")
    assert created["secret"].startswith("whsec_")

    shown = partner.call("GET", f"/webhooks/{created['id']}").json
    assert "secret" not in shown and shown["enabled"] is True
    listed = partner.call("GET", "/webhooks").json["data"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    off = partner.call("PATCH", f"/webhooks/{created['id']}", {"enabled": False})
    assert off.status_code == 200 and off.json["enabled"] is False

    bad = partner.call("POST", "/webhooks", {"url": "nope", "eventTypes": ["entity.eaten"]})
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert {"url", "eventTypes.0"} <= set(bad.json["errors"]) or "url" in bad.json["errors"]
    other = partner_of(app, world.other_id)
    assert other.call("GET", f"/webhooks/{created['id']}").status_code == 404
    assert other.call("GET", "/webhooks").json["data"] == []
    owner = signed_in_client(app, world.alice)
    assert owner.get("/api/v1/webhooks").status_code == 403
    assert partner.call("DELETE", f"/webhooks/{created['id']}").status_code == 204
    with in_db(app) as session:
        assert session.query(WebhookEndpoint).count() == 0


def test_payload_is_the_apis_json_shape(app: Flask, receiver: Receiver):
    world = make_world(app)
    partner = partner_of(app, world.acme_id)
    endpoint = subscribe(partner, receiver.url, "onboarding.created")
    created = partner.call(
        "POST",
        "/onboarding/entities",
        {"type": "RetrofitMeter", "manufacturer": "Xenn", "reference": "P1000000007"},
    )
    assert created.status_code == 201, created.text

    headers, body, _ = receiver.wait_for(1)[0]
    sent = verified(endpoint["secret"], headers, body)
    read = partner.call("GET", f"/onboarding/entities/{created.json['id']}").json
    assert sent["type"] == "onboarding.created"
    assert set(sent["data"]) == set(read)
    assert sent["data"]["id"] == read["id"] and sent["data"]["data"] == read["data"]
    assert json.loads(body) == sent
    assert uuid.UUID(read["id"])


# ---------------------------------------------------------------- a killed process

KILLED_AFTER_COMMIT = """
import json, os, signal, sys, uuid
from app import create_app
from app.extensions import db
from app.models import OnboardingRequest
from app.onboarding.audit import SYSTEM
from app.onboarding.lifecycle import cancel_request

app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    cancel_request(db.session.get(OnboardingRequest, uuid.UUID(sys.argv[2])), SYSTEM, reason="x")
    db.session.commit()
    os.kill(os.getpid(), signal.SIGKILL)  # before any consumer saw the job
"""


def test_a_process_killed_after_the_commit_loses_nothing(tmp_path: Path, receiver: Receiver):
    import subprocess
    import sys

    settings = {
        "TESTING": True,
        "SECRET_KEY": "testing",
        "SQLALCHEMY_DATABASE_URI": database_uri_for(tmp_path),
        "JOBS_IMMEDIATE": False,
        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3"),
        "WEBHOOKS_ALLOW_PRIVATE": True,
        "PUBLIC_URL": "http://localhost",
    }
    flask_app = make_app(tmp_path, **{k: v for k, v in settings.items() if k != "TESTING"})
    consumer = None
    try:
        huey.storage.flush_all()
        world = make_world(flask_app)
        endpoint = subscribe(
            partner_of(flask_app, world.acme_id), receiver.url, "onboarding.status_changed"
        )
        request_id = pending_request(flask_app)
        huey.storage.flush_all()  # only what the killed process queues counts

        killed = subprocess.run(
            [sys.executable, "-c", KILLED_AFTER_COMMIT, json.dumps(settings), str(request_id)],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            timeout=120,
        )
        assert killed.returncode == -9, killed.stderr.decode()[-2000:]
        assert receiver.got == []

        consumer = huey.create_consumer(
            workers=1, worker_type="thread", periodic=False, initial_delay=0.05, max_delay=0.2
        )
        consumer._set_signal_handlers = lambda: None
        consumer.start()  # the restart: the queued job is still there

        # The first dispatch sends every undispatched event: the killed process's change,
        # and the creation whose queued job was thrown away above.
        got = receiver.wait_for(2)
        sent = [verified(endpoint["secret"], headers, body) for headers, body, _ in got]
        changes = {(s["data"]["previousStatus"], s["data"]["status"]) for s in sent}
        assert changes == {(None, "Pending"), ("Pending", "Canceled")}
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
        huey.storage.flush_all()
        drop(flask_app)
