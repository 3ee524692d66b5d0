"""The JSON API under /api/v1, compatible with re.alto's onboarding API."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask.sansio.blueprints import BlueprintSetupState

from app.api.bodies import check_depth, read_body
from app.api.problems import ApiProblem

bp = Blueprint("api", __name__, url_prefix="/api/v1")

JSON_MIMETYPES = ("application/json",)
NOT_AN_OBJECT = "The body must be a JSON object, like {}."


@bp.before_request
def _counted_first() -> None:
    """Every call counts against its caller's rate limit, before anything else is read."""
    from app.api.limits import count_api_call

    count_api_call()


@bp.after_request
def _where_the_caller_stands(response: Response) -> Response:
    from app.api.limits import limit_headers

    return limit_headers(response)


@bp.before_request
def _json_bodies_only() -> None:
    """A write's body, if any, must be JSON: 415 for another type, 413 when larger than
    MAX_CONTENT_LENGTH (with or without Content-Length), 400 when nested deeper than
    MAX_JSON_DEPTH or when it does not parse. Checked before anything parses it."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body = read_body()
    if not body:
        return
    mimetype = request.mimetype
    if mimetype not in JSON_MIMETYPES and not mimetype.endswith("+json"):
        raise ApiProblem(415, "Send the body as JSON, with Content-Type: application/json.")
    check_depth(body)
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiProblem(400, f"The body is not valid JSON: {error}.") from None
    if not isinstance(parsed, dict):
        # Every body of ours is an object; `null` would otherwise pass as "no body".
        raise ApiProblem(422, NOT_AN_OBJECT, {"body": [NOT_AN_OBJECT]})


@bp.before_request
def _callers_first() -> None:
    """Who calls comes before what they sent: 401 for nobody, whatever the body."""
    from app.api.auth import require_principal

    if request.endpoint not in PUBLIC_ENDPOINTS:
        require_principal()


PUBLIC_ENDPOINTS = frozenset({"api.docs", "api.openapi"})


def _set_up(state: BlueprintSetupState) -> None:
    from app.api import limits
    from app.extensions import csrf

    limits.init_app(state.app)  # type: ignore[arg-type]  # a Flask app, typed as its base
    # Calls with an API key carry no CSRF token; a session's writes are checked in auth.
    csrf.exempt(bp)


bp.record_once(_set_up)

from app.api import collectives, docs, problems, routes, webhooks  # noqa: E402,F401

problems.register(bp)
