"""Failed sign-ins, limited per account and per client address.

The counts live where the API's do (app/api/limits.py: RATELIMIT_STORAGE_URI, Redis in
production, so every worker shares them; in this process while it cannot be reached).
Only failures count: someone who signs in often is never slowed down, someone guessing
passwords is, for one account from many addresses or for many accounts from one address.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from flask import current_app, request
from limits import RateLimitItem

from app.api.limits import counts, parsed


def _limits(email: str) -> Iterator[tuple[RateLimitItem, str]]:
    for item in parsed(current_app.config["SIGN_IN_ACCOUNT_LIMIT"]):
        yield item, f"sign-in/account/{email}"
    for item in parsed(current_app.config["SIGN_IN_ADDRESS_LIMIT"]):
        yield item, f"sign-in/address/{request.remote_addr or ''}"


def seconds_to_wait(email: str) -> int:
    """0 when a sign-in to `email` from this address may be tried now, else how long until."""
    wait = 0
    for item, key in _limits(email):
        if not counts().counted("test", item, key):
            reset_at = counts().counted("get_window_stats", item, key).reset_time
            wait = max(wait, math.ceil(reset_at - time.time()), 1)
    return wait


def record_failure(email: str) -> None:
    for item, key in _limits(email):
        counts().counted("hit", item, key)
