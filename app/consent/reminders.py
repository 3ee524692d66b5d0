"""Reminders: a request waiting on its owner with no activity for REMINDER_AFTER gets its
consent link again, at most REMINDER_MAX times, never once it is final.

It goes where the owner was last reached: by text message when the last link went to
their mobile number or a mobile number is the only contact, by email otherwise.

Each reminder goes through `send_consent_link` (with the link the request is already giving
out, so the installer's QR code and earlier messages keep working) and is a
`reminder_sent` event on the timeline. A reminder is not activity: the request stays
stalled in the support console, and the next reminder waits REMINDER_AFTER from this one.
Nothing here commits: the job owns each reminder's transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, func, or_, select

from app.consent.messages import MessageChannel, send_consent_link
from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE
from app.messaging import sms_available
from app.models import ConsentMessage, Event, OnboardingRequest, utcnow
from app.onboarding.audit import SYSTEM, record_event
from app.onboarding.states import Status

REMINDER = "reminder_sent"


def reminders_sent(request: OnboardingRequest) -> tuple[int, datetime | None]:
    """How many reminders the request got, and when the last one went."""
    count, last = db.session.execute(
        select(func.count(Event.id), func.max(Event.at)).where(
            Event.request_id == request.id, Event.kind == REMINDER
        )
    ).one()
    return int(count or 0), last


def due_for_reminder() -> list[uuid.UUID]:
    """Requests waiting on their owner, with an email address or mobile number, quiet for
    long enough since the last activity and the last reminder."""
    cutoff = utcnow() - current_app.config["REMINDER_AFTER"]
    reminded_lately = exists().where(
        Event.request_id == OnboardingRequest.id, Event.kind == REMINDER, Event.at > cutoff
    )
    return list(
        db.session.scalars(
            select(OnboardingRequest.id).where(
                OnboardingRequest.status == Status.PENDING,
                or_(
                    OnboardingRequest.email.is_not(None),
                    OnboardingRequest.customer_mobile.is_not(None),
                ),
                OnboardingRequest.last_activity_at <= cutoff,
                ~reminded_lately,
            )
        )
    )


def _last_message(request: OnboardingRequest) -> ConsentMessage | None:
    return db.session.scalar(
        select(ConsentMessage)
        .where(ConsentMessage.request_id == request.id)
        .order_by(ConsentMessage.created_at.desc(), ConsentMessage.id.desc())
        .limit(1)
    )


def contact(request: OnboardingRequest, last: ConsentMessage | None) -> tuple[str, str] | None:
    """(channel, recipient) for the next reminder, or None when the owner cannot be reached:
    their mobile when the last link went there or it is all we have, else their email."""
    mobile = request.customer_mobile if sms_available() else None
    if mobile and (not request.email or (last is not None and last.channel == MessageChannel.SMS)):
        return MessageChannel.SMS, mobile
    if request.email:
        return MessageChannel.EMAIL, request.email
    return None


def remind(request: OnboardingRequest) -> bool:
    """Send the next reminder if one is due (raises MessageNotSent when it could not go)."""
    if request.status != Status.PENDING or request.is_final:
        return False
    cutoff = utcnow() - current_app.config["REMINDER_AFTER"]
    count, last = reminders_sent(request)
    if request.last_activity_at > cutoff or (last is not None and last > cutoff):
        return False
    number = count + 1
    if number > current_app.config["REMINDER_MAX"]:
        return False
    last_message = _last_message(request)
    reach = contact(request, last_message)
    if reach is None:
        return False
    channel, recipient = reach
    sent = send_consent_link(
        request,
        channel,
        recipient,
        SYSTEM,
        submission_key=f"reminder-{number}",
        language=last_message.language if last_message is not None else DEFAULT_LANGUAGE,
    )
    record_event(
        request, REMINDER, SYSTEM, number=number, channel=channel, message_id=sent.message.id
    )
    return True
