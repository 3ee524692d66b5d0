"""Who is signed in, safe redirects, and the security headers on every answer."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, session
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.extensions import db, login_manager
from app.identifiers import N_
from app.models import User
from app.onboarding import access
from app.onboarding.access import Principal

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # WebAssembly (the barcode reader behind the Scan button) needs compiling; nothing
        # else that `unsafe-eval` would allow.
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Sign in to continue.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.after_request(_security_headers)
    app.context_processor(lambda: {"principal": current_principal(), "can": _can})


def current_principal() -> Principal:
    """Who this browser is: the signed-in user, and the requests its consent links opened."""
    if "principal" not in g:
        user = current_user._get_current_object() if current_user.is_authenticated else None
        g.principal = Principal.for_user(user, links=granted_requests())
    principal: Principal = g.principal
    return principal


_LINKS_KEY = "consent_links"
_MAX_LINKS = 20  # requests one browser can hold open through links at once


def grant_link(request_id: uuid.UUID) -> None:
    """Remember in this browser's session that it opened a valid link to this request."""
    granted = [r for r in session.get(_LINKS_KEY, []) if r != str(request_id)]
    session[_LINKS_KEY] = [*granted, str(request_id)][-_MAX_LINKS:]
    g.pop("principal", None)  # this browser holds one more link now


def granted_requests() -> frozenset[uuid.UUID]:
    """The requests this browser opened valid consent links to."""
    granted: set[uuid.UUID] = set()
    for value in session.get(_LINKS_KEY, []):
        try:
            granted.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    return frozenset(granted)


def _can(action: str, request: object) -> bool:
    return access.can(current_principal(), access.Action(action), request)  # type: ignore[arg-type]


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user a session names ("<id>.<session version>"), unless it was signed out since."""
    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # With the tenant, which many pages read (one statement, not two).
    user = db.session.get(User, int(user_id), options=[joinedload(User.tenant)])
    # A deactivated account's sessions, and those from before signing out, stop working.
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (never redirect off-site)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


_ALWAYS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


def _security_headers(response: Response) -> Response:
    """Every answer's security headers, unless its view set its own (one pass over them)."""
    wanted = list(_ALWAYS)
    if max_age := current_app.config["HSTS_SECONDS"]:
        # Production is served over HTTPS only: browsers must never try plain HTTP.
        wanted.append(("Strict-Transport-Security", f"max-age={max_age}; includeSubDomains"))
    present = {name.lower() for name, _value in response.headers}
    response.headers.extend([(n, v) for n, v in wanted if n.lower() not in present])
    return response
