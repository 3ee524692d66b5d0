"""What the JSON API keeps for itself: the first answer to each idempotent POST."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class IdempotencyRecord(db.Model):
    """A POST sent with an Idempotency-Key: what was asked, and the answer given.

    The same caller sending the same key again gets this answer back instead of a
    second request; the unique constraint settles a race between two such calls.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who called (an Actor label: "api-key:3", "user:7"); keys are only unique per caller.
    caller: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    # SHA-256 of the method, path and body, to tell a retry from another request.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
