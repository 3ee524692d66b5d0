"""Sending a consent link by email or text message: what the owner receives, in which
language, what the request records, retries, failures, and the channels' backends (a real
SMTP server on a loopback port, the development file of text messages, a provider plugged
in by configuration)."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage as ParsedEmail
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Form, StringField

from app import create_app
from app.catalog import current_catalog
from app.config import ProductionConfig
from app.consent import links
from app.consent import messages as consent_messages
from app.consent.forms import SendLinkForm
from app.consent.links import LinkChannel
from app.consent.messages import MessageNotSent, send_consent_link
from app.extensions import db
from app.forms import email_address, mobile_number
from app.i18n import translate
from app.identifiers import IdentifierError
from app.messaging import mail, sms
from app.messaging.sms import SmsNotSent, sms_available
from app.models import ConsentLink, ConsentMessage, Event, OnboardingRequest, Tenant
from app.onboarding.audit import Actor
from app.onboarding.drafts import start_draft
from app.onboarding.errors import OnboardingError
from app.onboarding.lifecycle import cancel_request
from app.templating import format_date
from tests.integration.helpers import (
    AUDI_VIN,
    XENN_REFERENCE,
    in_db,
    link_path,
    make_world,
    path_of,
    pending_request,
    sent_emails,
    sent_texts,
    url,
)

INSTALLER = Actor("user:41")
EMAIL = "jan.peeters@example.com"
MOBILE = "+32 470 12 34 56"


@pytest.fixture
def request_id(app: Flask) -> uuid.UUID:
    make_world(app)  # tenant "Acme Energy"
    return pending_request(app)


@dataclass(frozen=True)
class Sent:
    message_id: int
    link_id: uuid.UUID
    url: str
    replayed: bool


def send(
    app: Flask,
    request_id: uuid.UUID,
    channel: str = "email",
    to: str = EMAIL,
    key: str = "key-1",
    *,
    language: str | None = None,
    page_language: str = "en",
    replace: bool = False,
) -> Sent:
    """One submission of a send form, committed as its view would; the page is in
    `page_language` (the browser's Accept-Language)."""
    # Its own app context: its own database session, as another web request would have.
    with app.app_context(), app.test_request_context(headers={"Accept-Language": page_language}):
        onboarding = db.session.get(OnboardingRequest, request_id)
        try:
            sent = send_consent_link(
                onboarding,
                channel,
                to,
                INSTALLER,
                submission_key=key,
                language=language,
                replace=replace,
            )
        except Exception:
            db.session.rollback()
            raise
        result = Sent(sent.message.id, sent.link.id, sent.url, sent.replayed)
        db.session.commit()
        return result


def count_of(app: Flask, model: type, **where: Any) -> int:
    with in_db(app) as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return session.scalar(query) or 0


def events(app: Flask, request_id: uuid.UUID, kind: str) -> list[Event]:
    with in_db(app) as session:
        found = list(
            session.scalars(select(Event).where(Event.request_id == request_id, Event.kind == kind))
        )
        session.expunge_all()
        return found


def shown(app: Flask, request_id: uuid.UUID) -> str:
    with app.test_request_context():
        link = links.consent_url(db.session.get(OnboardingRequest, request_id), INSTALLER)
        db.session.commit()
        return link_path(link)


def text_of(message) -> str:
    return message.body


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


# ---------------------------------------------------------------- email


def test_the_email_says_who_asks_for_which_device_the_link_and_until_when(app, request_id):
    sent = send(app, request_id)

    [email] = sent_emails(app)
    assert email.to == [EMAIL]
    assert email.from_email == "Acme Energy <no-reply@localhost>"
    assert (
        email.subject == "Acme Energy asks for your consent to connect your Audi electric vehicle"
    )
    text, html = text_of(email), html_of(email)
    for body in (text, html):
        assert "Acme Energy asks for your consent to connect your device" in body
        assert f"Audi electric vehicle · {AUDI_VIN}" in body
        assert sent.url in body
        assert "The link works until " in body
    assert sent.url.startswith("http://localhost/c/")
    assert f'<a href="{sent.url}"' in html and ">Give your consent</a>" in html
    assert '<html lang="en">' in html
    # The link in the message opens the request's consent pages.
    assert path_of(app.test_client().get(link_path(sent.url))) == url(request_id, "consent")


def test_the_email_escapes_the_tenants_name(app, request_id):
    with in_db(app) as session:
        session.scalar(select(Tenant).where(Tenant.slug == "acme")).name = "Acme <b>&</b> Co"
        session.commit()

    send(app, request_id)

    [email] = sent_emails(app)
    assert "Acme &lt;b&gt;&amp;&lt;/b&gt; Co" in html_of(email)
    assert "Acme <b>&</b> Co asks" in text_of(email)  # plain text is not HTML
    assert email.from_email == '"Acme <b>&</b> Co" <no-reply@localhost>'


def test_sending_records_the_message_and_an_event_with_the_address_masked(app, request_id):
    sent = send(app, request_id)

    with in_db(app) as session:
        message = session.get(ConsentMessage, sent.message_id)
        assert (message.channel, message.recipient) == ("email", EMAIL)
        assert (message.sent_by, message.language) == (INSTALLER.label, "en")
        assert message.provider_id and message.provider_id.startswith("<")
        assert message.link_id == sent.link_id
        assert session.get(ConsentLink, sent.link_id).channel == "email"
    [event] = events(app, request_id, "message_sent")
    assert event.actor == INSTALLER.label
    assert event.data == {
        "channel": "email",
        "to": "j•••s@example.com",
        "message_id": sent.message_id,
        "link_id": str(sent.link_id),
        "revoked": 0,
    }
    # One event for the whole hand-over: the link it carries is in it.
    assert events(app, request_id, "link_created") == []
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, request_id)
        assert onboarding.last_activity_at <= event.at
        assert onboarding.last_activity_at > onboarding.submitted_at
        assert consent_messages.messages_of(onboarding)[0].recipient == EMAIL
        assert consent_messages.message_for(request_id, sent.message_id) is not None
        assert consent_messages.message_for(uuid.uuid4(), sent.message_id) is None


