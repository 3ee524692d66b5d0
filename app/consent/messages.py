"""Sending a request's consent link to its owner by email or text message.

`send_consent_link` is the one door: the installer's hand-over, support's resend and the
reminders call it. A message carries the link the request is already giving out (the
installer's QR code, a text message and an email are one link the owner can use from any
of them); support's resend asks for a new link, which stops the older ones. It flushes and
never commits; the view commits on success and rolls back when it raises (then nothing was
sent and the older links still work).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.consent import links
from app.consent.links import LinkChannel
from app.contacts import mask_email, mask_mobile, validate_email, validate_mobile
from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language, in_sentence
from app.identifiers import N_
from app.messaging import MailNotSent, SmsNotSent, SmsUnavailable, send_email, send_sms
from app.models import ConsentLink, ConsentMessage, OnboardingRequest, utcnow
from app.onboarding.audit import SYSTEM, Actor, record_event, touch
from app.onboarding.errors import OnboardingError
from app.onboarding.states import Status
from app.templating import device_name, format_date, type_label

SUBMISSION_KEY_MAX_LENGTH = 100


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class MessageNotSent(Exception):
    """The mail server or SMS provider did not take the message; nothing was recorded.

    `template` and `params` make the message for the person (`app.i18n.translate`).
    """

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


@dataclass(frozen=True)
class SentLink:
    """What a submission sent: the message, its link and URL; `replayed` for a retry that
    sent nothing new (the same submission key, channel and recipient as before)."""

    message: ConsentMessage
    link: ConsentLink
    url: str
    replayed: bool


def new_submission_key() -> str:
    """A key for one rendering of a send form (a hidden field): its retries share it."""
    return secrets.token_urlsafe(16)


def clean_recipient(channel: str, to: str) -> str:
    """The address or number normalised for `channel`, or IdentifierError saying what is wrong."""
    if MessageChannel(channel) == MessageChannel.EMAIL:
        return validate_email(to)
    return validate_mobile(to, current_app.config.get("PHONE_DEFAULT_REGION"))


def masked(channel: str, recipient: str) -> str:
    """The recipient as the timeline shows it: "a•••e@example.com", "+32 ••• ••• 456"."""
    if channel == MessageChannel.EMAIL:
        return mask_email(recipient)
    return mask_mobile(recipient)


def messages_of(request: OnboardingRequest) -> list[ConsentMessage]:
    """Every message that carried a link of this request, newest first, full addresses."""
    return list(
        db.session.scalars(
            select(ConsentMessage)
            .where(ConsentMessage.request_id == request.id)
            .order_by(ConsentMessage.created_at.desc(), ConsentMessage.id.desc())
        )
    )


def _previous(
    request: OnboardingRequest, submission_key: str, channel: str, recipient: str
) -> ConsentMessage | None:
    return db.session.scalar(
        select(ConsentMessage).where(
            ConsentMessage.request_id == request.id,
            ConsentMessage.submission_key == submission_key,
            ConsentMessage.channel == channel,
            ConsentMessage.recipient == recipient,
        )
    )


def _went_elsewhere(request: OnboardingRequest, channel: str, recipient: str) -> bool:
    """Whether the request's last message on `channel` went to someone else: a mistyped
    address, or one the owner no longer uses, must not keep a working link."""
    last = db.session.scalar(
        select(ConsentMessage.recipient)
        .where(ConsentMessage.request_id == request.id, ConsentMessage.channel == channel)
        .order_by(ConsentMessage.created_at.desc(), ConsentMessage.id.desc())
        .limit(1)
    )
    return last is not None and last != recipient


def _replay(message: ConsentMessage) -> SentLink:
    return SentLink(message, message.link, links.link_url(message.link), replayed=True)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    sms: str


def render_consent_message(
    request: OnboardingRequest, link: ConsentLink, language: str
) -> RenderedMessage:
    """The message carrying `link`, in `language`: who asks (the tenant), for which device,
    the link, and until when it works."""
    with force_locale(language):
        kind = in_sentence(type_label(request.type))
        if request.manufacturer:
            kind = gettext(
                "%(manufacturer)s %(type)s", manufacturer=request.manufacturer, type=kind
            )
        context = {
            "language": language,
            "tenant": request.tenant.name,
            "kind": kind,  # "Audi electric vehicle"
            "device": device_name(request),  # "Audi electric vehicle · WAUZZZ8V0KA000000"
            "url": links.link_url(link),
            "until": format_date(links.expires_at(link)),
        }
        subject = gettext(
            "%(tenant)s asks for your consent to connect your %(device)s",
            tenant=context["tenant"],
            device=kind,
        )
        return RenderedMessage(
            subject=subject,
            text=render_template("messages/consent_link.txt", subject=subject, **context),
            html=render_template("messages/consent_link.html", subject=subject, **context),
            sms=" ".join(render_template("messages/consent_link_sms.txt", **context).split()),
        )


def send_consent_link(
    request: OnboardingRequest,
    channel: str,
    to: str,
    actor: Actor,
    *,
    submission_key: str,
    language: str | None = None,
    replace: bool = False,
) -> SentLink:
    """Send the request's consent link to `to`: its current link (`links.current_link`),
    or a new one that revokes the older ones when `replace` asks for it or the last
    message by this channel went to another recipient (a correction).

    `channel` is "email" or "sms"; `to` is checked and normalised (IdentifierError when it
    is not an address or mobile number). The message is in `language` (default: the
    page's). The same `submission_key` with the same channel and recipient is a retry: it
    sends nothing and records nothing, and answers what the first one sent. Records a
    `message_sent` event (recipient masked; the full one is on the ConsentMessage).
    Raises OnboardingError when the request has nothing left to consent to, and
    MessageNotSent when the message could not go (roll back: the old links still work).
    """
    channel = MessageChannel(channel)
    if not submission_key or len(submission_key) > SUBMISSION_KEY_MAX_LENGTH:
        raise ValueError(f"submission_key must be 1 to {SUBMISSION_KEY_MAX_LENGTH} characters")
    recipient = clean_recipient(channel, to)
    previous = _previous(request, submission_key, channel, recipient)
    if previous is not None:
        return _replay(previous)
    if request.status == Status.DRAFT:
        raise OnboardingError(N_("This request was not sent yet: check its answers and send it."))
    if request.is_final:
        raise OnboardingError(N_("This request is finished: there is nothing left to consent to."))
    language = language if language in LANGUAGES else (current_language() or DEFAULT_LANGUAGE)

    # A person sending counts as activity on the request, and the touch comes first: its
    # version check makes a concurrent twin of this submission (or any change to the
    # request since it was read) fail here with StaleDataError, before anything is sent.
    # A reminder is not activity (the request stays stalled in the console); for it, as
    # for everyone, the unique key on the message is the database's guard.
    if actor != SYSTEM:
        touch(request)
        db.session.flush()
    if replace or _went_elsewhere(request, channel, recipient):
        link, revoked = links.replace_links(request, actor, LinkChannel(channel.value))
    else:
        link = links.current_link(request, actor, LinkChannel(channel.value), record=False)
        revoked = 0
    message = ConsentMessage(
        request=request,
        link=link,
        channel=channel,
        recipient=recipient,
        submission_key=submission_key,
        language=language,
        sent_by=actor.label,
        created_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()

    rendered = render_consent_message(request, link, language)
    try:
        if channel == MessageChannel.EMAIL:
            message.provider_id = send_email(
                recipient,
                rendered.subject,
                rendered.text,
                rendered.html,
                sender_name=request.tenant.name,
            )
        else:
            message.provider_id = send_sms(recipient, rendered.sms)
    except MailNotSent as error:
        current_app.logger.warning("Consent link email to request %s failed: %s", request.id, error)
        raise MessageNotSent(
            N_("The email could not be sent just now. Nothing was sent; try again in a minute.")
        ) from error
    except SmsUnavailable as error:
        raise MessageNotSent(
            N_(
                "Text messages cannot be sent from here yet. Send the link by email, or show "
                "the QR code."
            )
        ) from error
    except SmsNotSent as error:
        current_app.logger.warning("Consent link SMS to request %s failed: %s", request.id, error)
        raise MessageNotSent(
            N_(
                "The text message could not be sent just now. Nothing was sent; try again in "
                "a minute, or send the link by email."
            )
        ) from error
    record_event(
        request,
        "message_sent",
        actor,
        channel=str(channel),
        to=masked(channel, recipient),
        message_id=message.id,
        link_id=str(link.id),
        revoked=revoked,
    )
    db.session.flush()
    return SentLink(message, link, links.link_url(link), replayed=False)


def message_for(request_id: uuid.UUID, message_id: int) -> ConsentMessage | None:
    """A message of this request by its id (the `message_id` of a `message_sent` event)."""
    message = db.session.get(ConsentMessage, message_id)
    return message if message is not None and message.request_id == request_id else None
