"""The sandbox's OAuth 2.0 authorization server: sign-in page, token, devices, revocation."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import jsonify, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField

from app.consent.providers import get_provider
from app.consent.sandbox import (
    CODE_LIFETIME,
    DEFAULT_ACCOUNT,
    LAPSING_OUTCOMES,
    SANDBOX_ACCOUNTS,
    _client_ok,
    _digest,
    _manufacturer,
    _oauth_error,
    _token_response,
    bp,
    outcome_for,
)
from app.extensions import csrf, db
from app.forms import Form
from app.htmx import render
from app.models import SandboxAuthorization, SandboxToken, utcnow


class AuthorizeForm(Form):
    account = EmailField(_l("Email address"))
    decision = HiddenField()


@bp.route("/authorize", methods=["GET", "POST"])
def authorize(provider: str) -> Response:
    """The manufacturer's sign-in and consent page (sandbox)."""
    manufacturer = _manufacturer(provider)
    params = request.values
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    expected = get_provider(provider)
    # A bad client or redirect URI is never redirected to (RFC 6749 4.1.2.1).
    if client_id != expected.client_id or redirect_uri != expected.redirect_uri:
        return render(
            "sandbox/problem.html",
            manufacturer=manufacturer,
            status=400,
            message=gettext(
                "The app that sent you here is not registered with "
                "this address. Nothing was shared."
            ),
        )
    state = params.get("state", "")

    def back(**answer: str) -> Response:
        return redirect(f"{redirect_uri}?{urlencode({**answer, 'state': state})}")

    if params.get("response_type") != "code":
        return back(error="unsupported_response_type")
    challenge = params.get("code_challenge", "")
    if params.get("code_challenge_method") != "S256" or not challenge:
        return back(error="invalid_request", error_description="PKCE S256 is required")

    form = AuthorizeForm(data={"account": DEFAULT_ACCOUNT})
    if request.method == "POST" and form.validate_on_submit():
        account = (form.account.data or DEFAULT_ACCOUNT).strip().lower()
        outcome = outcome_for(account, request.form.get("decision", "allow"))
        if outcome == "denied":
            return back(error="access_denied", error_description="The owner refused access")
        if outcome == "provider_error":
            return back(error="server_error", error_description="Sandbox provider error")
        if outcome == "no_answer":
            return render("sandbox/closed.html", manufacturer=manufacturer)
        code = secrets.token_urlsafe(32)
        db.session.add(
            SandboxAuthorization(
                provider=provider,
                code_hash=_digest(code),
                client_id=client_id,
                redirect_uri=redirect_uri,
                code_challenge=challenge,
                account=account,
                scope=params.get("scope", ""),
                grant_id=uuid.uuid4().hex,
                expires_at=utcnow() + CODE_LIFETIME,
            )
        )
        db.session.commit()
        return back(code=code)
    return render(
        "sandbox/authorize.html",
        manufacturer=manufacturer,
        form=form,
        params={k: v for k, v in params.items() if k not in ("account", "decision", "csrf_token")},
        accounts=SANDBOX_ACCOUNTS,
        default_account=DEFAULT_ACCOUNT,
    )