def test_sending_carries_the_link_shown_before(app, request_id):
    """The QR code on the installer's screen, the text message and the email are one link:
    the owner can use whichever reaches them."""
    qr_link = shown(app, request_id)

    by_text = send(app, request_id, channel="sms", to="+32 470 12 34 56", key="form-1")
    by_email = send(app, request_id, key="form-2")

    assert link_path(by_text.url) == link_path(by_email.url) == qr_link
    assert app.test_client().get(qr_link).status_code != 410
    assert [e.data["revoked"] for e in events(app, request_id, "message_sent")] == [0, 0]


def test_support_resend_replaces_every_older_link(app, request_id):
    qr_link = shown(app, request_id)

    sent = send(app, request_id, replace=True)

    assert app.test_client().get(qr_link).status_code == 410
    assert shown(app, request_id) == link_path(sent.url)
    [event] = events(app, request_id, "message_sent")
    assert event.data["revoked"] == 1


def test_a_message_to_another_address_replaces_the_link(app, request_id):
    """The first address may have been mistyped: its link must stop working."""
    first = send(app, request_id, to="jan.peters@example.com", key="form-1")

    second = send(app, request_id, to=EMAIL, key="form-2")

    assert second.link_id != first.link_id
    assert app.test_client().get(link_path(first.url)).status_code == 410


@pytest.mark.parametrize(
    ("language", "subject", "sentence", "button"),
    [
        (
            "nl",
            "Acme Energy vraagt uw toestemming om uw Audi elektrische auto te verbinden",
            "De link werkt tot ",
            "Geef uw toestemming",
        ),
        (
            "fr",
            "Acme Energy demande votre consentement pour connecter votre Audi "
            "(véhicule électrique)",
            "Le lien fonctionne jusqu\N{RIGHT SINGLE QUOTATION MARK}au ",
            "Donnez votre consentement",
        ),
        (
            "de",
            "Acme Energy bittet um Ihre Einwilligung: Audi Elektrofahrzeug verbinden",
            "Der Link funktioniert bis zum ",
            "Erteilen Sie Ihre Einwilligung",
        ),
    ],
)
def test_the_email_is_in_the_pages_language(app, request_id, language, subject, sentence, button):
    send(app, request_id, page_language=language)

    [email] = sent_emails(app)
    assert email.subject == subject
    assert sentence in text_of(email) and sentence in html_of(email)
    assert f">{button}</a>" in html_of(email)
    assert f'<html lang="{language}">' in html_of(email)
    assert "The link works" not in text_of(email)


