"""Signed, expiring consent links: they open one request's consent pages without an account."""

from __future__ import annotations

import uuid

from flask import current_app, session, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.models import OnboardingRequest

_SALT = "consent-link"
_SESSION_KEY = "consent_links"
_MAX_GRANTS = 20  # requests one browser can hold open through links at once


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


def grant(request_id: uuid.UUID) -> None:
    """Remember in this browser's session that it opened a valid link to this request."""
    granted = [r for r in session.get(_SESSION_KEY, []) if r != str(request_id)]
    session[_SESSION_KEY] = [*granted, str(request_id)][-_MAX_GRANTS:]


def is_granted(request_id: uuid.UUID) -> bool:
    return str(request_id) in session.get(_SESSION_KEY, [])
