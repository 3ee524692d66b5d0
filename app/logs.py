"""Secrets never reach a log: consent-link tokens, OAuth codes and states, bearer tokens.

Access logs (werkzeug's, gunicorn's) print each request's path and query, which carry a
consent link's token (/c/<token>) and an OAuth callback's `code` and `state`; our own
messages may quote a link. Every log record made in the process is cleaned when it is
created, whichever logger and handler it goes to.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask

REDACTED = "[redacted]"

# Query parameters whose value is a secret.
SECRET_PARAMETERS = (
    "code",
    "state",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code_verifier",
    "password",
)

_PATTERNS = (
    # A consent link: /c/<token>
    re.compile(r"(/c/)[^\s/?#\"']+"),
    re.compile(
        r"([?&;](?:%s)=)[^&;\s#\"']*" % "|".join(SECRET_PARAMETERS),  # noqa: UP031
        re.IGNORECASE,
    ),
    re.compile(r"(\bbearer\s+)[^\s\"']+", re.IGNORECASE),
    # An API key (app/models/user.py: "eo_" and 43 characters).
    re.compile(r"(\beo_)[A-Za-z0-9_-]{20,}"),
)


def redact(text: str) -> str:
    """`text` with every secret it carries replaced by [redacted]."""
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\1{REDACTED}", text)
    return text


def _clean(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return  # a malformed call: logging reports it itself when the record is emitted
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None


def init_app(app: Flask) -> None:
    """Clean every record from now on (once per process, however many apps are made)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts_secrets", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _clean(record)
        return record

    redacting_factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
