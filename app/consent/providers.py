"""Consent providers: one small interface over each manufacturer's authorization server.

A provider is configuration: PROVIDER_<NAME>_CLIENT_ID, _CLIENT_SECRET, _AUTHORIZE_URL,
_TOKEN_URL, _DEVICES_URL, _REVOKE_URL, _APPROVALS_URL and _SCOPE in the environment make
it live. Without a client id it uses the built-in sandbox (app/consent/sandbox.py), which
speaks the same OAuth 2.0 and is reached in-process, so no worker ever waits on itself.
Production answers there only with SANDBOX_PROVIDERS=1: otherwise every call to an
unconfigured provider fails as the manufacturer's error, and no entity is ever made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask, current_app, url_for

TIMEOUT_SECONDS = 10


class ProviderError(Exception):
    """The provider answered with an error or not at all."""

    def __init__(self, message: str, code: str = "provider_error") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Provider:
    name: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    devices_url: str
    revoke_url: str
    approvals_url: str
    scope: str
    sandbox: bool
    pairing_url: str = ""

    @property
    def answers(self) -> bool:
        """Someone answers at this provider: it is configured, or its sandbox is on."""
        return not self.sandbox or bool(current_app.config["SANDBOX_PROVIDERS"])

    @property
    def redirect_uri(self) -> str:
        return url_for("consent.oauth_callback", provider=self.name, _external=True)

    @property
    def callback_url(self) -> str:
        return url_for("consent.app_callback", provider=self.name, _external=True)

    def oauth_session(self, **kwargs: Any) -> OAuth2Session:
        session = OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            **kwargs,
        )
        _mount_sandbox(session, self)
        return session

    def authorization_url(self, state: str, code_verifier: str) -> str:
        url, _state = self.oauth_session().create_authorization_url(
            self.authorize_url, state=state, code_verifier=code_verifier
        )
        return url

    def exchange_code(self, code: str, code_verifier: str | None) -> dict[str, Any]:
        """Trade an authorization code for tokens; ProviderError when it is refused."""
        try:
            token = self.oauth_session().fetch_token(
                self.token_url,
                code=code,
                code_verifier=code_verifier,
                grant_type="authorization_code",
                timeout=TIMEOUT_SECONDS,
            )
        except Exception as error:  # Authlib's OAuthError, or the network
            code_name = getattr(error, "error", None) or "provider_error"
            raise ProviderError(str(error), code=code_name) from None
        return dict(token)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Renew the grant's tokens; ProviderError(code="invalid_grant") when the
        manufacturer no longer honours the grant (revoked or expired there)."""
        response = self._call(
            "POST",
            self.token_url,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(self.client_id, self.client_secret),
        )
        body = response.json() if response.content else {}
        if response.status_code != 200 or "access_token" not in body:
            raise ProviderError(
                f"{self.name} refused to renew: {body.get('error_description', '')}",
                code=str(body.get("error") or "provider_error"),
            )
        return dict(body)

    def _http(self) -> requests.Session:
        session = requests.Session()
        _mount_sandbox(session, self)
        return session

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self._http().request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
        except requests.RequestException as error:
            raise ProviderError(f"{self.name} did not answer: {error}") from None
        if response.status_code >= 500:
            raise ProviderError(f"{self.name} answered {response.status_code}")
        return response

    def device_on_account(self, access_token: str, identifier: str) -> bool:
        """Whether the account that granted access holds this device."""
        response = self._call(
            "GET",
            self.devices_url,
            params={"identifier": identifier},
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if response.status_code != 200:
            raise ProviderError(f"{self.name} devices answered {response.status_code}")
        return bool(response.json().get("devices"))

    def revoke(self, token: str) -> None:
        """Ask the provider to end the grant (RFC 7009); failures are not fatal to revocation."""
        self._call(
            "POST",
            self.revoke_url,
            data={"token": token},
            auth=(self.client_id, self.client_secret),
        )

    def start_approval(self, device: str) -> str:
        """Ask the owner's manufacturer app for an approval; return its id."""
        response = self._call(
            "POST",
            self.approvals_url,
            json={"device": device, "callback_url": self.callback_url},
            auth=(self.client_id, self.client_secret),
        )
        if response.status_code not in (200, 201):
            raise ProviderError(f"{self.name} approvals answered {response.status_code}")
        return str(response.json()["id"])

    def approval(self, approval_id: str) -> dict[str, Any]:
        response = self._call(
            "GET",
            f"{self.approvals_url.rstrip('/')}/{approval_id}",
            auth=(self.client_id, self.client_secret),
        )
        if response.status_code != 200:
            raise ProviderError(f"{self.name} approval answered {response.status_code}")
        return dict(response.json())

    def collect_approval_tokens(self, approval_id: str) -> dict[str, Any]:
        response = self._call(
            "POST",
            f"{self.approvals_url.rstrip('/')}/{approval_id}/token",
            auth=(self.client_id, self.client_secret),
        )
        if response.status_code != 200:
            raise ProviderError(f"{self.name} approval token answered {response.status_code}")
        return dict(response.json())

    def pair(self, device: str, code: str) -> bool:
        """Whether `code` is the pairing code of `device` (printed on it or its box)."""
        answer = self._call(
            "POST",
            self.pairing_url,
            json={"device": device, "code": code},
            auth=(self.client_id, self.client_secret),
        )
        if answer.status_code != 200:
            raise ProviderError(f"{self.name} pairing answered {answer.status_code}")
        return bool(answer.json().get("paired"))

    def sign(self, body: bytes, timestamp: str) -> str:
        """The signature a provider puts on its callbacks (HMAC-SHA256 with our secret)."""
        message = timestamp.encode() + b"." + body
        return hmac.new(self.client_secret.encode(), message, hashlib.sha256).hexdigest()


def sandbox_client_secret(name: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sandbox-client:{name}".encode(), hashlib.sha256).hexdigest()


def get_provider(name: str) -> Provider:
    """The provider called `name`: live when configured, otherwise its sandbox."""
    settings = current_app.config.get("PROVIDERS", {}).get(name) or _from_environment(name)
    if settings and settings.get("client_id"):
        return Provider(
            name=name,
            client_id=settings["client_id"],
            client_secret=settings.get("client_secret", ""),
            authorize_url=settings["authorize_url"],
            token_url=settings["token_url"],
            devices_url=settings.get("devices_url", ""),
            revoke_url=settings.get("revoke_url", ""),
            approvals_url=settings.get("approvals_url", ""),
            scope=settings.get("scope", ""),
            sandbox=False,
            pairing_url=settings.get("pairing_url", ""),
        )
    return Provider(
        name=name,
        client_id=f"sandbox-{name}",
        client_secret=sandbox_client_secret(name),
        authorize_url=url_for("sandbox.authorize", provider=name, _external=True),
        token_url=url_for("sandbox.token", provider=name, _external=True),
        devices_url=url_for("sandbox.devices", provider=name, _external=True),
        revoke_url=url_for("sandbox.revoke", provider=name, _external=True),
        approvals_url=url_for("sandbox.approvals", provider=name, _external=True),
        scope="read_vehicle_data read_energy_data",
        sandbox=True,
        pairing_url=url_for("sandbox.pairing", provider=name, _external=True),
    )


def _from_environment(name: str) -> dict[str, str]:
    prefix = f"PROVIDER_{name.upper().replace('-', '_')}_"
    keys = (
        "client_id",
        "client_secret",
        "authorize_url",
        "token_url",
        "devices_url",
        "revoke_url",
        "approvals_url",
        "pairing_url",
        "scope",
    )
    return {k: os.environ[prefix + k.upper()] for k in keys if prefix + k.upper() in os.environ}


class _InProcessAdapter(requests.adapters.BaseAdapter):
    """Sends a request for the sandbox to this very app, in a fresh app context."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app

    def send(  # type: ignore[override]  # the sandbox needs none of the transport options
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        with self.app.app_context():
            answer = self.app.test_client().open(
                parts.path,
                base_url=f"{parts.scheme}://{parts.netloc}",
                query_string=parts.query,
                method=request.method or "GET",
                headers=dict(request.headers),
                data=request.body,
            )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.get_data()
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def _mount_sandbox(session: requests.Session, provider: Provider) -> None:
    if provider.sandbox:
        parts = urlsplit(provider.token_url)
        session.mount(
            f"{parts.scheme}://{parts.netloc}/sandbox/",
            _InProcessAdapter(current_app._get_current_object()),  # type: ignore[attr-defined]
        )


def callback_payload(body: bytes) -> dict[str, Any]:
    data = json.loads(body or b"{}")
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data
