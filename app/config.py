"""Settings read from the environment, one class per mode."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


DEFAULT_SECRET_KEY = "dev-only-change-me"
# Production refuses a SECRET_KEY shorter than this: it signs sessions and consent links.
MIN_SECRET_KEY_LENGTH = 32


class UnsafeConfiguration(RuntimeError):
    """A production setting that would make the site unsafe: the app refuses to start."""


def _hosts(name: str) -> list[str]:
    return [h.strip() for h in os.environ.get(name, "").split(",") if h.strip()]


class Config:
    """Defaults for every mode; each one can be overridden from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    PRODUCTION = False
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

    # A request waiting on its owner with no activity for this long gets its link again by
    # email, or by text message when a mobile number is the owner's contact (a reminder), at
    # most REMINDER_MAX times; 0 sends none.
    REMINDER_AFTER = timedelta(hours=_int("REMINDER_AFTER_HOURS", 72))
    REMINDER_MAX = _int("REMINDER_MAX", 2)

    # How long an invitation's set-password link keeps working (and it works once).
    INVITE_MAX_AGE = timedelta(days=_int("INVITE_MAX_AGE_DAYS", 7))

    # How long a consent link sent to an owner keeps working.
    CONSENT_LINK_MAX_AGE = timedelta(days=_int("CONSENT_LINK_MAX_AGE_DAYS", 14))

    # Static URLs carry a content hash (app/templating.py), so they can be cached for long.
    SEND_FILE_MAX_AGE_DEFAULT = timedelta(days=365)

    MAX_CONTENT_LENGTH = 1024 * 1024

    # A worker that has checked an API key trusts it for this many seconds before it reads
    # the key again, so a key revoked by another worker (or the command line) stops working
    # within that time; the worker that revokes it stops it at once. 0 reads it every call.
    API_KEY_RECHECK_SECONDS = float(os.environ.get("API_KEY_RECHECK_SECONDS", "5"))

    # Check every API answer against its published schema (always on in tests).
    API_VALIDATE_RESPONSES = os.environ.get("API_VALIDATE_RESPONSES", "") == "1"

    # Email, through Flask-Mailman (app/messaging). MAIL_BACKEND is "smtp", "file" (each
    # message kept under MAIL_FILE_PATH, instance/mail by default), "locmem" (kept in
    # memory) or a backend's dotted path; unset, it is "file" in development and "locmem"
    # under tests. ProductionConfig sends by SMTP.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _flag("MAIL_USE_TLS")  # STARTTLS, usually on port 587
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")  # TLS from the start, usually on port 465
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)  # seconds; a person waits for the answer
    # The From address; messages about a request show its tenant's name with it.
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@localhost")
    MAIL_FILE_PATH = os.environ.get("MAIL_FILE_PATH")

    # Text messages (app/messaging/sms.py). SMS_BACKEND is "file" (each message a line of
    # SMS_FILE_PATH, instance/sms.jsonl by default), "memory", "disabled", or a provider's
    # class as "package.module:Class"; unset, it is "file" in development and "memory"
    # under tests. ProductionConfig has none until one is configured.
    SMS_BACKEND = os.environ.get("SMS_BACKEND")
    SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH")
    SMS_SENDER = os.environ.get("SMS_SENDER", "")  # the sender name or number a provider shows
    # A mobile number typed without its country code is read as one of this country
    # (ISO code, e.g. "BE"); empty: the country code is required.
    PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION") or None

    # Jobs (app/jobs, Huey): the queue lives in Redis when REDIS_URL is set, else in the
    # SQLite file JOBS_SQLITE_PATH (instance/jobs.sqlite3 by default). JOBS_IMMEDIATE runs
    # each job inline instead of queueing it (unset: only under tests).
    REDIS_URL = os.environ.get("REDIS_URL")
    JOBS_SQLITE_PATH = os.environ.get("JOBS_SQLITE_PATH")
    JOBS_IMMEDIATE: bool | None = None
    # The site's address: every absolute link (consent links, redirectLink, OAuth redirect
    # URIs, emails, QR codes, links jobs make) starts with it, never with the Host header.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # Host names answered besides PUBLIC_URL's (e.g. a health check's); production refuses
    # any other Host with 400. None: every host is answered (development and tests).
    EXTRA_TRUSTED_HOSTS: ClassVar[list[str]] = _hosts("TRUSTED_HOSTS")
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (the
    # client's address counts for the sign-in limits).
    PROXY_HOPS = _int("PROXY_HOPS", 0)

    # The built-in manufacturer sandboxes answer for every provider without configuration.
    SANDBOX_PROVIDERS = os.environ.get("SANDBOX_PROVIDERS", "1").lower() in ("1", "true", "yes")

    # Failed sign-ins allowed per account and per client address (the `limits` notation,
    # counted in RATELIMIT_STORAGE_URI like the API's limits).
    SIGN_IN_ACCOUNT_LIMIT = os.environ.get("SIGN_IN_ACCOUNT_LIMIT", "10 per 15 minutes")
    SIGN_IN_ADDRESS_LIMIT = os.environ.get("SIGN_IN_ADDRESS_LIMIT", "50 per 15 minutes")

    # Strict-Transport-Security's max-age in seconds; 0 sends no such header.
    HSTS_SECONDS = _int("HSTS_SECONDS", 0)
    # How often a job asks a manufacturer about an approval in its app, and for how long.
    APP_CONSENT_POLL_SECONDS = _int("APP_CONSENT_POLL_SECONDS", 3)
    APP_CONSENT_POLL_FOR = timedelta(minutes=_int("APP_CONSENT_POLL_MINUTES", 15))

    # Webhooks: the seconds to wait before each retry (about 27 hours in all, as the
    # Standard Webhooks specification suggests); after the last the endpoint is failing.
    WEBHOOK_RETRY_DELAYS: ClassVar[tuple[float, ...]] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    WEBHOOK_TIMEOUT_SECONDS = _int("WEBHOOK_TIMEOUT_SECONDS", 10)
    # Deliveries to private, loopback and link-local addresses are refused (SSRF) unless
    # this says otherwise (development: a receiver on the same machine).
    WEBHOOKS_ALLOW_PRIVATE = _flag("WEBHOOKS_ALLOW_PRIVATE")


class DevelopmentConfig(Config):
    WEBHOOKS_ALLOW_PRIVATE = os.environ.get("WEBHOOKS_ALLOW_PRIVATE", "1").lower() in (
        "1",
        "true",
        "yes",
    )


class ProductionConfig(Config):
    PRODUCTION = True
    SANDBOX_PROVIDERS = _flag("SANDBOX_PROVIDERS")
    HSTS_SECONDS = _int("HSTS_SECONDS", 365 * 24 * 60 * 60)
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "disabled")
    WEBHOOKS_ALLOW_PRIVATE = _flag("WEBHOOKS_ALLOW_PRIVATE")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    MAIL_BACKEND = "locmem"
    SMS_BACKEND = "memory"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def check_production(config: dict[str, Any]) -> None:
    """Refuse to run production with a public or guessable SECRET_KEY."""
    key = config.get("SECRET_KEY") or ""
    if key == DEFAULT_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        raise UnsafeConfiguration(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
            'characters in production (e.g. python -c "import secrets; '
            'print(secrets.token_urlsafe(48))").'
        )


def config_for(mode: str | None) -> type[Config]:
    """The settings class for APP_ENV (development when unset)."""
    return CONFIGS.get(mode or "development", DevelopmentConfig)


def default_database_uri(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'onboarding.sqlite3'}"
