"""Cursor pages, ordered by (created_at, id): rows added meanwhile never shift a page.

The cursor is a row-value comparison, `(created_at, id) > (:created_at, :id)`, which an
index on (tenant_id, created_at, id) answers by seeking straight to the page (see the
models' indexes); the equivalent `created_at > x OR (created_at = x AND id > y)` is not
read that way by PostgreSQL and scans from the tenant's first row.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_

from app.api.problems import ApiProblem
from app.extensions import db

Row = TypeVar("Row")

BAD_CURSOR = "This cursor is not one we gave out. Start again without it."


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor points after; 400 for anything we did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        position = datetime.fromisoformat(created), uuid.UUID(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ApiProblem(400, BAD_CURSOR, {"cursor": [BAD_CURSOR]}) from None
    if position[0].tzinfo is None:
        raise ApiProblem(400, BAD_CURSOR, {"cursor": [BAD_CURSOR]})
    return position


def page(
    query: Select[Any], model: Any, limit: int, cursor: str | None
) -> tuple[Sequence[Any], str | None]:
    """Up to `limit` rows after `cursor`, and the cursor of the next page (None at the end)."""
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(tuple_(model.created_at, model.id) > (created_at, row_id))
    rows = db.session.scalars(query.order_by(model.created_at, model.id).limit(limit + 1)).all()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(last.created_at, last.id)
