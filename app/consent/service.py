"""Consent with manufacturers: start a redirect or an app approval, settle what comes back,
and connect (verify the device on the account). Grants kept alive and ended:
app/consent/grants.py.

Nothing here commits: the view (or job) that called owns the transaction; a rejected
callback's event is kept by the caller committing before it answers. Nothing here trusts
the callback's word for which request it is: the request comes from our own attempt record.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from flask import current_app, session, url_for
from sqlalchemy import select

from app.catalog import Manufacturer, current_catalog
from app.consent import crypto
from app.consent.grants import destroy_grant
from app.consent.providers import Provider, ProviderError, callback_payload, get_provider
from app.extensions import db
from app.identifiers import N_, IdentifierError
from app.models import (
    ConsentAttempt,
    ConsentStep,
    OnboardingRequest,
    ProviderGrant,
    utcnow,
)
from app.onboarding.audit import CALLBACK, Actor, record_event
from app.onboarding.lifecycle import begin_connecting
from app.onboarding.states import FailureReason, StepKind, StepStatus
from app.onboarding.steps import complete_step, fail_step_attempt, start_step, step_available

CALLBACK_MAX_AGE_SECONDS = 300
_BINDING_KEY = "consent_binding"


class CallbackRejected(Exception):
    """A callback we do not act on; `reason` is recorded, `request` is set when known."""

    def __init__(self, reason: str, request: OnboardingRequest | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request = request


def _browser_binding() -> str:
    secret = session.get(_BINDING_KEY)
    if not secret:
        secret = session[_BINDING_KEY] = secrets.token_urlsafe(24)
    return hashlib.sha256(secret.encode()).hexdigest()


def device_identifier(onboarding: OnboardingRequest, manufacturer: Manufacturer) -> str:
    """The value that names the device at the provider (VIN, EAN, plant id...)."""
    return manufacturer.device_id(onboarding.information) or ""


def provider_for(manufacturer: Manufacturer) -> Provider:
    assert manufacturer.provider, f"{manufacturer.name} has no provider"
    return get_provider(manufacturer.provider)


# ---------------------------------------------------------------- redirect (OAuth 2.0 + PKCE)


def start_redirect(
    onboarding: OnboardingRequest, step: ConsentStep, manufacturer: Manufacturer, actor: Actor
) -> str:
    """Record a new attempt (state, verifier, this browser) and return the provider's URL
    (or, when nobody answers there, fail the attempt and return the step's own page)."""
    provider = provider_for(manufacturer)
    if not provider.answers:
        # Production without this manufacturer's settings nor sandboxes: do not send the
        # owner to a page that is not there.
        fail_step_attempt(onboarding, step, actor, FailureReason.PROVIDER_ERROR)
        return url_for("consent.step", request_id=onboarding.id, position=step.position)
    state, verifier = generate_token(43), generate_token(64)
    db.session.add(
        ConsentAttempt(
            step=step,
            provider=provider.name,
            kind=StepKind.REDIRECT,
            state=state,
            code_verifier=verifier,
            browser_binding=_browser_binding(),
        )
    )
    start_step(onboarding, step, actor)
    return provider.authorization_url(state, verifier)


def _reject(reason: str, onboarding: OnboardingRequest | None, **data: Any) -> CallbackRejected:
    if onboarding is not None:
        record_event(onboarding, "callback_rejected", CALLBACK, reason=reason, **data)
    current_app.logger.warning("consent callback rejected: %s", reason)
    return CallbackRejected(reason, onboarding)


def finish_redirect(provider_name: str, args: dict[str, str]) -> OnboardingRequest:
    """Handle the provider sending the owner back; raise CallbackRejected for anything off."""
    state = args.get("state") or ""
    attempt = (
        db.session.scalar(
            select(ConsentAttempt).where(
                ConsentAttempt.state == state,
                ConsentAttempt.provider == provider_name,
                ConsentAttempt.kind == StepKind.REDIRECT,
            )
        )
        if state
        else None
    )
    if attempt is None:
        raise _reject("unknown_state", None)
    step = attempt.step
    onboarding = step.request
    if attempt.finished_at is not None:
        raise _reject("state_reused", onboarding)
    if not attempt.browser_binding or not hmac.compare_digest(
        attempt.browser_binding, _browser_binding()
    ):
        raise _reject("other_browser", onboarding)
    if not attempt.code_verifier:
        raise _reject("missing_verifier", onboarding)
    if not step_available(onboarding, step) or step.status != StepStatus.WAITING:
        raise _reject("step_not_waiting", onboarding)
    actor = Actor.provider(provider_name)
    error = args.get("error")
    if error:
        reason = FailureReason.DENIED if error == "access_denied" else FailureReason.PROVIDER_ERROR
        _finish_attempt(attempt, reason)
        fail_step_attempt(onboarding, step, actor, reason)
        return onboarding
    code = args.get("code")
    if not code:
        raise _reject("missing_code", onboarding)
    provider = get_provider(provider_name)
    try:
        token = provider.exchange_code(code, attempt.code_verifier)
    except ProviderError as failure:
        if failure.code in ("invalid_grant", "invalid_client"):
            # An unknown, expired or replayed code, or our client refused: change nothing,
            # keep the record.
            raise _reject(
                "code_rejected", onboarding, error=failure.code, detail=str(failure)[:200]
            ) from None
        _finish_attempt(attempt, FailureReason.PROVIDER_ERROR)
        fail_step_attempt(onboarding, step, actor, FailureReason.PROVIDER_ERROR)
        return onboarding
    _finish_attempt(attempt, "approved")
    _connect(onboarding, step, provider, token, actor)
    return onboarding


def _finish_attempt(attempt: ConsentAttempt, outcome: str) -> None:
    attempt.finished_at = utcnow()
    attempt.outcome = outcome


def _connect(
    onboarding: OnboardingRequest,
    step: ConsentStep,
    provider: Provider,
    token: dict[str, Any],
    actor: Actor,
) -> None:
    """Keep the grant, verify the device is on the account, then finish or fail the step."""
    expires_in = token.get("expires_in")
    grant = ProviderGrant(
        step=step,
        provider=provider.name,
        grant_id=token.get("grant_id"),
        access_token=crypto.encrypt(token.get("access_token")),
        refresh_token=crypto.encrypt(token.get("refresh_token")),
        expires_at=utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None,
    )
    db.session.add(grant)
    begin_connecting(onboarding, actor)
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    identifier = device_identifier(onboarding, manufacturer) if manufacturer else ""
    try:
        found = provider.device_on_account(token["access_token"], identifier)
    except (ProviderError, KeyError, ValueError):
        destroy_grant(grant, provider, notify=False)
        fail_step_attempt(onboarding, step, actor, FailureReason.PROVIDER_ERROR)
        return
    if not found:
        destroy_grant(grant, provider, notify=True)
        fail_step_attempt(onboarding, step, actor, FailureReason.DEVICE_NOT_FOUND, tried=identifier)
        return
    complete_step(
        onboarding,
        step,
        actor,
        {
            "provider": provider.name,
            "grant_id": grant.grant_id,
            "sandbox": provider.sandbox,
            "scope": token.get("scope") or provider.scope,
        },
    )


# ---------------------------------------------------------------- app_consent


def start_app_consent(
    onboarding: OnboardingRequest, step: ConsentStep, manufacturer: Manufacturer, actor: Actor
) -> None:
    """Ask the manufacturer's app for the owner's approval; a failure can be retried."""
    provider = provider_for(manufacturer)
    try:
        approval_id = provider.start_approval(
            device_identifier(onboarding, manufacturer) or manufacturer.name
        )
    except ProviderError:
        fail_step_attempt(onboarding, step, actor, FailureReason.PROVIDER_ERROR)
        return
    db.session.add(
        ConsentAttempt(
            step=step, provider=provider.name, kind=StepKind.APP_CONSENT, external_id=approval_id
        )
    )
    start_step(onboarding, step, actor)


def open_attempt(step: ConsentStep) -> ConsentAttempt | None:
    return db.session.scalar(
        select(ConsentAttempt)
        .where(ConsentAttempt.step_id == step.id, ConsentAttempt.finished_at.is_(None))
        .order_by(ConsentAttempt.id.desc())
    )


def check_app_consent(onboarding: OnboardingRequest, step: ConsentStep) -> None:
    """Poll the provider for the open approval of `step` and settle it if it was decided."""
    attempt = open_attempt(step)
    if attempt is None or attempt.kind != StepKind.APP_CONSENT or step.status != StepStatus.WAITING:
        return
    provider = get_provider(attempt.provider)
    try:
        data = provider.approval(attempt.external_id or "")
    except ProviderError:
        return  # try again at the next poll
    _settle_approval(onboarding, step, attempt, provider, data)


def _settle_approval(
    onboarding: OnboardingRequest,
    step: ConsentStep,
    attempt: ConsentAttempt,
    provider: Provider,
    data: dict[str, Any],
) -> None:
    status = data.get("status")
    if attempt.finished_at is not None or status in (None, "pending"):
        return
    actor = Actor.provider(provider.name)
    if status in ("denied", "error"):
        reason = FailureReason.DENIED if status == "denied" else FailureReason.PROVIDER_ERROR
        _finish_attempt(attempt, reason)
        fail_step_attempt(onboarding, step, actor, reason)
        return
    try:
        token = provider.collect_approval_tokens(attempt.external_id or "")
    except ProviderError:
        if status == "collected" or _approval_status(provider, attempt) == "collected":
            return  # the other path (callback or poll) took the tokens first
        _finish_attempt(attempt, FailureReason.PROVIDER_ERROR)
        fail_step_attempt(onboarding, step, actor, FailureReason.PROVIDER_ERROR)
        return
    _finish_attempt(attempt, "approved")
    _connect(onboarding, step, provider, token, actor)


def _approval_status(provider: Provider, attempt: ConsentAttempt) -> str | None:
    try:
        return provider.approval(attempt.external_id or "").get("status")
    except ProviderError:
        return None


def receive_app_callback(
    provider_name: str, body: bytes, timestamp: str, signature: str
) -> OnboardingRequest:
    """A provider's signed callback with an approval decision."""
    provider = get_provider(provider_name)
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        raise _reject("bad_signature", None) from None
    expected = provider.sign(body, timestamp)
    if age > CALLBACK_MAX_AGE_SECONDS or not hmac.compare_digest(expected, signature or ""):
        raise _reject("bad_signature", None)
    try:
        data = callback_payload(body)
    except ValueError:
        raise _reject("bad_body", None) from None
    attempt = db.session.scalar(
        select(ConsentAttempt).where(
            ConsentAttempt.external_id == str(data.get("id", "")),
            ConsentAttempt.provider == provider_name,
            ConsentAttempt.kind == StepKind.APP_CONSENT,
        )
    )
    if attempt is None:
        raise _reject("unknown_approval", None)
    step = attempt.step
    onboarding = step.request
    if attempt.finished_at is None and step.status == StepStatus.WAITING:
        _settle_approval(onboarding, step, attempt, provider, data)
    return onboarding


# ---------------------------------------------------------------- pairing_code


def pair(
    onboarding: OnboardingRequest,
    step: ConsentStep,
    manufacturer: Manufacturer,
    code: str,
    actor: Actor,
    evidence: dict[str, Any],
) -> None:
    """Pair with the code printed on the device; raise IdentifierError when it is refused
    (the failed attempt is then on the request, for the caller to keep)."""
    if step.status == StepStatus.DONE:
        return
    assert manufacturer.pairing is not None
    cleaned = manufacturer.pairing.clean(code)
    provider = get_provider(manufacturer.provider or _slug(manufacturer.name))
    try:
        paired = provider.pair(device_identifier(onboarding, manufacturer), cleaned)
    except ProviderError:
        fail_step_attempt(onboarding, step, actor, FailureReason.PROVIDER_ERROR)
        raise IdentifierError(
            N_("%(manufacturer)s could not check the code just now. Try again in a few minutes."),
            manufacturer=manufacturer.name,
        ) from None
    if not paired:
        fail_step_attempt(onboarding, step, actor, "pairing_code_mismatch")
        raise IdentifierError(
            N_("This pairing code does not match the device. Check the code and try again.")
        )
    # Only the last digits are kept: enough to tell codes apart, useless to pair again.
    complete_step(onboarding, step, actor, {**evidence, "code_last_digits": cleaned[-2:]})


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
