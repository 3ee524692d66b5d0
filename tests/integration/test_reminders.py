"""Reminders: at the threshold, capped, never after a final status (the job's logic, run
inline)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask import Flask

from app.consent.links import consent_url
from app.consent.messages import send_consent_link
from app.extensions import db
from app.jobs.tasks import send_reminders
from app.models import Event, OnboardingRequest, utcnow
from app.onboarding.audit import SYSTEM
from app.onboarding.lifecycle import cancel_request
from tests.integration.helpers import (
    AUDI_VIN,
    in_db,
    link_path,
    pending_request,
    sent_emails,
    sent_texts,
)

OWNER = "owner@example.com"
AFTER = timedelta(hours=72)


@pytest.fixture
def waiting(app: Flask, world) -> uuid.UUID:
    app.config.update(REMINDER_AFTER=AFTER, REMINDER_MAX=2)
    return pending_request(app, vin=AUDI_VIN, email=OWNER)


def quiet_for(app: Flask, request_id: uuid.UUID, age: timedelta) -> None:
    """Nothing happened on the request for `age`, and no reminder went since."""
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        request.last_activity_at = utcnow() - age
        for event in session.query(Event).filter_by(request_id=request_id, kind="reminder_sent"):
            event.at = min(event.at, utcnow() - age)
        session.commit()


def reminders(app: Flask, request_id: uuid.UUID) -> list[Event]:
    with in_db(app) as session:
        return session.query(Event).filter_by(request_id=request_id, kind="reminder_sent").all()


def test_a_reminder_goes_at_the_threshold_and_not_before(app: Flask, waiting: uuid.UUID):
    quiet_for(app, waiting, AFTER - timedelta(minutes=5))
    send_reminders.call_local()
    assert sent_emails(app) == [] and reminders(app, waiting) == []

    quiet_for(app, waiting, AFTER)
    send_reminders.call_local()

    [mail] = sent_emails(app)
    assert mail.to == [OWNER]
    assert "asks for your consent" in mail.subject
    [event] = reminders(app, waiting)
    assert event.data["number"] == 1 and event.actor == "system"
    send_reminders.call_local()  # the next one waits REMINDER_AFTER from this one
    assert len(sent_emails(app)) == 1


def test_a_reminder_is_not_activity(app: Flask, waiting: uuid.UUID):
    """A customer who never answers stays stalled in the support console, and the
    reminder carries the link the installer showed, which keeps working."""
    with app.test_request_context():
        shown_url = link_path(consent_url(db.session.get(OnboardingRequest, waiting)))
        db.session.commit()
    quiet_for(app, waiting, AFTER)
    with in_db(app) as session:
        before = session.get(OnboardingRequest, waiting).last_activity_at

    send_reminders.call_local()

    assert len(reminders(app, waiting)) == 1
    with in_db(app) as session:
        assert session.get(OnboardingRequest, waiting).last_activity_at == before
    assert shown_url in sent_emails(app)[0].body
    assert app.test_client().get(shown_url).status_code != 410


def test_reminders_stop_at_the_cap(app: Flask, waiting: uuid.UUID):
    for _ in range(4):
        quiet_for(app, waiting, AFTER * 2)
        send_reminders.call_local()

    assert len(sent_emails(app)) == 2
    assert [e.data["number"] for e in reminders(app, waiting)] == [1, 2]


def test_no_reminder_once_the_request_is_final(app: Flask, waiting: uuid.UUID):
    with in_db(app) as session:
        cancel_request(session.get(OnboardingRequest, waiting), SYSTEM, reason="not wanted")
        session.commit()
    quiet_for(app, waiting, AFTER * 10)

    send_reminders.call_local()

    assert sent_emails(app) == [] and reminders(app, waiting) == []


MOBILE = "+32470123456"


def with_mobile(app: Flask, request_id: uuid.UUID, email: str | None) -> None:
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        request.customer_mobile = MOBILE
        request.email = email
        session.commit()


def test_a_reminder_goes_by_text_message_when_a_mobile_number_is_the_contact(
    app: Flask, waiting: uuid.UUID
):
    with_mobile(app, waiting, email=None)
    for _ in range(4):
        quiet_for(app, waiting, AFTER * 2)
        send_reminders.call_local()

    texts = sent_texts(app)
    assert [t.to for t in texts] == [MOBILE, MOBILE]  # capped like emails
    assert "/c/" in texts[0].body
    assert sent_emails(app) == []
    assert [(e.data["number"], e.data["channel"]) for e in reminders(app, waiting)] == [
        (1, "sms"),
        (2, "sms"),
    ]


def test_a_reminder_follows_the_owner_to_the_mobile_the_last_link_went_to(
    app: Flask, waiting: uuid.UUID
):
    with_mobile(app, waiting, email=OWNER)
    with app.test_request_context(), in_db(app) as session:
        request = session.get(OnboardingRequest, waiting)
        send_consent_link(request, "sms", MOBILE, SYSTEM, submission_key="first")
        session.commit()
    quiet_for(app, waiting, AFTER)

    send_reminders.call_local()

    assert [t.to for t in sent_texts(app)] == [MOBILE, MOBILE]
    assert sent_emails(app) == []
    [event] = reminders(app, waiting)
    assert event.data["channel"] == "sms"


def test_no_text_reminder_once_the_request_is_final(app: Flask, waiting: uuid.UUID):
    with_mobile(app, waiting, email=None)
    with in_db(app) as session:
        cancel_request(session.get(OnboardingRequest, waiting), SYSTEM, reason="not wanted")
        session.commit()
    quiet_for(app, waiting, AFTER * 10)

    send_reminders.call_local()

    assert sent_texts(app) == [] and reminders(app, waiting) == []
