"""The app behind a real server (gunicorn), where the test client cannot show it.

Killed with SIGKILL between two steps of a request, the server loses nothing: gunicorn
serves the app over the test's database. The partner creates a request (with an
Idempotency-Key) and the server is killed; restarted, the same call answers the same
request. The owner accepts the terms through the consent link and the server is killed
again; restarted, the owner's browser (the same cookies) pairs the reader and the request
succeeds, with one entity and its whole timeline.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from app.models import ApiKey, Entity, Event, OnboardingRequest, Tenant
from tests.integration.helpers import PAIRING_CODE, XENN_REFERENCE, World, in_db

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
START_TIMEOUT = 30.0


class Server:
    """gunicorn in its own process group, so that SIGKILL takes master and worker."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "kill-restart-" + "k" * 32,
            "APP_ENV": "development",
        }
        with self.log.open("ab") as log:  # the child keeps its own copy of the handle
            self.process = self._spawn(port, env, log)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/openapi.json", timeout=10).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start:\n{self.log.read_text()[-2000:]}")

    @staticmethod
    def _spawn(port: int, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def server(app: Flask, tmp_path: Path) -> Iterator[Server]:
    running = Server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log")
    running.start()
    yield running
    if running.process is not None:
        running.kill()  # before the app fixture drops the schema under it


def csrf_and_version(page: requests.Response) -> dict[str, str]:
    fields = dict(
        re.findall(r'name="(csrf_token|version)" type="hidden" value="([^"]+)"', page.text)
    )
    if "version" not in fields:
        version = re.search(r'name="version" value="([^"]+)"', page.text)
        if version:
            fields["version"] = version.group(1)
    assert "csrf_token" in fields, page.text[:500]
    return fields


def test_sigkill_between_steps_loses_nothing(app: Flask, world: World, server: Server) -> None:
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, world.acme_id), "kill")
        session.add(key)
        session.commit()
    partner = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "order-1"}
    body = {"type": "RetrofitMeter", "manufacturer": "Xenn", "reference": XENN_REFERENCE}

    created = requests.post(f"{server.url}/api/v1/onboarding/entities", json=body, headers=partner)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]

    server.kill()
    server.start()
    again = requests.post(f"{server.url}/api/v1/onboarding/entities", json=body, headers=partner)
    assert (again.status_code, again.json()["id"]) == (201, request_id)
    assert again.headers["Idempotent-Replayed"] == "true"
    link = again.json()["action"]["redirectLink"]
    link_path = re.sub(r"^https?://[^/]+", "", link)

    owner = requests.Session()

    def steps() -> str:  # the restarted server listens on another port
        return f"{server.url}/onboarding/{request_id}/steps"

    assert owner.get(server.url + link_path).ok
    terms = owner.get(f"{steps()}/1")
    accepted = owner.post(f"{steps()}/1", data=csrf_and_version(terms), allow_redirects=False)
    assert accepted.status_code in (302, 303), accepted.text[:500]

    server.kill()
    server.start()
    pairing = owner.get(f"{steps()}/2")
    assert pairing.status_code == 200
    paired = owner.post(
        f"{steps()}/2",
        data={"csrf_token": csrf_and_version(pairing)["csrf_token"], "code": PAIRING_CODE},
        allow_redirects=False,
    )
    assert paired.status_code in (302, 303), paired.text[:500]
    assert paired.headers["Location"].endswith(f"/onboarding/{request_id}/done")

    status = requests.get(f"{server.url}/api/v1/onboarding/entities/{request_id}", headers=partner)
    assert status.json()["status"] == "Succeeded"
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(request_id))
        assert [s.status for s in onboarding.steps] == ["done", "done"]
        assert session.scalar(select(func.count()).select_from(OnboardingRequest)) == 1
        assert session.scalar(select(func.count()).select_from(Entity)) == 1
        kinds = session.scalars(
            select(Event.kind).where(Event.request_id == onboarding.id).order_by(Event.id)
        ).all()
        assert kinds.count("created") == 1
        assert kinds.count("entity_created") == 1


def raw_request(server: Server, head: bytes, body_chunks: Iterable[bytes] = ()) -> bytes:
    """Send bytes as they are (no client library would send these) and read the answer."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        try:
            for chunk in body_chunks:
                connection.sendall(chunk)
        except OSError:
            pass  # the server answered before the body ended, and closed
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def api_key_of(app: Flask, world: World) -> str:
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, world.acme_id), "raw")
        session.add(key)
        session.commit()
    return secret


def test_a_chunked_20_mb_body_is_a_413_problem(app: Flask, world: World, server: Server) -> None:
    secret = api_key_of(app, world)
    head = (
        b"POST /api/v1/collectives HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + secret.encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
    )
    piece = b"x" * 65536

    def chunks() -> Iterator[bytes]:
        yield b'9\r\n{"name":"\r\n'
        for _ in range(20 * 16):  # 20 MiB
            yield b"%x\r\n" % len(piece) + piece + b"\r\n"
        yield b'2\r\n"}\r\n0\r\n\r\n'

    answer = raw_request(server, head, chunks())
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"Content-Type: application/problem+json" in rest
    assert b"too large" in rest


def test_which_bad_idempotency_keys_reach_the_app(app: Flask, world: World, server: Server) -> None:
    """A tab or a non-ASCII byte reaches us (problem+json 400); gunicorn itself refuses other
    control characters in any header with its own HTML 400, as docs/api.md says."""
    secret = api_key_of(app, world)
    body = b'{"name": "Home"}'
    for key, ours in [
        (b"a\tb", True),
        ("\u00e9".encode(), True),
        (b"a\x01b", False),
        (b"a\x7fb", False),
    ]:
        head = (
            b"POST /api/v1/collectives HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + secret.encode() + b"\r\n"
            b"Content-Type: application/json\r\nIdempotency-Key: " + key + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        )
        answer = raw_request(server, head + body)
        assert answer.startswith(b"HTTP/1.1 400"), (key, answer[:300])
        content_type = b"application/problem+json" if ours else b"text/html"
        assert b"Content-Type: " + content_type in answer, key
