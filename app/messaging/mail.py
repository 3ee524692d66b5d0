"""Email through Flask-Mailman: SMTP in production, kept in files in development, in memory
under tests (see MAIL_* in app/config.py)."""

from __future__ import annotations

import smtplib
from email.utils import formataddr, parseaddr
from pathlib import Path

from flask import Flask, current_app
from flask_mailman import EmailMessage, EmailMultiAlternatives, Mail, make_msgid

mail = Mail()


class MailNotSent(Exception):
    """The mail server could not be reached or refused the message."""


def init_app(app: Flask) -> None:
    if not app.config.get("MAIL_BACKEND"):
        app.config["MAIL_BACKEND"] = "locmem" if app.testing else "file"
    if not app.config.get("MAIL_FILE_PATH"):
        app.config["MAIL_FILE_PATH"] = str(Path(app.instance_path) / "mail")
    mail.init_app(app)


def _one_line(text: str) -> str:
    # A header never holds a line break (Flask-Mailman refuses one as header injection).
    return " ".join(text.split())


def send_email(
    to: str, subject: str, text: str, html: str | None = None, *, sender_name: str | None = None
) -> str:
    """Send one message (plain text, and HTML as its alternative); return its Message-ID.

    `sender_name` is shown with the configured From address ("Acme Energy
    <no-reply@...>"), so the owner sees who asks. Raise MailNotSent when it could not go.
    """
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    sender = formataddr((_one_line(sender_name), address)) if sender_name else address
    # Our own Message-ID (on the sender's domain) names the message in the request's records.
    message_id = make_msgid(domain=address.rpartition("@")[2] or "localhost")
    message = EmailMultiAlternatives(
        subject=_one_line(subject),
        body=text,
        from_email=sender,
        to=[to],
        headers={"Message-ID": message_id},
        connection=mail.get_connection(),
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        raise MailNotSent(str(error)) from error
    return message_id


def outbox(app: Flask | None = None) -> list[EmailMessage]:
    """The messages the memory backend ("locmem") kept, oldest first (for tests)."""
    state = (app or current_app).extensions["mailman"]
    return list(getattr(state, "outbox", []))
