"""Text messages through one small provider interface: `send_sms(to, body)`.

The backend is chosen by SMS_BACKEND: "file" (development: every message a JSON line of
SMS_FILE_PATH, instance/sms.jsonl by default, to read while trying the app), "memory"
(tests), "disabled" (production until a provider is configured), or a provider's class as
"package.module:Class". A provider class is built once per app with the app's config and
has one method, `send(to, body) -> str`, returning the provider's id for the message;
it raises SmsNotSent when the message could not go.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from app.models.types import utcnow

EXTENSION_KEY = "sms"


class SmsNotSent(Exception):
    """The provider could not be reached or refused the message."""


class SmsUnavailable(SmsNotSent):
    """No provider is configured, so no text message can be sent."""


class SmsBackend(Protocol):
    """What a provider implements. `to` is an E.164 number ("+32470123456")."""

    def send(self, to: str, body: str) -> str: ...


@dataclass(frozen=True)
class TextMessage:
    """A text message as the development and test backends keep it."""

    id: str
    to: str
    body: str
    sender: str
    at: str  # ISO 8601, UTC


def _message(config: Mapping[str, Any], to: str, body: str) -> TextMessage:
    return TextMessage(
        id=f"dev-{uuid.uuid4().hex}",
        to=to,
        body=body,
        sender=str(config.get("SMS_SENDER") or ""),
        at=utcnow().isoformat(),
    )


class MemorySmsBackend:
    """Keeps every message in `outbox` (tests)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.outbox: list[TextMessage] = []

    def send(self, to: str, body: str) -> str:
        message = _message(self.config, to, body)
        self.outbox.append(message)
        return message.id

    def messages(self) -> list[TextMessage]:
        return list(self.outbox)


class FileSmsBackend:
    """Appends every message to a JSON-lines file (development), one line per message."""

    _lock = threading.Lock()

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.path = Path(config["SMS_FILE_PATH"])

    def send(self, to: str, body: str) -> str:
        message = _message(self.config, to, body)
        line = json.dumps(asdict(message), ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write of one line in append mode: lines of several workers do not mix.
            with self._lock, self.path.open("a", encoding="utf-8") as file:
                file.write(line)
                file.flush()
                os.fsync(file.fileno())
        except OSError as error:
            raise SmsNotSent(str(error)) from error
        return message.id

    def messages(self) -> list[TextMessage]:
        """Every message written so far, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as file:
            return [TextMessage(**json.loads(line)) for line in file if line.strip()]


class DisabledSmsBackend:
    """No provider: every message is refused."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def send(self, to: str, body: str) -> str:
        raise SmsUnavailable("No SMS provider is configured (SMS_BACKEND).")


BUILT_IN: dict[str, type] = {
    "file": FileSmsBackend,
    "memory": MemorySmsBackend,
    "disabled": DisabledSmsBackend,
}


def load_backend(name: str, config: Mapping[str, Any]) -> SmsBackend:
    """The backend SMS_BACKEND names: a built-in one, or "package.module:Class"."""
    if name in BUILT_IN:
        return BUILT_IN[name](config)
    module_name, separator, class_name = name.partition(":")
    if not separator:
        module_name, _, class_name = name.rpartition(".")
    if not module_name or not class_name:
        raise RuntimeError(
            f"SMS_BACKEND={name!r}: use one of {', '.join(BUILT_IN)} or 'package.module:Class'."
        )
    backend_class = getattr(import_module(module_name), class_name)
    backend: SmsBackend = backend_class(config)
    return backend


def init_app(app: Flask) -> None:
    if not app.config.get("SMS_BACKEND"):
        app.config["SMS_BACKEND"] = "memory" if app.testing else "file"
    if not app.config.get("SMS_FILE_PATH"):
        app.config["SMS_FILE_PATH"] = str(Path(app.instance_path) / "sms.jsonl")
    app.extensions[EXTENSION_KEY] = load_backend(app.config["SMS_BACKEND"], app.config)


def sms_backend(app: Flask | None = None) -> SmsBackend:
    backend: SmsBackend = (app or current_app).extensions[EXTENSION_KEY]
    return backend


def sms_available() -> bool:
    """Whether text messages can be sent (pages offer "Send by text message" only then)."""
    return not isinstance(sms_backend(), DisabledSmsBackend)


def send_sms(to: str, body: str) -> str:
    """Send `body` to the E.164 number `to`; return the provider's id, or raise SmsNotSent."""
    return sms_backend().send(to, body)


def sent_sms(app: Flask | None = None) -> list[TextMessage]:
    """The messages the file or memory backend kept, oldest first (for tests and trying out)."""
    backend = sms_backend(app)
    if isinstance(backend, FileSmsBackend | MemorySmsBackend):
        return backend.messages()
    raise RuntimeError("Only the file and memory SMS backends keep their messages.")
