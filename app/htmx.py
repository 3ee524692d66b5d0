"""Our one door to htmx: is this an htmx request, and full page or fragment."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import Flask, Response, make_response, redirect, render_template, request
from htmx_flask import Htmx
from jinja2_fragments.flask import render_block

SITE_NAME = "Entity Onboarding"

_htmx = Htmx()


def init_app(app: Flask) -> None:
    _htmx.init_app(app)
    app.after_request(_vary_on_hx_request)
    app.after_request(_leave_site_with_full_navigation)


def is_htmx() -> bool:
    """True for an htmx request that expects a fragment (not a history restore)."""
    headers = getattr(request, "htmx", None)
    return headers is not None and bool(headers) and not headers.history_restore_request


def render(template: str, block: str = "main", status: int = 200, **context: Any) -> Response:
    """The whole page, or only `block` of it (and the page title) when htmx asked."""
    if is_htmx():
        body = render_block(template, block, **context)
        if block == "main":
            # htmx takes the document title from a <title> in the fragment.
            title = render_block(template, "title", **context).strip()
            body = f"<title>{title} \N{EN DASH} {SITE_NAME}</title>\n{body}"
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def _vary_on_hx_request(response: Response) -> Response:
    # Any HTML answer may differ between htmx and plain requests.
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


def _leave_site_with_full_navigation(response: Response) -> Response:
    """A redirect to another site (a partner's returnUrl, a manufacturer's sign-in) cannot be
    followed by htmx's background request: ask htmx to navigate the whole page there."""
    if not is_htmx() or response.status_code not in (301, 302, 303, 307, 308):
        return response
    target = urlsplit(urljoin(request.host_url, response.location or ""))
    here = urlsplit(request.host_url)
    if (target.scheme, target.netloc) == (here.scheme, here.netloc):
        return response
    return follow(response.location or "")


def follow(url: str) -> Response:
    """Go to `url`: a redirect, or for htmx a header that makes it load the whole page."""
    if not is_htmx():
        return make_response(redirect(url))
    response = make_response("", 200)
    response.headers["HX-Redirect"] = url
    return response