def test_the_language_can_be_chosen_for_the_owner(app, request_id):
    sent = send(app, request_id, language="de", page_language="en")

    [email] = sent_emails(app)
    assert email.subject.startswith("Acme Energy bittet um Ihre Einwilligung")
    with in_db(app) as session:
        assert session.get(ConsentMessage, sent.message_id).language == "de"


# ---------------------------------------------------------------- text message


def test_the_text_message_is_short_and_carries_the_link(app, request_id):
    sent = send(app, request_id, "sms", MOBILE)

    [text] = sent_texts(app)
    assert text.to == "+32470123456"
    assert text.body.startswith(
        "Acme Energy asks for your consent to connect your Audi electric vehicle. Give it here: "
    )
    assert sent.url in text.body and "(works until " in text.body
    assert len(text.body) < 200
    with in_db(app) as session:
        message = session.get(ConsentMessage, sent.message_id)
        assert (message.channel, message.recipient, message.provider_id) == (
            "sms",
            "+32470123456",
            text.id,
        )
    [event] = events(app, request_id, "message_sent")
    assert (event.data["channel"], event.data["to"]) == ("sms", "+32 ••• ••• 456")
    assert sent_emails(app) == []


def test_a_message_names_each_kind_of_device(app):
    make_world(app)
    xenn = pending_request(app, "acme", "RetrofitMeter", "Xenn", reference=XENN_REFERENCE)

    send(app, xenn, "sms", MOBILE)
    send(app, xenn, "email", EMAIL)

    [text] = sent_texts(app)
    [email] = sent_emails(app)
    assert "connect your Xenn retrofit meter reader." in text.body
    assert f"Xenn retrofit meter reader · {XENN_REFERENCE}" in email.body


def test_a_text_message_in_dutch(app, request_id):
    send(app, request_id, "sms", MOBILE, page_language="nl")

    [text] = sent_texts(app)
    assert text.body.startswith(
        "Acme Energy vraagt uw toestemming om uw Audi elektrische auto te verbinden. "
        "Geef ze hier: http://localhost/c/"
    )
    assert "(werkt tot " in text.body


# ---------------------------------------------------------------- retries


def test_a_retried_submission_sends_and_records_nothing_more(app, request_id):
    first = send(app, request_id, key="form-1")

    again = send(app, request_id, key="form-1")
    # The address typed a little differently is still the same address.
    third = send(
        app, request_id, to=f"  {EMAIL.replace('example.com', 'EXAMPLE.com')} ", key="form-1"
    )

    assert not first.replayed and again.replayed and third.replayed
    assert again == Sent(first.message_id, first.link_id, first.url, True) == third
    assert len(sent_emails(app)) == 1
    assert count_of(app, ConsentMessage) == 1
    assert count_of(app, ConsentLink) == 1
    assert len(events(app, request_id, "message_sent")) == 1
    # The retry did not revoke the link it had sent.
    assert path_of(app.test_client().get(link_path(first.url))) == url(request_id, "consent")


def test_a_retry_after_the_request_finished_still_answers_what_was_sent(app, request_id):
    first = send(app, request_id, key="form-1")
    with in_db(app) as session:
        cancel_request(session.get(OnboardingRequest, request_id), INSTALLER)
        session.commit()

    assert send(app, request_id, key="form-1").replayed
    assert len(sent_emails(app)) == 1 and first.message_id


def test_the_same_form_corrected_to_another_address_sends_to_it(app, request_id):
    # Sent to a typo while the network failed; the installer corrects it and presses again.
    wrong = send(app, request_id, to="jan.peters@example.com", key="form-1")

    right = send(app, request_id, to=EMAIL, key="form-1")

    assert not right.replayed and right.link_id != wrong.link_id
    assert [e.to for e in sent_emails(app)] == [["jan.peters@example.com"], [EMAIL]]
    # The link that went to the wrong address no longer opens anything.
    assert app.test_client().get(link_path(wrong.url)).status_code == 410


