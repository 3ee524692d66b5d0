"""Consent with manufacturers: our attempts and grants, and the built-in sandbox's records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.onboarding import ConsentStep
from app.models.types import UTCDateTime, utcnow


class ConsentAttempt(db.Model):
    """One try at a redirect or app_consent step: the OAuth state and PKCE verifier, or the
    provider's approval id. Kept server-side so any worker can finish it."""

    __tablename__ = "consent_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("consent_steps.id"), index=True)
    provider: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str | None] = mapped_column(String(100), unique=True)
    code_verifier: Mapped[str | None] = mapped_column(String(200))
    # Ties a redirect attempt to the browser that started it (a hash of a session secret).
    browser_binding: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(100), index=True)
    outcome: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    step: Mapped[ConsentStep] = relationship()


class ProviderGrant(db.Model):
    """The access a provider gave; its tokens are encrypted at rest and destroyed on revocation."""

    __tablename__ = "provider_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("consent_steps.id"), index=True)
    provider: Mapped[str] = mapped_column(String(60))
    grant_id: Mapped[str | None] = mapped_column(String(200))
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    step: Mapped[ConsentStep] = relationship()


class SandboxAuthorization(db.Model):
    """An authorization code the sandbox issued: single use, short-lived, PKCE-bound."""

    __tablename__ = "sandbox_authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(60))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(200))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    code_challenge: Mapped[str] = mapped_column(String(200))
    account: Mapped[str] = mapped_column(String(254))
    scope: Mapped[str] = mapped_column(String(500), default="")
    grant_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxToken(db.Model):
    """An access or refresh token the sandbox issued (only its hash is kept)."""

    __tablename__ = "sandbox_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # access | refresh
    account: Mapped[str] = mapped_column(String(254))
    grant_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxApproval(db.Model):
    """An approval the sandbox's simulated manufacturer app is asked for (app_consent)."""

    __tablename__ = "sandbox_approvals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider: Mapped[str] = mapped_column(String(60))
    client_id: Mapped[str] = mapped_column(String(200))
    device: Mapped[str] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    account: Mapped[str | None] = mapped_column(String(254))
    grant_id: Mapped[str | None] = mapped_column(String(64))
    callbacks_sent: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
