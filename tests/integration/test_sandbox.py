"""The built-in sandbox as an OAuth 2.0 client sees it: the sign-in page, the token endpoint
(single-use, short-lived, PKCE-bound codes), devices, revocation and app approvals.

These tests play the client by hand (no onboarding request needed): the sandbox must hold
up against any client, not only ours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.consent.providers import Provider, get_provider
from app.models import SandboxApproval, SandboxAuthorization, SandboxToken
from app.models.types import utcnow
from tests.integration.helpers import count, in_db, title_of

VIN = "WAUZZZ8V0KA000000"


@dataclass
class Client:
    """Our registration at one sandbox provider, and a browser to press its buttons."""

    provider: Provider
    http: FlaskClient
    redirect_uri: str  # the provider's URLs are built in a request context, so kept here
    callback_url: str

    @property
    def name(self) -> str:
        return self.provider.name

    @property
    def base(self) -> str:
        return f"/sandbox/{self.name}"

    @property
    def basic(self) -> tuple[str, str]:
        return (self.provider.client_id, self.provider.client_secret)

    def authorize_params(self, verifier: str, **changes: str | None) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.provider.scope,
            "state": "state-123",
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        params.update(changes)
        return {k: v for k, v in params.items() if v is not None}

    def sign_in(
        self,
        verifier: str,
        account: str = "owner@sandbox.example",
        decision: str = "allow",
        **changes: str | None,
    ):
        return self.http.post(
            f"{self.base}/authorize",
            data={
                **self.authorize_params(verifier, **changes),
                "account": account,
                "decision": decision,
            },
        )

    def code(self, verifier: str, account: str = "owner@sandbox.example") -> str:
        answer = self.sign_in(verifier, account)
        assert answer.status_code == 302, answer.text[:300]
        query = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
        assert query["state"] == "state-123"
        return query["code"]

    def exchange(
        self,
        code: str,
        verifier: str | None,
        auth: tuple[str, str] | None = None,
        **changes: str | None,
    ):
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        form.update(changes)
        return self.http.post(
            f"{self.base}/token",
            auth=auth or self.basic,
            data={k: v for k, v in form.items() if v is not None},
        )

    def tokens(self, account: str = "owner@sandbox.example") -> dict:
        verifier = generate_token(64)
        answer = self.exchange(self.code(verifier, account), verifier)
        assert answer.status_code == 200, answer.text
        return answer.get_json()

    def devices(self, token: str):
        return self.http.get(
            f"{self.base}/devices",
            query_string={"identifier": VIN},
            headers={"Authorization": f"Bearer {token}"},
        )


def client_for(app: Flask, name: str) -> Client:
    with app.test_request_context():
        provider = get_provider(name)
        return Client(provider, app.test_client(), provider.redirect_uri, provider.callback_url)


@pytest.fixture
def audi(app) -> Client:
    return client_for(app, "audi")


@pytest.fixture
def verifier() -> str:
    return generate_token(64)


def oauth_error(response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["error"]


# ---------------------------------------------------------------- configuration


def test_every_catalog_provider_has_a_sandbox(app):
    with app.test_request_context():
        from app.catalog import current_catalog

        names = {
            m.provider
            for t in current_catalog().types.values()
            for m in t.manufacturers.values()
            if m.provider
        }
        providers = {name: get_provider(name) for name in names}
    assert {
        "audi",
        "bmw",
        "tesla",
        "volkswagen",
        "renault",
        "kia",
        "hyundai",
        "volvo",
        "huawei",
        "sma",
        "solaredge",
        "fronius",
        "enphase",
        "fluvius",
    } <= names
    for name, provider in providers.items():
        assert provider.sandbox and provider.client_id == f"sandbox-{name}"
        assert provider.authorize_url.endswith(f"/sandbox/{name}/authorize")
    # Each sandbox client has its own secret.
    assert len({p.client_secret for p in providers.values()}) == len(providers)


def test_a_configured_provider_is_live(app):
    app.config["PROVIDERS"] = {
        "audi": {
            "client_id": "our-id",
            "client_secret": "s",
            "authorize_url": "https://id.audi/auth",
            "token_url": "https://id.audi/token",
        }
    }
    with app.test_request_context():
        provider = get_provider("audi")
        assert not provider.sandbox
        assert provider.authorization_url("st", generate_token(64)).startswith(
            "https://id.audi/auth?response_type=code&client_id=our-id"
        )
        assert get_provider("bmw").sandbox


# ---------------------------------------------------------------- sign-in page


def test_sign_in_page_offers_allow_and_deny_and_documents_the_accounts(app, audi, verifier):
    page = audi.http.get(f"{audi.base}/authorize", query_string=audi.authorize_params(verifier))

    assert page.status_code == 200
    assert title_of(page) == "Sign in to Audi \N{EN DASH} Audi (sandbox)"
    assert "Sign in to Audi (sandbox)" in page.text
    assert 'value="allow">Allow access</button>' in page.text
    assert 'value="deny">Deny</button>' in page.text
    for account in (
        "denied@sandbox.example",
        "no-device@sandbox.example",
        "error@sandbox.example",
        "silent@sandbox.example",
    ):
        assert account in page.text


def test_request_parameters_are_carried_escaped(app, audi, verifier):
    hostile = '"><script>alert(1)</script>'
    page = audi.http.get(
        f"{audi.base}/authorize", query_string=audi.authorize_params(verifier, state=hostile)
    )

    assert "<script>alert(1)</script>" not in page.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page.text
    answer = audi.sign_in(verifier, state=hostile)
    assert dict(parse_qsl(urlsplit(answer.headers["Location"]).query))["state"] == hostile


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "sandbox-bmw"},
        {"client_id": "someone-else"},
        {"client_id": None},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": None},
    ],
)
def test_an_unregistered_client_or_redirect_uri_is_never_redirected_to(app, audi, verifier, change):
    for answer in (
        audi.http.get(
            f"{audi.base}/authorize", query_string=audi.authorize_params(verifier, **change)
        ),
        audi.sign_in(verifier, **change),
    ):
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "is not registered with this address. Nothing was shared." in answer.text
    assert count(app, SandboxAuthorization) == 0


def test_an_unknown_provider_is_not_found(app, verifier):
    assert app.test_client().get("/sandbox/nobody/authorize").status_code == 404


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
    ],
)
def test_bad_authorization_requests_go_back_with_an_error(app, audi, verifier, change, error):
    answer = audi.sign_in(verifier, **change)

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(audi.redirect_uri + "?")
    query = dict(parse_qsl(urlsplit(location).query))
    assert (query["error"], query["state"]) == (error, "state-123")
    assert "code" not in query
    assert count(app, SandboxAuthorization) == 0


@pytest.mark.parametrize(
    ("account", "decision", "error"),
    [
        ("owner@sandbox.example", "deny", "access_denied"),
        ("denied@sandbox.example", "allow", "access_denied"),
        ("error@sandbox.example", "allow", "server_error"),
        ("ERROR@Sandbox.example ", "allow", "server_error"),
    ],
)
def test_outcomes_that_go_back_without_a_code(app, audi, verifier, account, decision, error):
    answer = audi.sign_in(verifier, account, decision)

    query = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert (query["error"], query["state"]) == (error, "state-123")
    assert "code" not in query
    assert count(app, SandboxAuthorization) == 0


def test_the_silent_account_never_goes_back(app, audi, verifier):
    answer = audi.sign_in(verifier, "silent@sandbox.example")

    assert answer.status_code == 200 and "Location" not in answer.headers
    assert "The owner closed this window (sandbox)" in answer.text
    assert count(app, SandboxAuthorization) == 0


@pytest.mark.parametrize(
    "account", ["owner@sandbox.example", "anyone@example.com", "no-device@sandbox.example"]
)
def test_an_approval_goes_back_with_a_short_lived_code_kept_only_as_a_hash(
    app, audi, verifier, account
):
    code = audi.code(verifier, account)

    with in_db(app) as session:
        [row] = session.scalars(select(SandboxAuthorization)).all()
        assert row.code_hash != code and code not in row.code_hash
        assert row.account == account
        assert timedelta(0) < row.expires_at - row.created_at <= timedelta(minutes=10)
        assert row.used_at is None


# ---------------------------------------------------------------- token endpoint


def test_a_code_is_exchanged_once_for_tokens(app, audi, verifier):
    code = audi.code(verifier)

    answer = audi.exchange(code, verifier)

    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"  # RFC 6749 5.1
    tokens = answer.get_json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert tokens["access_token"] != tokens["refresh_token"]
    assert audi.devices(tokens["access_token"]).get_json()["devices"][0]["identifier"] == VIN
    with in_db(app) as session:
        hashes = set(session.scalars(select(SandboxToken.token_hash)))
    assert tokens["access_token"] not in hashes  # only hashes are kept


def test_client_secret_in_the_body_is_accepted_too(app, audi, verifier):
    code = audi.code(verifier)
    answer = audi.http.post(
        f"{audi.base}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": audi.redirect_uri,
            "client_id": audi.provider.client_id,
            "client_secret": audi.provider.client_secret,
        },
    )
    assert answer.status_code == 200, answer.text


def test_an_unknown_code_is_refused(app, audi, verifier):
    audi.code(verifier)
    assert oauth_error(audi.exchange("made-up", verifier)) == "invalid_grant"
    assert oauth_error(audi.exchange("", verifier)) == "invalid_grant"


def test_an_expired_code_is_refused(app, audi, verifier):
    code = audi.code(verifier)
    with in_db(app) as session:
        session.execute(
            update(SandboxAuthorization).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()

    answer = audi.exchange(code, verifier)

    assert oauth_error(answer) == "invalid_grant"
    assert "expired" in answer.get_json()["error_description"]
    assert count(app, SandboxToken) == 0


def test_a_replayed_code_is_refused_and_revokes_the_tokens_it_gave(app, audi, verifier):
    code = audi.code(verifier)
    first = audi.exchange(code, verifier).get_json()
    assert audi.devices(first["access_token"]).status_code == 200

    replay = audi.exchange(code, verifier)

    assert oauth_error(replay) == "invalid_grant"
    assert "already used" in replay.get_json()["error_description"]
    assert oauth_error(audi.devices(first["access_token"]), 401) == "invalid_token"
    refresh = audi.http.post(
        f"{audi.base}/token",
        auth=audi.basic,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert oauth_error(refresh) == "invalid_grant"


def test_a_replay_does_not_touch_other_grants(app, audi, verifier):
    other = audi.tokens()
    code = audi.code(verifier)
    audi.exchange(code, verifier)

    audi.exchange(code, verifier)

    assert audi.devices(other["access_token"]).status_code == 200


@pytest.mark.parametrize("wrong", ["x" * 64, "", None])
def test_a_wrong_or_missing_pkce_verifier_is_refused(app, audi, verifier, wrong):
    code = audi.code(verifier)

    answer = audi.exchange(code, wrong)

    assert oauth_error(answer) == "invalid_grant"
    assert "PKCE" in answer.get_json()["error_description"]
    assert count(app, SandboxToken) == 0


def test_a_redirect_uri_other_than_the_authorized_one_is_refused(app, audi, verifier):
    code = audi.code(verifier)

    answer = audi.exchange(code, verifier, redirect_uri="https://evil.example/callback")

    assert oauth_error(answer) == "invalid_grant"
    assert count(app, SandboxToken) == 0


@pytest.mark.parametrize(
    "auth", [("sandbox-audi", "wrong-secret"), ("sandbox-audi", ""), ("sandbox-bmw", "x"), ("", "")]
)
def test_a_wrong_client_secret_is_refused_and_the_code_not_spent(app, audi, verifier, auth):
    code = audi.code(verifier)

    answer = audi.exchange(code, verifier, auth=auth)

    assert oauth_error(answer, 401) == "invalid_client"
    assert audi.exchange(code, verifier).status_code == 200  # still usable by its client


def test_another_providers_client_cannot_use_the_code(app, audi, verifier):
    code = audi.code(verifier)
    bmw = client_for(app, "bmw")

    answer = bmw.exchange(code, verifier)

    assert oauth_error(answer) == "invalid_grant"
    assert audi.exchange(code, verifier).status_code == 200


def test_an_unsupported_grant_type_is_refused(app, audi):
    answer = audi.http.post(
        f"{audi.base}/token",
        auth=audi.basic,
        data={"grant_type": "password", "username": "u", "password": "p"},
    )
    assert oauth_error(answer) == "unsupported_grant_type"


def test_the_token_endpoint_takes_post_only(app, audi):
    assert audi.http.get(f"{audi.base}/token").status_code == 405


def test_a_refresh_token_gives_new_tokens(app, audi):
    first = audi.tokens()

    answer = audi.http.post(
        f"{audi.base}/token",
        auth=audi.basic,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )

    assert answer.status_code == 200
    assert audi.devices(answer.get_json()["access_token"]).status_code == 200


# ---------------------------------------------------------------- devices and revocation


def test_devices_need_a_valid_token(app, audi):
    assert oauth_error(audi.http.get(f"{audi.base}/devices"), 401) == "invalid_token"
    assert oauth_error(audi.devices("made-up"), 401) == "invalid_token"
    tokens = audi.tokens()
    # A refresh token is not an access token; another provider's token is not Audi's.
    assert audi.devices(tokens["refresh_token"]).status_code == 401
    assert client_for(app, "bmw").devices(tokens["access_token"]).status_code == 401


def test_an_expired_access_token_is_refused(app, audi):
    tokens = audi.tokens()
    with in_db(app) as session:
        session.execute(update(SandboxToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    assert audi.devices(tokens["access_token"]).status_code == 401


def test_the_no_device_account_holds_no_device(app, audi):
    tokens = audi.tokens("no-device@sandbox.example")

    assert audi.devices(tokens["access_token"]).get_json() == {"devices": []}


def test_revoking_ends_the_whole_grant(app, audi):
    tokens, other = audi.tokens(), audi.tokens()

    answer = audi.http.post(
        f"{audi.base}/revoke", auth=audi.basic, data={"token": tokens["refresh_token"]}
    )

    assert answer.status_code == 200
    assert audi.devices(tokens["access_token"]).status_code == 401
    assert audi.devices(other["access_token"]).status_code == 200
    # Revoking again, or an unknown token, is fine (RFC 7009 2.2).
    for token in (tokens["refresh_token"], "made-up"):
        assert (
            audi.http.post(
                f"{audi.base}/revoke", auth=audi.basic, data={"token": token}
            ).status_code
            == 200
        )


def test_revoking_needs_the_client(app, audi):
    tokens = audi.tokens()

    answer = audi.http.post(
        f"{audi.base}/revoke",
        auth=("sandbox-audi", "wrong"),
        data={"token": tokens["access_token"]},
    )

    assert oauth_error(answer, 401) == "invalid_client"
    assert audi.devices(tokens["access_token"]).status_code == 200
    bmw = client_for(app, "bmw")
    bmw.http.post(f"{bmw.base}/revoke", auth=bmw.basic, data={"token": tokens["access_token"]})
    assert audi.devices(tokens["access_token"]).status_code == 200


# ---------------------------------------------------------------- app approvals


@pytest.fixture
def kia(app) -> Client:
    return client_for(app, "kia")


def ask(kia: Client) -> str:
    answer = kia.http.post(
        f"{kia.base}/approvals", auth=kia.basic, json={"device": VIN, "callback_url": None}
    )
    assert answer.status_code == 201, answer.text
    assert answer.get_json()["status"] == "pending"
    return answer.get_json()["id"]


def status(kia: Client, approval_id: str) -> str:
    answer = kia.http.get(f"{kia.base}/approvals/{approval_id}", auth=kia.basic)
    assert answer.status_code == 200, answer.text
    return answer.get_json()["status"]


def press(
    kia: Client, approval_id: str, account: str = "owner@sandbox.example", decision: str = "allow"
):
    return kia.http.post(
        f"{kia.base}/app/{approval_id}", data={"account": account, "decision": decision}
    )


def test_the_app_screen_shows_the_request_and_approves(app, kia):
    approval_id = ask(kia)
    screen = kia.http.get(f"{kia.base}/app/{approval_id}")
    assert screen.status_code == 200
    assert "Kia app (sandbox)" in screen.text and VIN in screen.text
    assert 'value="allow">Approve</button>' in screen.text

    assert "You approved the request." in press(kia, approval_id).text
    assert status(kia, approval_id) == "approved"

    tokens = kia.http.post(f"{kia.base}/approvals/{approval_id}/token", auth=kia.basic)
    assert tokens.status_code == 200
    assert kia.devices(tokens.get_json()["access_token"]).status_code == 200
    assert status(kia, approval_id) == "collected"
    again = kia.http.post(f"{kia.base}/approvals/{approval_id}/token", auth=kia.basic)
    assert oauth_error(again) == "invalid_grant"


@pytest.mark.parametrize(
    ("account", "decision", "expected"),
    [
        ("owner@sandbox.example", "deny", "denied"),
        ("denied@sandbox.example", "allow", "denied"),
        ("error@sandbox.example", "allow", "error"),
        ("silent@sandbox.example", "allow", "pending"),
    ],
)
def test_app_outcomes_by_account(app, kia, account, decision, expected):
    approval_id = ask(kia)

    press(kia, approval_id, account, decision)

    assert status(kia, approval_id) == expected
    if expected != "approved":
        answer = kia.http.post(f"{kia.base}/approvals/{approval_id}/token", auth=kia.basic)
        assert oauth_error(answer) == "invalid_grant"


def test_a_decided_approval_cannot_be_changed(app, kia):
    approval_id = ask(kia)
    press(kia, approval_id, decision="deny")

    press(kia, approval_id)

    assert status(kia, approval_id) == "denied"


def test_approvals_need_the_client(app, kia):
    approval_id = ask(kia)
    wrong = ("sandbox-kia", "wrong")
    assert kia.http.post(f"{kia.base}/approvals", auth=wrong, json={}).status_code == 401
    assert kia.http.get(f"{kia.base}/approvals/{approval_id}", auth=wrong).status_code == 401
    press(kia, approval_id)
    assert kia.http.post(f"{kia.base}/approvals/{approval_id}/token", auth=wrong).status_code == 401
    assert status(kia, approval_id) == "approved"


def test_another_providers_approval_is_not_found(app, kia):
    approval_id = ask(kia)
    hyundai = client_for(app, "hyundai")
    press(kia, approval_id)

    assert (
        hyundai.http.get(f"{hyundai.base}/approvals/{approval_id}", auth=hyundai.basic).status_code
        == 404
    )
    assert (
        hyundai.http.post(
            f"{hyundai.base}/approvals/{approval_id}/token", auth=hyundai.basic
        ).status_code
        == 400
    )
    assert hyundai.http.get(f"{hyundai.base}/app/{approval_id}").status_code == 404
    assert kia.http.get(f"{kia.base}/app/{uuid.uuid4()}").status_code == 404
    assert status(kia, approval_id) == "approved"


def test_the_app_sends_a_signed_callback(app, kia, monkeypatch):
    sent = []

    def record(self, request, **kwargs):
        sent.append(request)
        from requests import Response

        answer = Response()
        answer.status_code = 204
        return answer

    from app.consent.providers import _InProcessAdapter

    monkeypatch.setattr(_InProcessAdapter, "send", record)
    callback = kia.callback_url
    answer = kia.http.post(
        f"{kia.base}/approvals", auth=kia.basic, json={"device": VIN, "callback_url": callback}
    )
    approval_id = answer.get_json()["id"]

    press(kia, approval_id)

    [request] = sent
    assert request.url == callback
    timestamp = request.headers["X-Sandbox-Timestamp"]
    assert request.headers["X-Sandbox-Signature"] == kia.provider.sign(request.body, timestamp)
    assert b'"status": "approved"' in request.body
    with in_db(app) as session:
        assert session.get(SandboxApproval, uuid.UUID(approval_id)).callbacks_sent == 1