def test_a_new_form_sends_again(app, request_id):
    send(app, request_id, key="form-1")
    send(app, request_id, key="form-2")

    assert len(sent_emails(app)) == 2
    assert len(events(app, request_id, "message_sent")) == 2


def test_a_twin_submission_at_the_same_moment_sends_nothing_more(app, request_id, monkeypatch):
    """Two identical submissions at once (a double tap on a flaky network): the twin read
    the request and found no message before the first was committed."""
    with app.app_context(), app.test_request_context():
        onboarding = db.session.get(OnboardingRequest, request_id)
        assert consent_messages._previous(onboarding, "form-1", "email", EMAIL) is None

        first = send(app, request_id, key="form-1")  # lands first, in its own transaction

        # The twin's look-up above came before that commit; it goes on from there.
        monkeypatch.setattr(consent_messages, "_previous", lambda *args: None)
        with pytest.raises(StaleDataError):
            consent_messages.send_consent_link(
                onboarding, "email", EMAIL, INSTALLER, submission_key="form-1"
            )
        db.session.rollback()
        monkeypatch.undo()

    assert len(sent_emails(app)) == 1
    assert count_of(app, ConsentMessage) == 1 and count_of(app, ConsentLink) == 1
    assert len(events(app, request_id, "message_sent")) == 1
    assert path_of(app.test_client().get(link_path(first.url))) == url(request_id, "consent")
    # Pressed again, the twin's form answers what the first sent.
    assert send(app, request_id, key="form-1").replayed


