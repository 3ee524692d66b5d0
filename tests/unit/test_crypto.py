"""Provider tokens at rest: encrypted with the first configured key, readable with any."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask

from app.consent import crypto

TOKEN = "sandbox-access-token-123"


def context(keys: str | None = None, secret: str = "testing"):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret
    if keys is not None:
        app.config["TOKEN_ENCRYPTION_KEYS"] = keys
    return app.app_context()


def test_the_stored_value_is_not_the_token_and_decrypts_to_it():
    key = Fernet.generate_key().decode()
    with context(key):
        stored = crypto.encrypt(TOKEN)
        assert stored is not None and TOKEN.encode() not in stored
        assert crypto.encrypt(TOKEN) != stored  # fresh IV each time
        assert crypto.decrypt(stored) == TOKEN
    assert Fernet(key).decrypt(stored).decode() == TOKEN


def test_none_stays_none():
    with context():
        assert crypto.encrypt(None) is None
        assert crypto.decrypt(None) is None
        assert crypto.rotate(None) is None


def test_without_keys_a_key_is_derived_from_the_secret_key():
    with context(secret="one"):
        stored = crypto.encrypt(TOKEN)
        assert crypto.decrypt(stored) == TOKEN
    with context(secret="two"), pytest.raises(InvalidToken):
        crypto.decrypt(stored)


def test_rotation_re_encrypts_with_the_first_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with context(old):
        stored = crypto.encrypt(TOKEN)
    with context(f" {new} ,{old},"):  # spaces and an empty entry are ignored
        assert crypto.decrypt(stored) == TOKEN
        rotated = crypto.rotate(stored)
    with context(new):
        assert crypto.decrypt(rotated) == TOKEN
        with pytest.raises(InvalidToken):
            crypto.decrypt(stored)  # the old key is gone: only rotated values stay readable


def test_a_tampered_value_is_refused():
    with context(Fernet.generate_key().decode()):
        stored = bytearray(crypto.encrypt(TOKEN))
        stored[-5] ^= 1
        with pytest.raises(InvalidToken):
            crypto.decrypt(bytes(stored))
