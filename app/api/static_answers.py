"""Answers that only change with a deploy (the catalog, the OpenAPI document): serialised
once per process, served with an ETag, and 304 Not Modified when the client has them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

_EXTENSION = "api_static_answers"


def static_json(name: str, build: Callable[[], Any]) -> Response:
    """`build()` as JSON, built on the first call in this process, with its ETag."""
    answers: dict[str, tuple[bytes, str]] = current_app.extensions.setdefault(_EXTENSION, {})
    if name not in answers:
        body = current_app.json.dumps(build()).encode()
        answers[name] = (body, hashlib.sha256(body).hexdigest()[:32])
    body, etag = answers[name]
    if request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)  # the client has it: no body
    else:
        response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    # Clients may keep it, and ask again with If-None-Match.
    response.cache_control.no_cache = True
    return response