def test_the_database_refuses_a_second_message_for_one_submission(app, request_id):
    send(app, request_id, key="form-1")
    with app.app_context():
        first = db.session.scalars(select(ConsentMessage)).one()
        db.session.add(
            ConsentMessage(
                request_id=request_id,
                link_id=first.link_id,
                channel="email",
                recipient=EMAIL,
                submission_key="form-1",
                language="en",
                sent_by=INSTALLER.label,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# ---------------------------------------------------------------- refusals and failures


@pytest.mark.parametrize(
    ("channel", "to", "message"),
    [
        (
            "email",
            "jan.peeters@example",
            "Enter the part after the @ in full, as in name@example.com.",
        ),
        ("email", "", "Enter an email address"),
        ("sms", "0470 12 34 56", "Start with the country code, for example +32 470 12 34 56."),
        (
            "sms",
            "+32 2 511 11 11",
            "This is not a mobile number; text messages only reach mobile phones.",
        ),
        (
            "sms",
            EMAIL,
            'A mobile number has only digits, spaces and a + at the start; this one has "j".',
        ),
    ],
)
def test_a_bad_address_sends_nothing(app, request_id, channel, to, message):
    with pytest.raises(IdentifierError) as caught:
        send(app, request_id, channel, to)

    assert caught.value.message == message
    assert sent_emails(app) == [] and sent_texts(app) == []
    assert count_of(app, ConsentMessage) == 0 and count_of(app, ConsentLink) == 0


def test_a_national_mobile_number_is_read_in_the_configured_country(app, request_id):
    app.config["PHONE_DEFAULT_REGION"] = "BE"

    send(app, request_id, "sms", "0470 12 34 56")

    assert [t.to for t in sent_texts(app)] == ["+32470123456"]


def test_an_unknown_channel_is_a_programming_error(app, request_id):
    with pytest.raises(ValueError):
        send(app, request_id, "pigeon", EMAIL)
    with pytest.raises(ValueError):
        send(app, request_id, key="")


def test_a_finished_request_sends_nothing(app, request_id):
    with in_db(app) as session:
        cancel_request(session.get(OnboardingRequest, request_id), INSTALLER)
        session.commit()

    with pytest.raises(OnboardingError) as caught:
        send(app, request_id)

    assert str(caught.value) == "This request is finished: there is nothing left to consent to."
    assert sent_emails(app) == [] and count_of(app, ConsentMessage) == 0


def test_a_draft_sends_nothing(app):
    world = make_world(app)
    with app.test_request_context(), in_db(app) as session:
        tenant = session.get(Tenant, world.acme_id)
        draft = start_draft(tenant, None, "EV", current_catalog(), INSTALLER)
        session.commit()
        draft_id = draft.id

    with pytest.raises(OnboardingError):
        send(app, draft_id)
    assert sent_emails(app) == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def use_smtp(app: Flask, port: int) -> None:
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    mail.init_app(app)


def test_a_mail_server_that_does_not_answer_sends_nothing_and_keeps_the_old_link(app, request_id):
    old = shown(app, request_id)
    use_smtp(app, free_port())  # nobody listens there

    with pytest.raises(MessageNotSent) as caught:
        send(app, request_id)

    with app.test_request_context():
        assert translate(caught.value) == (
            "The email could not be sent just now. Nothing was sent; try again in a minute."
        )
    assert count_of(app, ConsentMessage) == 0 and count_of(app, ConsentLink) == 1
    assert events(app, request_id, "message_sent") == []
    assert app.test_client().get(old).status_code == 302


# ---------------------------------------------------------------- SMTP for real


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_the_email_goes_through_a_real_smtp_server(app, request_id, smtp_server):
    port, inbox = smtp_server
    use_smtp(app, port)

    sent = send(app, request_id)

    [envelope] = inbox.envelopes
    assert envelope.mail_from == "no-reply@localhost"
    assert envelope.rcpt_tos == [EMAIL]
    received: ParsedEmail = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[assignment]
    assert received["To"] == EMAIL
    assert received["From"] == "Acme Energy <no-reply@localhost>"
    assert received["Subject"] == (
        "Acme Energy asks for your consent to connect your Audi electric vehicle"
    )
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and html is not None
    assert sent.url in text.get_content() and sent.url in html.get_content()
    with in_db(app) as session:
        assert session.get(ConsentMessage, sent.message_id).provider_id == received["Message-ID"]


# ---------------------------------------------------------------- text message backends


def test_the_development_backend_writes_each_text_message_to_a_file(app, request_id, tmp_path):
    path = tmp_path / "instance" / "sms.jsonl"
    app.config.update(SMS_BACKEND="file", SMS_FILE_PATH=str(path))
    sms.init_app(app)

    send(app, request_id, "sms", MOBILE, key="a")
    send(app, request_id, "sms", "+31 6 12345678", key="b")

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["to"] for line in lines] == ["+32470123456", "+31612345678"]
    assert all("Acme Energy asks for your consent" in line["body"] for line in lines)
    assert [t.to for t in sent_texts(app)] == ["+32470123456", "+31612345678"]


def test_development_keeps_messages_under_instance_and_production_sends_them(app, tmp_path):
    development = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.db'}", "MAIL_BACKEND": None}
    )
    instance = development.instance_path
    assert development.config["MAIL_BACKEND"] == "file"
    assert development.config["MAIL_FILE_PATH"] == f"{instance}/mail"
    assert development.config["SMS_BACKEND"] == "file"
    assert development.config["SMS_FILE_PATH"] == f"{instance}/sms.jsonl"
    assert app.config["MAIL_BACKEND"] == "locmem" and app.config["SMS_BACKEND"] == "memory"
    assert ProductionConfig.MAIL_BACKEND == "smtp"
    assert ProductionConfig.SMS_BACKEND == "disabled"


class RecordingProvider:
    """A provider plugged in by configuration (SMS_BACKEND="module:Class")."""

    sent: ClassVar[list[tuple[str, str, str]]] = []

    def __init__(self, config: Any) -> None:
        self.sender = config["SMS_SENDER"]

    def send(self, to: str, body: str) -> str:
        self.sent.append((self.sender, to, body))
        return f"provider-{len(self.sent)}"


class BrokenProvider:
    def __init__(self, config: Any) -> None:
        pass

    def send(self, to: str, body: str) -> str:
        raise SmsNotSent("503 from the provider")


def test_a_provider_is_plugged_in_by_configuration(app, request_id, monkeypatch):
    monkeypatch.setattr(RecordingProvider, "sent", [])
    app.config.update(SMS_BACKEND=f"{__name__}:RecordingProvider", SMS_SENDER="AcmeEnergy")
    sms.init_app(app)

    sent = send(app, request_id, "sms", MOBILE)

    [(sender, to, body)] = RecordingProvider.sent
    assert (sender, to) == ("AcmeEnergy", "+32470123456")
    assert sent.url in body
    with in_db(app) as session:
        assert session.get(ConsentMessage, sent.message_id).provider_id == "provider-1"
    with pytest.raises(RuntimeError):
        sms.sent_sms(app)  # a real provider keeps nothing here


