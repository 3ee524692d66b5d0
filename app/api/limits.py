"""Rate limits per API key (Flask-Limiter): in memory by default, Redis by configuration."""

from __future__ import annotations

import os

from flask import Flask, current_app
from flask_limiter import Limiter

from app.api.auth import rate_limit_key

DEFAULT_LIMIT = "600 per minute"

# The API blueprint is the only thing limited; the rest of the site has no default limit.
# While the storage (Redis) cannot be reached, each process counts in memory.
limiter = Limiter(
    key_func=rate_limit_key,
    default_limits=[],
    headers_enabled=True,
    in_memory_fallback_enabled=True,
)


def api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def init_app(app: Flask) -> None:
    # memory:// keeps counts per process; production sets e.g. redis://127.0.0.1:6379 so
    # that every worker and host shares them.
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    )
    app.config.setdefault("API_RATE_LIMIT", os.environ.get("API_RATE_LIMIT", DEFAULT_LIMIT))
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # A Redis that does not answer costs a request one second, then the fallback.
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1}
        )
    limiter.init_app(app)
