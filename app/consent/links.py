"""Signed, expiring consent links: they open one request's consent pages without an account."""

from __future__ import annotations

import uuid

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.models import OnboardingRequest

_SALT = "consent-link"


class LinkError(Exception):
    """The link cannot be used; `expired` tells an old link from a broken or tampered one."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def consent_token(request: OnboardingRequest) -> str:
    return _serializer().dumps({"r": str(request.id)})


def consent_url(request: OnboardingRequest) -> str:
    """The absolute link to send to the owner (API `redirectLink`, installer hand-off)."""
    return url_for("consent.open_link", token=consent_token(request), _external=True)


def request_id_from_token(token: str) -> uuid.UUID:
    """The request a link opens; raise LinkError when it is expired, tampered or malformed."""
    max_age = int(current_app.config["CONSENT_LINK_MAX_AGE"].total_seconds())
    try:
        data = _serializer().loads(token, max_age=max_age)
        return uuid.UUID(str(data["r"]))
    except SignatureExpired:
        raise LinkError(expired=True) from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkError(expired=False) from None