def test_a_provider_failure_sends_nothing(app, request_id):
    app.config.update(SMS_BACKEND=f"{__name__}.BrokenProvider")
    sms.init_app(app)

    with pytest.raises(MessageNotSent) as caught:
        send(app, request_id, "sms", MOBILE)

    assert "The text message could not be sent just now" in str(caught.value)
    assert count_of(app, ConsentMessage) == 0 and events(app, request_id, "message_sent") == []


def test_without_a_provider_text_messages_are_not_offered(app, request_id):
    app.config.update(SMS_BACKEND="disabled")
    sms.init_app(app)
    with app.app_context():
        assert not sms_available()

    with pytest.raises(MessageNotSent) as caught:
        send(app, request_id, "sms", MOBILE)

    assert str(caught.value).startswith("Text messages cannot be sent from here yet.")


def test_an_unknown_backend_name_fails_at_start(app):
    app.config.update(SMS_BACKEND="carrier-pigeon")
    with pytest.raises(RuntimeError, match="SMS_BACKEND='carrier-pigeon'"):
        sms.init_app(app)


# ---------------------------------------------------------------- the form pages can use


def form(app: Flask, data: dict[str, str], language: str = "en") -> SendLinkForm:
    with app.test_request_context(method="POST", data=data, headers={"Accept-Language": language}):
        result = SendLinkForm()
        result.validate()
        return result


def test_the_send_form_normalises_what_is_typed(app):
    valid = form(app, {"channel": "sms", "to": "0032 470 12 34 56", "submission_key": "k"})

    assert valid.errors == {}
    assert valid.to.data == "+32470123456"


def test_the_send_form_says_what_is_wrong_next_to_the_field(app):
    invalid = form(app, {"channel": "email", "to": "jan@", "submission_key": "k"}, "nl")

    assert invalid.errors == {"to": ["Vul het deel na de @ in, zoals in name@example.com."]}
    assert invalid.to.data == "jan@"  # what was typed is kept
    assert form(app, {"to": EMAIL, "submission_key": "k"}).errors == {
        "channel": ["Choose email or text message."]
    }


def test_a_new_send_form_carries_a_fresh_submission_key(app):
    with app.test_request_context():
        first, second = SendLinkForm(), SendLinkForm()
        assert first.submission_key.data and first.submission_key.data != second.submission_key.data
        assert 'type="hidden"' in str(first.submission_key)


def test_contact_validators_for_other_forms(app):
    class CustomerForm(Form):
        email = StringField(validators=[email_address()])
        mobile = StringField(validators=[mobile_number()])

    with app.test_request_context():
        customer = CustomerForm(data={"email": " Jan@Example.COM ", "mobile": "+32470123456"})
        assert customer.validate()
        assert (customer.email.data, customer.mobile.data) == ("Jan@example.com", "+32470123456")
        empty = CustomerForm(data={"email": "", "mobile": ""})
        assert empty.validate()  # optional unless the page adds InputRequired
        wrong = CustomerForm(data={"email": "jan", "mobile": "+32 2 511 11 11"})
        assert not wrong.validate()
        assert wrong.errors == {
            "email": ["An email address has an @, as in name@example.com."],
            "mobile": ["This is not a mobile number; text messages only reach mobile phones."],
        }


def test_the_link_lifetime_in_the_message_follows_the_configuration(app, request_id):
    app.config["CONSENT_LINK_MAX_AGE"] = timedelta(days=3)
    with app.test_request_context():
        onboarding = db.session.get(OnboardingRequest, request_id)
        link = links.current_link(onboarding, INSTALLER)
        rendered = consent_messages.render_consent_message(onboarding, link, "en")
        until = format_date(link.created_at + timedelta(days=3))
        assert f"The link works until {until}." in rendered.text
        assert links.link_url(link) in rendered.sms
        db.session.rollback()


def test_message_channel_values_match_link_channels():
    assert {c.value for c in consent_messages.MessageChannel} <= {c.value for c in LinkChannel}
