"""Reminders: a request waiting on its owner with no activity for REMINDER_AFTER gets its
consent link again by email, at most REMINDER_MAX times, never once it is final.

Each reminder goes through `send_consent_link` (a fresh link; the older ones stop working)
and is a `reminder_sent` event on the timeline. Sending touches the request, so the next
reminder waits another REMINDER_AFTER. Nothing here commits: the job owns each reminder's
transaction.
"""

from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy import func, select

from app.consent.messages import MessageChannel, send_consent_link
from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE
from app.models import ConsentMessage, Event, OnboardingRequest, utcnow
from app.onboarding.audit import SYSTEM, record_event
from app.onboarding.states import Status

REMINDER = "reminder_sent"


def reminders_sent(request: OnboardingRequest) -> int:
    return int(
        db.session.scalar(
            select(func.count(Event.id)).where(
                Event.request_id == request.id, Event.kind == REMINDER
            )
        )
        or 0
    )


def due_for_reminder() -> list[uuid.UUID]:
    """Requests waiting on their owner, with an email address, quiet for long enough."""
    cutoff = utcnow() - current_app.config["REMINDER_AFTER"]
    return list(
        db.session.scalars(
            select(OnboardingRequest.id).where(
                OnboardingRequest.status == Status.PENDING,
                OnboardingRequest.email.is_not(None),
                OnboardingRequest.last_activity_at <= cutoff,
            )
        )
    )


def _language(request: OnboardingRequest) -> str:
    """The language of the last message the owner got, else the default."""
    last = db.session.scalar(
        select(ConsentMessage.language)
        .where(ConsentMessage.request_id == request.id)
        .order_by(ConsentMessage.created_at.desc())
        .limit(1)
    )
    return last or DEFAULT_LANGUAGE


def remind(request: OnboardingRequest) -> bool:
    """Send the next reminder if one is due (raises MessageNotSent when it could not go)."""
    if request.status != Status.PENDING or request.is_final or not request.email:
        return False
    if request.last_activity_at > utcnow() - current_app.config["REMINDER_AFTER"]:
        return False
    number = reminders_sent(request) + 1
    if number > current_app.config["REMINDER_MAX"]:
        return False
    sent = send_consent_link(
        request,
        MessageChannel.EMAIL,
        request.email,
        SYSTEM,
        submission_key=f"reminder-{number}",
        language=_language(request),
    )
    record_event(request, REMINDER, SYSTEM, number=number, message_id=sent.message.id)
    return True
