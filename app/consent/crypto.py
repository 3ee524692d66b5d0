"""Provider tokens are encrypted at rest with keys from the configuration (rotation possible).

TOKEN_ENCRYPTION_KEYS is a comma-separated list of Fernet keys: the first encrypts, all of
them decrypt. To rotate, put a new key first, run `flask onboarding rotate-tokens`, then drop
the old key. Without the setting, a key is derived from SECRET_KEY (fine for development).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


def _keys() -> list[Fernet]:
    configured = current_app.config.get("TOKEN_ENCRYPTION_KEYS") or ""
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        digest = hashlib.sha256(b"token-encryption:" + current_app.config["SECRET_KEY"].encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    return [Fernet(k) for k in keys]


def encrypt(token: str | None) -> bytes | None:
    if token is None:
        return None
    return MultiFernet(_keys()).encrypt(token.encode())


def decrypt(value: bytes | None) -> str | None:
    if value is None:
        return None
    return MultiFernet(_keys()).decrypt(value).decode()


def rotate(value: bytes | None) -> bytes | None:
    """Re-encrypt `value` with the first (newest) key."""
    if value is None:
        return None
    return MultiFernet(_keys()).rotate(value)
