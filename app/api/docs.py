"""The OpenAPI document and its browsable page (Swagger UI, served from our own static/)."""

from __future__ import annotations

from flask import Response, current_app, make_response, render_template

from app.api import bp
from app.api.spec import openapi_document


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document, generated from the views and their models."""
    return make_response(current_app.json.response(openapi_document()))


@bp.get("/docs")
def docs() -> Response:
    """Swagger UI for the document, under the site's own strict CSP (it needs no inline
    script or style: its initialiser is static/js/api-docs.js)."""
    return current_app.make_response(render_template("api/docs.html"))
