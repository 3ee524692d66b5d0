"""Reaching people outside the app: email (Flask-Mailman) and text messages (a provider).

Channels only; what a message says and when it is sent is decided by the domain (e.g.
app/consent/messages.py for consent links).
"""

from __future__ import annotations

from flask import Flask

from app.messaging import mail, sms
from app.messaging.mail import MailNotSent, send_email
from app.messaging.sms import SmsNotSent, SmsUnavailable, send_sms, sms_available

__all__ = [
    "MailNotSent",
    "SmsNotSent",
    "SmsUnavailable",
    "init_app",
    "send_email",
    "send_sms",
    "sms_available",
]


def init_app(app: Flask) -> None:
    mail.init_app(app)
    sms.init_app(app)
