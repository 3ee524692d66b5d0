"""Secrets never reach a log: consent-link tokens, OAuth codes and states, bearer tokens and
API keys, whether in werkzeug's or gunicorn's access log or in our own messages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

TOKEN = "AAAAAAAAAAAAAAAAAAAAAA.secretSignatureOfTheLink00"
CODE = "secret-oauth-code-0123456789"
STATE = "secret-oauth-state-0123456789"
API_KEY = "eo_" + "S" * 43
SECRETS = (TOKEN, "secretSignatureOfTheLink00", CODE, STATE, API_KEY)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_the_access_log_of_a_run_shows_no_secret(served, caplog):
    with caplog.at_level(logging.INFO), requests.Session() as http:
        http.get(f"{served}/c/{TOKEN}", allow_redirects=False, timeout=10)
        http.get(f"{served}/c/{TOKEN}?utm=x", allow_redirects=False, timeout=10)
        http.get(
            f"{served}/consent/callback/audi?code={CODE}&state={STATE}",
            allow_redirects=False,
            timeout=10,
        )
        http.get(f"{served}/consent/callback/audi?error=access_denied&state={STATE}", timeout=10)
        http.get(f"{served}/api/v1/onboarding/requests?token={API_KEY}", timeout=10)

    log = caplog.text
    assert '"GET /c/[redacted] HTTP/1.1"' in log  # the request is still logged
    assert "code=[redacted]&state=[redacted]" in log
    for secret in SECRETS:
        assert secret not in log


def test_gunicorn_access_records_and_our_own_messages_show_no_secret(app, caplog):
    request_line = f"GET /consent/callback/audi?state={STATE}&code={CODE} HTTP/1.1"
    with caplog.at_level(logging.INFO):
        # gunicorn's access log: its format with a dict of atoms.
        logging.getLogger("gunicorn.access").info(
            '%(h)s "%(r)s" %(s)s', {"h": "192.0.2.1", "r": request_line, "s": "302"}
        )
        logging.getLogger("gunicorn.error").info("Invalid request %s", f"/c/{TOKEN}")
        app.logger.warning("sent the link http://localhost/c/%s", TOKEN)
        logging.getLogger("app.jobs").info("calling with Authorization: Bearer %s", API_KEY)

    log = caplog.text
    assert '192.0.2.1 "GET /consent/callback/audi?state=[redacted]&code=[redacted]' in log
    for secret in SECRETS:
        assert secret not in log
