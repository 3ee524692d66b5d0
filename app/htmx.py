"""Our one door to htmx: is this an htmx request, and full page or fragment."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, make_response, render_template, request
from htmx_flask import Htmx
from jinja2_fragments.flask import render_block

SITE_NAME = "Entity Onboarding"

_htmx = Htmx()


def init_app(app: Flask) -> None:
    _htmx.init_app(app)
    app.after_request(_vary_on_hx_request)


def is_htmx() -> bool:
    """True for an htmx request that expects a fragment (not a history restore)."""
    headers = getattr(request, "htmx", None)
    return bool(headers) and not headers.history_restore_request


def render(template: str, block: str = "main", status: int = 200, **context: Any) -> Response:
    """The whole page, or only `block` of it (and the page title) when htmx asked."""
    if is_htmx():
        body = render_block(template, block, **context)
        if block == "main":
            # htmx takes the document title from a <title> in the fragment.
            title = render_block(template, "title", **context).strip()
            body = f"<title>{title} – {SITE_NAME}</title>\n{body}"
            # The header's language switch (out of band) comes back to the page now shown.
            body += "\n" + render_template("_language_switch.html", oob=True)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def _vary_on_hx_request(response: Response) -> Response:
    # Any HTML answer may differ between htmx and plain requests.
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response
