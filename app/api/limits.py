"""Rate limits, counted with the `limits` library: the API's per key (here), and failed
sign-ins (app/auth/throttle.py).

Counts live in RATELIMIT_STORAGE_URI: `memory://` (each process its own) by default,
Redis in production so that every worker and host shares them. While that storage cannot
be reached, each process counts in memory, logs a warning and asks the storage again
after RETRY_STORAGE_AFTER seconds: sign-in and the API go on, still limited.

The API's limit is counted first, before the caller is known (a wrong key counts for its
address), and every answer says where the caller stands: X-RateLimit-Limit, -Remaining
and -Reset; a 429 adds Retry-After. (The `limits` library is what Flask-Limiter counts
with; Flask-Limiter's own hooks ran on every request of the app, pages included, and
cost an API call a third of what separated a static answer from a bare Flask app.)
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.api.auth import rate_limit_key
from app.api.problems import HTTP_DETAILS, ApiProblem

log = logging.getLogger(__name__)

DEFAULT_LIMIT = "600 per minute"
RETRY_STORAGE_AFTER = 30  # seconds counting in memory after the shared storage failed
_EXTENSION = "rate_limits"


@dataclass
class Counts:
    """One app's counts: in the shared storage, or in this process while it is down."""

    shared: FixedWindowRateLimiter
    local: FixedWindowRateLimiter = field(
        default_factory=lambda: FixedWindowRateLimiter(MemoryStorage())
    )
    down_until: float = 0.0

    def counted(self, method: str, item: RateLimitItem, key: str) -> Any:
        """The strategy's `method` (hit, test, get_window_stats) on the shared counts, or
        on this process's while the storage is down."""
        if time.monotonic() >= self.down_until:
            try:
                return getattr(self.shared, method)(item, key)
            except Exception:  # Redis down or unreachable: its client's errors share no base
                log.warning("rate limits: storage unreachable, counting in this process")
                self.down_until = time.monotonic() + RETRY_STORAGE_AFTER
        return getattr(self.local, method)(item, key)


def counts() -> Counts:
    found: Counts = current_app.extensions[_EXTENSION]
    return found


@functools.lru_cache(maxsize=16)
def parsed(limit: str) -> tuple[RateLimitItem, ...]:
    """A limit in the library's notation ("600 per minute", "10 per 15 minutes; 50 per day")."""
    return tuple(parse_many(limit))


def count_api_call() -> None:
    """Count this call against its caller's limits; 429 past one of them."""
    key = rate_limit_key()
    counter = counts()
    items = parsed(current_app.config["API_RATE_LIMIT"])
    for item in items:
        if not counter.counted("hit", item, key):
            g.api_rate_limit = (item, key)
            reset_at = counter.counted("get_window_stats", item, key).reset_time
            wait = max(math.ceil(reset_at - time.time()), 1)
            raise ApiProblem(429, HTTP_DETAILS[429], headers={"Retry-After": str(wait)})
    # The headers speak of the shortest window, the one a busy caller meets first.
    g.api_rate_limit = (min(items, key=lambda item: item.get_expiry()), key)


def limit_headers(response: Response) -> Response:
    """Where the caller stands, on every answer of a counted call (a 429's included)."""
    counted = g.get("api_rate_limit")
    if counted is not None:
        item, key = counted
        stats = counts().counted("get_window_stats", item, key)
        response.headers["X-RateLimit-Limit"] = str(item.amount)
        response.headers["X-RateLimit-Remaining"] = str(stats.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(stats.reset_time))
    return response


def init_app(app: Flask) -> None:
    # memory:// keeps counts per process; production sets e.g. redis://127.0.0.1:6379 so
    # that every worker and host shares them.
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    )
    app.config.setdefault("API_RATE_LIMIT", os.environ.get("API_RATE_LIMIT", DEFAULT_LIMIT))
    uri = app.config["RATELIMIT_STORAGE_URI"]
    # A Redis that does not answer costs a request one second, then the fallback.
    options = {"socket_connect_timeout": 1, "socket_timeout": 1} if uri.startswith("redis") else {}
    app.extensions[_EXTENSION] = Counts(FixedWindowRateLimiter(storage_from_string(uri, **options)))
