"""The built-in sandbox of every manufacturer: real OAuth 2.0 pages and token exchange
(authorization code + PKCE S256), a devices endpoint, revocation, and a simulated
manufacturer app for app_consent. Outcomes follow the sandbox account (see SANDBOX_ACCOUNTS)
or the button the owner presses.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from datetime import timedelta
from typing import Any

import requests
from flask import Blueprint, abort, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from werkzeug.wrappers import Response
from wtforms import EmailField

from app.catalog import Manufacturer, current_catalog
from app.consent.providers import _InProcessAdapter, get_provider, sandbox_client_secret
from app.extensions import csrf, db
from app.forms import Form
from app.htmx import render
from app.models import SandboxApproval, SandboxToken, utcnow

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox/<provider>")


@bp.before_request
def _only_when_enabled() -> None:
    # A live site must not create real entities through a fake manufacturer: production
    # answers here only with SANDBOX_PROVIDERS=1 (and every page then carries the banner).
    if not current_app.config["SANDBOX_PROVIDERS"]:
        abort(404)


# Documented sandbox accounts: each produces one outcome, whatever button is pressed
# (except that any account can deny). Every other email approves.
SANDBOX_ACCOUNTS = {
    "denied@sandbox.example": "denied",
    "no-device@sandbox.example": "device_not_found",
    "error@sandbox.example": "provider_error",
    "silent@sandbox.example": "no_answer",
    # Access is given and works at first; the manufacturer then refuses to renew it, as if
    # the owner withdrew it in the manufacturer's app, or it ran out (NeedsReconnect).
    "revoked@sandbox.example": "revoked",
    "expired@sandbox.example": "expired",
}
# The accounts whose grants the sandbox stops honouring after the first tokens.
LAPSING_OUTCOMES = frozenset({"revoked", "expired"})
DEFAULT_ACCOUNT = "owner@sandbox.example"
CODE_LIFETIME = timedelta(minutes=2)
TOKEN_LIFETIME = timedelta(hours=1)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _manufacturer(provider: str) -> Manufacturer:
    for entity_type in current_catalog().types.values():
        for manufacturer in entity_type.manufacturers.values():
            if manufacturer.provider == provider:
                return manufacturer
    abort(404)


def outcome_for(account: str, decision: str) -> str:
    if decision == "deny":
        return "denied"
    return SANDBOX_ACCOUNTS.get(account.strip().lower(), "approved")


def _client_ok(provider: str) -> bool:
    """Client authentication by HTTP Basic or in the body (client_secret_post)."""
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    if request.authorization and request.authorization.type == "basic":
        client_id = request.authorization.username
        secret = request.authorization.password
    return client_id == f"sandbox-{provider}" and secrets.compare_digest(
        secret or "", sandbox_client_secret(provider)
    )


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _issue_tokens(provider: str, account: str, grant_id: str) -> dict[str, Any]:
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    for token, kind, lifetime in (
        (access, "access", TOKEN_LIFETIME),
        (refresh, "refresh", timedelta(days=90)),
    ):
        db.session.add(
            SandboxToken(
                provider=provider,
                token_hash=_digest(token),
                kind=kind,
                account=account,
                grant_id=grant_id,
                expires_at=now + lifetime,
            )
        )
    db.session.commit()
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        "grant_id": grant_id,
    }


def _token_response(provider: str, account: str, grant_id: str) -> Response:
    """Fresh tokens as JSON, never cached (RFC 6749 5.1)."""
    response = jsonify(_issue_tokens(provider, account, grant_id))
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- pairing_code

# The sandbox answers this pairing code with "does not match the device"; any other code
# that follows the catalog's pattern pairs.
WRONG_PAIRING_CODE = "000000"


@bp.post("/pairing")
@csrf.exempt
def pairing(provider: str) -> Response:
    """Whether a pairing code belongs to a device (for pairing_code steps)."""
    if not _client_ok(provider):
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
    body = request.get_json(silent=True) or {}
    return jsonify(paired=str(body.get("code", "")) != WRONG_PAIRING_CODE)


# ---------------------------------------------------------------- app_consent


def _approval_json(approval: SandboxApproval) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(approval.id), "status": approval.status}
    if approval.status == "approved" and approval.grant_id:
        data["grant_id"] = approval.grant_id
    return data


@bp.post("/approvals")
@csrf.exempt
def approvals(provider: str) -> Response:
    """Ask the owner's app for an approval of access to one device."""
    if not _client_ok(provider):
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
    body = request.get_json(silent=True) or {}
    approval = SandboxApproval(
        provider=provider,
        client_id=f"sandbox-{provider}",
        device=str(body.get("device", ""))[:500],
        callback_url=body.get("callback_url"),
    )
    db.session.add(approval)
    db.session.commit()
    response = jsonify(_approval_json(approval))
    response.status_code = 201
    return response


