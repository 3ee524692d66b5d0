"""The site's own address: absolute links come from PUBLIC_URL, never from the Host header.

A request's Host is whatever the caller typed, so a link built from it (a consent link, an
API `redirectLink`, an OAuth redirect URI, an email, a QR code) could point anywhere. Every
`url_for(..., _external=True)` goes through the URL adapter made here, which names the
configured scheme and host instead. In production a request for any other host is refused
(400) through Flask's TRUSTED_HOSTS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request
from werkzeug.exceptions import SecurityError
from werkzeug.routing import MapAdapter


def public_host(app: Flask) -> str:
    """PUBLIC_URL's host name, without its port (what TRUSTED_HOSTS compares)."""
    return urlsplit(app.config["PUBLIC_URL"]).hostname or ""


class OnboardingApp(Flask):
    """Flask, with external URLs built on PUBLIC_URL."""

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        try:
            adapter = super().create_url_adapter(request)
        except SecurityError as refused:
            # Not a host of ours (TRUSTED_HOSTS): 400, answered with our error page, whose
            # links need an adapter all the same.
            assert request is not None
            request.trusted_hosts = None
            adapter = self.url_map.bind_to_environ(request.environ, subdomain="")
            request.routing_exception = refused
        if adapter is not None and request is not None:
            public = urlsplit(self.config["PUBLIC_URL"])
            # Only building uses these: routes are matched on the path alone.
            adapter.url_scheme = public.scheme or "https"
            adapter.server_name = public.netloc
        return adapter


def init_app(app: Flask) -> None:
    if app.config.get("PRODUCTION") and app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = [public_host(app), *app.config["EXTRA_TRUSTED_HOSTS"]]
