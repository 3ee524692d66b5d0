"""Cursor pages, ordered by (created_at, id): rows added meanwhile never shift a page.

The cursor is a row-value comparison, `(created_at, id) > (:created_at, :id)`, which an
index on (tenant_id, created_at, id) answers by seeking straight to the page (see the
models' indexes); the equivalent `created_at > x OR (created_at = x AND id > y)` is not
read that way by PostgreSQL and scans from the tenant's first row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_

from app.api.problems import ApiProblem
from app.extensions import db

Row = TypeVar("Row")

BAD_CURSOR = "This cursor is not one we gave out. Start again without it."
# A position, not a secret: microseconds since 1970 (UTC) and the row's id in hex. Any value
# of this shape is a position in the list, so the published pattern says exactly what is
# accepted, and no value of it can fall outside the calendar (at most the year 5138).
CURSOR_PATTERN = r"^[0-9]{1,17}\.[0-9a-f]{32}$"
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return f"{(created_at - _EPOCH) // timedelta(microseconds=1)}.{row_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor points after; 400 for anything we did not give out."""
    if not _CURSOR.match(cursor):
        raise ApiProblem(400, BAD_CURSOR, {"cursor": [BAD_CURSOR]})
    micros, row_id = cursor.split(".")
    return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=row_id)


def paged(query: Select[Any], model: Any, limit: int, cursor: str | None) -> Select[Any]:
    """`query` cut to the page after `cursor`: `limit` rows and one more, which says
    whether there is a next page (`split`)."""
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(tuple_(model.created_at, model.id) > (created_at, row_id))
    return query.order_by(model.created_at, model.id).limit(limit + 1)


def split(rows: Sequence[Row], limit: int) -> tuple[Sequence[Row], str | None]:
    """A page's rows (ORM objects, or rows with `created_at` and `id`) and the cursor of
    the next page (None at the end)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last: Any = rows[-1]
    return rows, encode_cursor(last.created_at, last.id)


def page(
    query: Select[Any], model: Any, limit: int, cursor: str | None
) -> tuple[Sequence[Any], str | None]:
    """Up to `limit` rows after `cursor`, and the cursor of the next page (None at the end)."""
    return split(db.session.scalars(paged(query, model, limit, cursor)).all(), limit)