@bp.get("/approvals/<uuid:approval_id>")
def approval(provider: str, approval_id: uuid.UUID) -> Response:
    if not _client_ok(provider):
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
    row = db.session.get(SandboxApproval, approval_id)
    if row is None or row.provider != provider:
        return _oauth_error("not_found", "Unknown approval", 404)
    return jsonify(_approval_json(row))


@bp.post("/approvals/<uuid:approval_id>/token")
@csrf.exempt
def approval_token(provider: str, approval_id: uuid.UUID) -> Response:
    """Tokens for an approved approval, once."""
    if not _client_ok(provider):
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
    row = db.session.get(SandboxApproval, approval_id)
    if row is None or row.provider != provider or row.status != "approved":
        return _oauth_error("invalid_grant", "This approval is not approved")
    claimed = db.session.execute(
        update(SandboxApproval)
        .where(SandboxApproval.id == row.id, SandboxApproval.status == "approved")
        .values(status="collected")
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE answers a CursorResult
    if not claimed:
        return _oauth_error("invalid_grant", "Tokens for this approval were collected")
    db.session.commit()
    return _token_response(
        provider, row.account or DEFAULT_ACCOUNT, row.grant_id or uuid.uuid4().hex
    )


class AppForm(Form):
    account = EmailField(_l("Signed in as"))


@bp.route("/app/<uuid:approval_id>", methods=["GET", "POST"])
def app_screen(provider: str, approval_id: uuid.UUID) -> Response:
    """The manufacturer's phone app (sandbox), showing the approval request."""
    manufacturer = _manufacturer(provider)
    row = db.session.get(SandboxApproval, approval_id)
    if row is None or row.provider != provider:
        abort(404)
    form = AppForm(data={"account": DEFAULT_ACCOUNT})
    if request.method == "POST" and form.validate_on_submit() and row.status == "pending":
        account = (form.account.data or DEFAULT_ACCOUNT).strip().lower()
        outcome = outcome_for(account, request.form.get("decision", "allow"))
        if outcome != "no_answer":
            row.status = {
                "approved": "approved",
                "revoked": "approved",
                "expired": "approved",
                "denied": "denied",
                "device_not_found": "approved",
                "provider_error": "error",
            }[outcome]
            row.account = account
            row.grant_id = uuid.uuid4().hex
            row.decided_at = utcnow()
            db.session.commit()
            _send_callback(provider, row)
    return render(
        "sandbox/app.html",
        manufacturer=manufacturer,
        approval=row,
        form=form,
        accounts=SANDBOX_ACCOUNTS,
    )


def _send_callback(provider: str, row: SandboxApproval) -> None:
    """Tell the client the decision with a signed callback; it also polls, so a lost
    callback only delays the answer."""
    if not row.callback_url:
        return
    body = json.dumps(_approval_json(row)).encode()
    timestamp = str(int(time.time()))
    signature = get_provider(provider).sign(body, timestamp)
    session = requests.Session()
    session.mount(
        row.callback_url.split("/consent/")[0] + "/",
        _InProcessAdapter(current_app._get_current_object()),  # type: ignore[attr-defined]
    )
    try:
        session.post(
            row.callback_url,
            data=body,
            timeout=10,
            headers={
                "Content-Type": "application/json",
                "X-Sandbox-Timestamp": timestamp,
                "X-Sandbox-Signature": signature,
            },
        )
        row.callbacks_sent += 1
        db.session.commit()
    except requests.RequestException:
        current_app.logger.warning("sandbox callback to %s failed", row.callback_url)


# The OAuth 2.0 authorization server's own endpoints register on the same blueprint.
from app.consent import sandbox_oauth  # noqa: E402,F401
