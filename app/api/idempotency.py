"""Idempotency-Key on POSTs: a retry gets the first answer back and changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from app.api.problems import ApiProblem
from app.extensions import db
from app.models import IdempotencyRecord
from app.onboarding.access import Principal

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Runs of a write that lost a race with another call changing the same rows.
ATTEMPTS = 3

Outcome = tuple[dict[str, Any], int]


def _fingerprint() -> str:
    body = request.get_json(silent=True)
    # The same JSON with its keys in another order or other spacing is the same request.
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        message = f"An {HEADER} is 1 to {MAX_KEY_LENGTH} printable ASCII characters."
        raise ApiProblem(400, message, {HEADER: [message]})
    return key


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise ApiProblem(
            409,
            f"This {HEADER} was already used for a different request. "
            "Use a new key for a new request.",
        )
    response = current_app.response_class(
        record.response_body, status=record.status_code, mimetype="application/json"
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _find(principal: Principal, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller == principal.actor.label, IdempotencyRecord.key == key
        )
    )


def run_once(principal: Principal, act: Callable[[], Outcome]) -> Response | Outcome:
    """Run `act` (which flushes but does not commit) and commit, unless this caller already
    sent this Idempotency-Key: then answer as the first time, or 409 for another body.

    The record is committed in the same transaction as what `act` changed, so a
    concurrent retry either sees it or fails on the unique key and replays it. When
    another call changed the same rows first (a version check failed), everything is
    rolled back and `act` runs again on what that call left: cancelling a request twice at
    once answers both as a cancel, not one of them as a conflict.
    """
    key = _key()
    fingerprint = _fingerprint() if key is not None else ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _run(principal, act, key, fingerprint)
        except StaleDataError:
            db.session.rollback()
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


def _run(
    principal: Principal, act: Callable[[], Outcome], key: str | None, fingerprint: str
) -> Response | Outcome:
    if key is None:
        outcome = act()
        db.session.commit()
        return outcome
    existing = _find(principal, key)
    if existing is not None:
        return _replay(existing, fingerprint)
    body, status = act()
    db.session.add(
        IdempotencyRecord(
            caller=principal.actor.label,
            key=key,
            method=request.method,
            path=request.path[:2000],
            fingerprint=fingerprint,
            status_code=status,
            response_body=json.dumps(body),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _find(principal, key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return body, status
