"""Every API error as RFC 9457 problem details, with plain-word messages per field."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.identifiers import IdentifierError
from app.onboarding.errors import InvalidAnswers, OnboardingError
from app.onboarding.states import InvalidTransition
from app.text import UNUSABLE_CHARACTER

PROBLEM_JSON = "application/problem+json"

# What a werkzeug HTTP error means to an API caller (its own description is for browsers).
HTTP_DETAILS = {
    400: "The request was not understood.",
    401: "Send your API key in the Authorization header: Bearer <key>.",
    403: "This API key or account may not do this.",
    404: "There is nothing at this address, or it belongs to another tenant.",
    405: "This address does not answer to this method.",
    409: "This conflicts with the current state; fetch it again and retry.",
    413: "The body is too large.",
    415: "Send the body as JSON, with Content-Type: application/json.",
    429: "Too many requests with this API key; wait and try again (see Retry-After).",
    500: "Something went wrong on our side. Try again in a few minutes.",
}


class ApiProblem(Exception):
    """Stop and answer with this problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = {k: list(v) for k, v in errors.items()} if errors else None
        self.headers = dict(headers or {})


def not_found(detail: str = HTTP_DETAILS[404], field: str | None = None) -> ApiProblem:
    return ApiProblem(404, detail, {field: [detail]} if field else None)


def invalid(errors: Mapping[str, Sequence[str]], status: int = 422) -> ApiProblem:
    count = sum(len(v) for v in errors.values())
    detail = (
        "One value is not valid." if count == 1 else f"{count} values are not valid."
    ) + " See errors for what to change."
    return ApiProblem(status, detail, errors)


def problem_response(
    status: int,
    detail: str,
    errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = {k: list(v) for k, v in errors.items()}
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def http_error_response(error: HTTPException) -> Response:
    """A werkzeug HTTP error (404, 405, 413, 429, CSRF's 400...) as problem details."""
    status = error.code or 500
    headers: dict[str, str] = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    detail = HTTP_DETAILS.get(status) or error.description or HTTPStatus(status).phrase
    if status == 400 and error.description and "CSRF" in error.description:
        detail = f"{error.description} Signed-in calls must send the X-CSRFToken header."
    return problem_response(status, detail, headers=headers)


# ---------------------------------------------------------------- pydantic errors

_MESSAGES = {
    "missing": "This is required.",
    "string_type": "This must be text.",
    "int_type": "This must be a whole number.",
    "int_parsing": "This must be a whole number.",
    "int_from_float": "This must be a whole number.",
    "uuid_type": "This must be an id like 3c90c3cc-0d44-4b50-8888-8dd25736052a.",
    "uuid_parsing": "This must be an id like 3c90c3cc-0d44-4b50-8888-8dd25736052a.",
    "dict_type": "This must be a JSON object.",
    "model_type": "This must be a JSON object.",
    "model_attributes_type": "This must be a JSON object.",
    "datetime_type": "This must be a date and time like 2026-01-31T12:00:00Z.",
    "datetime_parsing": "This must be a date and time like 2026-01-31T12:00:00Z.",
    # A lone surrogate, where a pattern is checked first (app/text.py's rule otherwise).
    "string_unicode": UNUSABLE_CHARACTER,
    "string_pattern_mismatch": "This does not have the form the API document gives for it.",
    "datetime_from_date_parsing": "This must be a date and time like 2026-01-31T12:00:00Z.",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "value_error" and ctx.get("error"):
        # Our own validators' words (app/text.py, the schemas' range checks).
        return str(ctx["error"])
    if kind == "literal_error":
        return f"Use one of {ctx.get('expected', '').replace(chr(39), '')}."
    if kind == "string_too_long":
        return f"This can be at most {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        return (
            "This cannot be empty."
            if ctx.get("min_length") == 1
            else (f"This must be at least {ctx.get('min_length')} characters.")
        )
    if kind in ("greater_than_equal", "greater_than"):
        return f"This must be at least {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"This must be at most {ctx.get('le', ctx.get('lt'))}."
    return str(error.get("msg", "This is not valid."))


_UNION_MEMBERS = ("int", "str", "function", "constrained-")


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """Pydantic's errors as {field: [plain words]}, fields named as in the JSON."""
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        # Union members add their type to the location (tenantId.int); drop those parts.
        parts = [str(p) for p in item["loc"] if not str(p).startswith(_UNION_MEMBERS)]
        name = ".".join(parts) or "body"
        if len(parts) < len(item["loc"]) and errors.get(name):
            continue  # one message for a value that fits none of a union's members
        message = _message(item)
        if message not in errors.setdefault(name, []):
            errors[name].append(message)
    return errors


def answer_errors(
    invalid_answers: InvalidAnswers, targets: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """The domain's per-field IdentifierErrors, named as the JSON names them."""
    targets = targets or {}
    return {
        (f"properties.{name}" if targets.get(name) == "properties" else name): [error.message]
        for name, error in invalid_answers.errors.items()
    }


# ---------------------------------------------------------------- handlers


def _from_problem(error: ApiProblem) -> Response:
    db.session.rollback()
    return problem_response(error.status, error.detail, error.errors, error.headers)


def _from_http_error(error: HTTPException) -> Response:
    db.session.rollback()
    return http_error_response(error)


def _conflict(error: Exception) -> Response:
    # Another call changed the same request first (version column) or won a unique race.
    db.session.rollback()
    return problem_response(
        409, "Someone changed this at the same time. Fetch it again and retry if it still applies."
    )


def _state_conflict(error: InvalidTransition | OnboardingError) -> Response:
    db.session.rollback()
    if isinstance(error, InvalidTransition):
        detail = f"This request is {error.current}, so it cannot become {error.target}."
    else:
        detail = str(error)
    return problem_response(409, detail)


def _identifier_error(error: IdentifierError) -> Response:
    db.session.rollback()
    return problem_response(422, error.message)


def _server_error(error: Exception) -> Response:
    db.session.rollback()
    return problem_response(500, HTTP_DETAILS[500])


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ApiProblem, _from_problem)
    bp.register_error_handler(HTTPException, _from_http_error)
    bp.register_error_handler(StaleDataError, _conflict)
    bp.register_error_handler(IntegrityError, _conflict)
    bp.register_error_handler(InvalidTransition, _state_conflict)
    bp.register_error_handler(OnboardingError, _state_conflict)
    bp.register_error_handler(IdentifierError, _identifier_error)
    bp.register_error_handler(InternalServerError, _server_error)
