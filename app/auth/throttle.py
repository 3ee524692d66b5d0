"""Failed sign-ins, limited per account and per client address.

The counts live in Flask-Limiter's storage, the API's (RATELIMIT_STORAGE_URI: Redis in
production, so every worker shares them). Only failures count: someone who signs in often
is never slowed down, someone guessing passwords is, for one account from many addresses
or for many accounts from one address. While that storage cannot be reached, each process
counts in memory (and asks the storage again after a while): sign-in goes on, still limited.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from typing import Any

from flask import current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from app.api.limits import limiter

log = logging.getLogger(__name__)

# Seconds to count in memory after the shared storage failed, before trying it again.
RETRY_STORAGE_AFTER = 30
_in_process = FixedWindowRateLimiter(MemoryStorage())
_storage_down_until = 0.0


def _counted(method: str, item: RateLimitItem, key: str) -> Any:
    """The strategy's `method` on the shared counts, or on this process's while the
    storage is down."""
    global _storage_down_until
    if time.monotonic() >= _storage_down_until:
        try:
            return getattr(limiter.limiter, method)(item, key)
        except Exception:  # Redis down or unreachable: its client's errors have no common base
            log.warning("sign-in limits: storage unreachable, counting in this process")
            _storage_down_until = time.monotonic() + RETRY_STORAGE_AFTER
    return getattr(_in_process, method)(item, key)


def _limits(email: str) -> Iterator[tuple[RateLimitItem, str]]:
    for item in parse_many(current_app.config["SIGN_IN_ACCOUNT_LIMIT"]):
        yield item, f"sign-in/account/{email}"
    for item in parse_many(current_app.config["SIGN_IN_ADDRESS_LIMIT"]):
        yield item, f"sign-in/address/{request.remote_addr or ''}"


def seconds_to_wait(email: str) -> int:
    """0 when a sign-in to `email` from this address may be tried now, else how long until."""
    wait = 0
    for item, key in _limits(email):
        if not _counted("test", item, key):
            reset_at = _counted("get_window_stats", item, key).reset_time
            wait = max(wait, math.ceil(reset_at - time.time()), 1)
    return wait


def record_failure(email: str) -> None:
    for item, key in _limits(email):
        _counted("hit", item, key)
