"""Settings read from the environment, one class per mode."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Defaults for every mode; each one can be overridden from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    # None means "SQLite under the instance folder", filled in by create_app.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    # Connections are pinged only after sitting idle (app/database.py), not before every
    # request as pool_pre_ping would.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # A request with no activity for this long is shown as stalled.
    STALLED_AFTER = timedelta(hours=_int("STALLED_AFTER_HOURS", 48))
    # A request not final after this long fails with reason "expired".
    REQUEST_EXPIRES_AFTER = timedelta(days=_int("REQUEST_EXPIRES_AFTER_DAYS", 14))

    # How long a consent link sent to an owner keeps working.
    CONSENT_LINK_MAX_AGE = timedelta(days=_int("CONSENT_LINK_MAX_AGE_DAYS", 14))

    # Static URLs carry a content hash (app/templating.py), so they can be cached for long.
    SEND_FILE_MAX_AGE_DEFAULT = timedelta(days=365)

    MAX_CONTENT_LENGTH = 1024 * 1024

    # Check every API answer against its published schema (always on in tests).
    API_VALIDATE_RESPONSES = os.environ.get("API_VALIDATE_RESPONSES", "") == "1"


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_for(mode: str | None) -> type[Config]:
    """The settings class for APP_ENV (development when unset)."""
    return CONFIGS.get(mode or "development", DevelopmentConfig)


def default_database_uri(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'onboarding.sqlite3'}"
