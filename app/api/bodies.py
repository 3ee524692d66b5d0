"""Bounds on a request body, checked on its bytes before any JSON parser sees it.

Size: werkzeug enforces MAX_CONTENT_LENGTH on a declared Content-Length, and on a chunked
body only when the server says it ends the stream (gunicorn does; a server that does not
gets an empty body). Reading here stops at the limit either way and answers 413.
Depth: Python's json module recurses once per level and raises RecursionError near 1,000;
no request of ours nests more than a few levels.
"""

from __future__ import annotations

import re

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.problems import ApiProblem

MAX_JSON_DEPTH = 32
TOO_DEEP = f"The body is nested more than {MAX_JSON_DEPTH} levels deep."
# A JSON string (its escapes included), or one bracket: strings are skipped whole, so a
# bracket inside one does not count.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def read_body() -> bytes:
    """The body, never read past MAX_CONTENT_LENGTH; 413 when it is larger."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large(limit) from None
    # Without Content-Length, werkzeug's stream silently stops at the limit: a body that
    # reaches it was cut short, so it is refused rather than parsed in part.
    if limit is not None and request.content_length is None and len(body) >= limit:
        raise too_large(limit)
    return body


def too_large(limit: int | None) -> ApiProblem:
    return ApiProblem(413, f"The body is too large: send at most {limit or 0:,} bytes.")


def check_depth(body: bytes) -> None:
    """400 when arrays and objects nest deeper than MAX_JSON_DEPTH."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ApiProblem(400, TOO_DEEP)
        elif token in (b"]", b"}"):
            depth -= 1
