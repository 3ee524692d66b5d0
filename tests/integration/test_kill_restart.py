"""A real server process killed with SIGKILL between two steps of a request loses nothing.

gunicorn serves the app over the test's database. The partner creates a request (with an
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
from collections.abc import Iterator
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