@bp.post("/token")
@csrf.exempt
def token(provider: str) -> Response:
    """The token endpoint: single-use codes, PKCE checked, refresh supported."""
    if not _client_ok(provider):
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
    grant_type = request.form.get("grant_type")
    if grant_type == "refresh_token":
        row = db.session.scalar(
            select(SandboxToken).where(
                SandboxToken.token_hash == _digest(request.form.get("refresh_token", "")),
                SandboxToken.kind == "refresh",
                SandboxToken.provider == provider,
                SandboxToken.revoked_at.is_(None),
            )
        )
        if row is None:
            return _oauth_error("invalid_grant", "Unknown or revoked refresh token")
        if row.expires_at < utcnow():
            return _oauth_error("invalid_grant", "The grant has expired")
        lapse = SANDBOX_ACCOUNTS.get(row.account)
        if lapse in LAPSING_OUTCOMES:
            return _oauth_error("invalid_grant", f"The grant was {lapse} at the manufacturer")
        return _token_response(provider, row.account, row.grant_id)
    if grant_type != "authorization_code":
        return _oauth_error("unsupported_grant_type", "Use authorization_code")
    code = db.session.scalar(
        select(SandboxAuthorization).where(
            SandboxAuthorization.code_hash == _digest(request.form.get("code", "")),
            SandboxAuthorization.provider == provider,
        )
    )
    if code is None:
        return _oauth_error("invalid_grant", "Unknown authorization code")
    # Mark it used in one statement, so two concurrent exchanges cannot both win.
    claimed = db.session.execute(
        update(SandboxAuthorization)
        .where(SandboxAuthorization.id == code.id, SandboxAuthorization.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE answers a CursorResult
    if not claimed:
        # A replayed code: refuse, and revoke what it gave (RFC 6749 4.1.2).
        db.session.execute(
            update(SandboxToken)
            .where(SandboxToken.grant_id == code.grant_id)
            .values(revoked_at=utcnow())
        )
        db.session.commit()
        return _oauth_error("invalid_grant", "Authorization code already used")
    db.session.commit()
    if code.expires_at < utcnow():
        return _oauth_error("invalid_grant", "Authorization code expired")
    if request.form.get("redirect_uri") != code.redirect_uri:
        return _oauth_error("invalid_grant", "redirect_uri does not match")
    if code.code_challenge:
        verifier = request.form.get("code_verifier", "")
        if not verifier or create_s256_code_challenge(verifier) != code.code_challenge:
            return _oauth_error("invalid_grant", "PKCE verification failed")
    return _token_response(provider, code.account, code.grant_id)


def _bearer_account(provider: str) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    row = db.session.scalar(
        select(SandboxToken).where(
            SandboxToken.token_hash == _digest(header[7:]),
            SandboxToken.kind == "access",
            SandboxToken.provider == provider,
            SandboxToken.revoked_at.is_(None),
        )
    )
    if row is None or row.expires_at < utcnow():
        return None
    return row.account


@bp.get("/devices")
def devices(provider: str) -> Response:
    """The devices on the account behind the token (the sandbox account holds every device,
    except no-device@sandbox.example, which holds none)."""
    account = _bearer_account(provider)
    if account is None:
        return _oauth_error("invalid_token", "Missing, unknown or revoked token", 401)
    if SANDBOX_ACCOUNTS.get(account) == "device_not_found":
        return jsonify(devices=[])
    return jsonify(devices=[{"identifier": request.args.get("identifier", ""), "account": account}])


@bp.post("/revoke")
@csrf.exempt
def revoke(provider: str) -> Response:
    """RFC 7009: end the grant behind a token; always 200 for a known client."""
    if not _client_ok(provider):
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
    row = db.session.scalar(
        select(SandboxToken).where(
            SandboxToken.token_hash == _digest(request.form.get("token", "")),
            SandboxToken.provider == provider,
        )
    )
    if row is not None:
        db.session.execute(
            update(SandboxToken)
            .where(SandboxToken.grant_id == row.grant_id)
            .values(revoked_at=utcnow())
        )
        db.session.commit()
    return Response(status=200)


# ---------------------------------------------------------------- the manufacturer's grants page


class GrantForm(Form):
    grant = HiddenField()
    action = HiddenField()


@bp.route("/grants", methods=["GET", "POST"])
def grants(provider: str) -> Response:
    """The manufacturer's "connected apps" page (sandbox): end a grant as the owner would
    (revoke) or let it run out (expire); the platform finds out at its next check."""
    manufacturer = _manufacturer(provider)
    form = GrantForm()
    if request.method == "POST" and form.validate_on_submit():
        values = {"revoked_at": utcnow()} if form.action.data == "revoke" else {}
        if form.action.data == "expire":
            values = {"expires_at": utcnow() - CODE_LIFETIME}
        if values:
            db.session.execute(
                update(SandboxToken)
                .where(SandboxToken.provider == provider, SandboxToken.grant_id == form.grant.data)
                .values(**values)
            )
            db.session.commit()
        return redirect(url_for("sandbox.grants", provider=provider))
    now = utcnow()
    rows = db.session.execute(
        select(SandboxToken.grant_id, SandboxToken.account, SandboxToken.expires_at)
        .where(
            SandboxToken.provider == provider,
            SandboxToken.kind == "refresh",
            SandboxToken.revoked_at.is_(None),
        )
        .order_by(SandboxToken.created_at.desc())
        .limit(50)
    ).all()
    live = [row for row in rows if row.expires_at >= now]
    return render("sandbox/grants.html", manufacturer=manufacturer, grants=live, form=form)
