"""The tenant's logo: the upload's rules (PNG, JPEG or SVG, at most 200 KB), where it is
kept (the database), and how it is served (public, under a content hash, cached for
ever). An SVG is served with a CSP that allows no script or fetch at all, so even opened
on its own it can run nothing; pages show it through <img>, which never runs scripts."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, abort, make_response, url_for
from werkzeug.wrappers import Response

from app.extensions import db
from app.identifiers import N_
from app.models import Tenant, TenantLogo
from app.onboarding.audit import Actor, record_admin_change

bp = Blueprint("branding", __name__, url_prefix="/logos")

MAX_LOGO_BYTES = 200 * 1024
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


class LogoError(Exception):
    """An upload that is not a logo we take; the message (translatable, N_) says why."""


def logo_type(data: bytes) -> str:
    """The upload's content type, from its bytes (never from its name or what the browser
    claimed); LogoError when it is none of PNG, JPEG or SVG, or too big."""
    if not data:
        raise LogoError(N_("The file is empty. Choose a PNG, JPEG or SVG image."))
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(N_("The file is larger than 200 KB. Choose a smaller image."))
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    try:
        text = data.decode("utf-8-sig").lstrip()
    except UnicodeDecodeError:
        text = ""
    if (text.startswith("<?xml") or text.startswith("<svg")) and "<svg" in text[:2000]:
        return "image/svg+xml"
    raise LogoError(N_("This is not a PNG, JPEG or SVG image. Choose one of those."))


def set_logo(tenant: Tenant, data: bytes, actor: Actor) -> None:
    """Keep `data` as the tenant's logo (LogoError when it will not do)."""
    content_type = logo_type(data)
    logo = db.session.get(TenantLogo, tenant.id)
    if logo is None:
        logo = TenantLogo(tenant_id=tenant.id, data=data)
        db.session.add(logo)
    logo.data = data
    tenant.logo_type = content_type
    tenant.logo_digest = hashlib.sha256(data).hexdigest()
    record_admin_change(tenant.id, "logo_changed", actor, type=content_type, size=len(data))


def remove_logo(tenant: Tenant, actor: Actor) -> None:
    logo = db.session.get(TenantLogo, tenant.id)
    if logo is not None:
        db.session.delete(logo)
    tenant.logo_type = tenant.logo_digest = None
    record_admin_change(tenant.id, "logo_removed", actor)


def tenant_logo_url(tenant: Tenant | None) -> str | None:
    """Where the tenant's logo is (its URL changes with its content), or None."""
    if tenant is None or not tenant.logo_digest:
        return None
    return url_for("branding.logo", tenant_id=tenant.id, digest=tenant.logo_digest[:16])


@bp.get("/<int:tenant_id>/<digest>")
def logo(tenant_id: int, digest: str) -> Response:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or not tenant.logo_digest or tenant.logo_digest[:16] != digest:
        abort(404)
    stored = db.session.get(TenantLogo, tenant_id)
    if stored is None:
        abort(404)
    response = make_response(stored.data)
    response.headers["Content-Type"] = tenant.logo_type or "application/octet-stream"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if tenant.logo_type == "image/svg+xml":
        response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(tenant_logo_url, "tenant_logo_url")
