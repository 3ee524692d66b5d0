"""Failed sign-ins, limited per account and per client address.

The counts live in Flask-Limiter's storage, the API's (RATELIMIT_STORAGE_URI: Redis in
production, so every worker shares them). Only failures count: someone who signs in often
is never slowed down, someone guessing passwords is, for one account from many addresses
or for many accounts from one address.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from flask import current_app, request
from limits import RateLimitItem, parse_many

from app.api.limits import limiter


def _limits(email: str) -> Iterator[tuple[RateLimitItem, str]]:
    for item in parse_many(current_app.config["SIGN_IN_ACCOUNT_LIMIT"]):
        yield item, f"sign-in/account/{email}"
    for item in parse_many(current_app.config["SIGN_IN_ADDRESS_LIMIT"]):
        yield item, f"sign-in/address/{request.remote_addr or ''}"


def seconds_to_wait(email: str) -> int:
    """0 when a sign-in to `email` from this address may be tried now, else how long until."""
    wait = 0
    for item, key in _limits(email):
        if not limiter.limiter.test(item, key):
            reset_at = limiter.limiter.get_window_stats(item, key).reset_time
            wait = max(wait, math.ceil(reset_at - time.time()), 1)
    return wait


def record_failure(email: str) -> None:
    for item, key in _limits(email):
        limiter.limiter.hit(item, key)
