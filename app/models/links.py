"""Consent links handed to a device's owner, and the messages that carried them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.onboarding import OnboardingRequest
from app.models.types import UTCDateTime, utcnow


class ConsentLink(db.Model):
    """One signed link to a request's consent pages (its token names this row).

    A newer link made for a resend revokes the older ones: `revoked_at` and `replaced_by`
    then tell the person who opens an old one that a newer one exists. How long a link
    works follows CONSENT_LINK_MAX_AGE from `created_at`, so a changed setting applies to
    links already sent.
    """

    __tablename__ = "consent_links"
    __table_args__ = (Index("ix_consent_links_request_id_created_at", "request_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("onboarding_requests.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who made it, as an Actor label ("user:7", "api-key:3", "system").
    created_by: Mapped[str] = mapped_column(String(120))
    # How it was handed over: "api", "shown" (QR code or copied), "email", "sms".
    channel: Mapped[str] = mapped_column(String(20))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consent_links.id", ondelete="SET NULL")
    )

    request: Mapped[OnboardingRequest] = relationship()
    replaced_by: Mapped[ConsentLink | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<ConsentLink {self.id} {self.channel} revoked={self.revoked_at is not None}>"


class ConsentMessage(db.Model):
    """An email or text message that carried a consent link to someone.

    The full address is kept here (support must see who got it); the request's timeline
    shows it masked. A submission is identified by its key together with what it sends, so
    a retried form sends nothing more, while the same form corrected to another address does.
    """

    __tablename__ = "consent_messages"
    __table_args__ = (UniqueConstraint("request_id", "submission_key", "channel", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("onboarding_requests.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_links.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))  # "email" | "sms"
    recipient: Mapped[str] = mapped_column(String(254))  # normalised: address or E.164
    submission_key: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(10))
    sent_by: Mapped[str] = mapped_column(String(120))  # an Actor label
    # What the mail server or SMS provider called it (Message-ID, provider id).
    provider_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[OnboardingRequest] = relationship()
    link: Mapped[ConsentLink] = relationship()

    def __repr__(self) -> str:
        return f"<ConsentMessage {self.id} {self.channel}>"
