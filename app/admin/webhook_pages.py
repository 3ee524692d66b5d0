"""Webhook endpoints in the admin area: the list, creating one (its secret shown once),
changing one, its delivery log with "Send again", and "Send a test event". Every change
goes through app/webhooks, as the API's do."""

from __future__ import annotations

import re
import uuid

from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import webhooks
from app.admin import bp
from app.admin.forms import WebhookForm
from app.admin.guard import admin_required, form_errors
from app.api.webhook_schemas import WEBHOOK_URL_PATTERN
from app.extensions import db
from app.forms import ActionForm
from app.htmx import render
from app.models import WebhookEndpoint
from app.onboarding import access
from app.security import current_principal

EVENT_LABELS = {
    "onboarding.created": _l("A request is created"),
    "onboarding.status_changed": _l("A request's status changes"),
    "onboarding.step_changed": _l("A consent step starts, ends or fails"),
    "entity.connected": _l("A device is connected"),
    "entity.needs_reconnect": _l("A device needs reconnecting"),
    "entity.disconnected": _l("A device is disconnected"),
}
LIST_SIZE = 100


def _form(**kwargs: object) -> WebhookForm:
    form = WebhookForm(**kwargs)
    form.event_types.choices = [(t, str(EVENT_LABELS[t])) for t in webhooks.EVENT_TYPES]
    return form


def _valid(form: WebhookForm) -> bool:
    """The form's own checks and the endpoint rules (URL shape, at least one event)."""
    ok = form.validate_on_submit()
    if not ok:
        return False
    url = (form.url.data or "").strip()
    if not re.match(WEBHOOK_URL_PATTERN, url):
        form.url.errors = [gettext("Enter a URL that starts with https:// or http://.")]
        ok = False
    if not form.event_types.data:
        form.event_types.errors = [gettext("Choose at least one event to send.")]
        ok = False
    return ok


def _endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = db.session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, access.webhook_filter(current_principal())
        )
    )
    if endpoint is None:
        abort(404)
    return endpoint


def _list_page(form: WebhookForm, secret: str | None = None, status: int = 200) -> Response:
    endpoints = db.session.scalars(
        select(WebhookEndpoint)
        .where(access.webhook_filter(current_principal()))
        .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id)
        .limit(LIST_SIZE)
    ).all()
    errors = form_errors(form)
    response = render(
        "admin/webhooks.html",
        endpoints=endpoints,
        form=form,
        labels=EVENT_LABELS,
        secret=secret,
        errors=errors,
        status=422 if errors else status,
    )
    if secret:
        response.headers["Cache-Control"] = "no-store"  # the secret is on this page only
    return response


@bp.route("/webhooks", methods=["GET", "POST"])
@admin_required
def webhook_endpoints() -> Response:
    """The tenant's endpoints; POST creates one and shows its secret, once."""
    form = _form()
    if _valid(form):
        endpoint, secret = webhooks.create_endpoint(
            current_user.tenant_id,
            (form.url.data or "").strip(),
            list(form.event_types.data or []),
            (form.description.data or "").strip(),
            current_principal().actor,
        )
        if not form.enabled.data:
            webhooks.update_endpoint(endpoint, current_principal().actor, enabled=False)
        db.session.commit()
        fresh = _form(formdata=None)
        fresh.event_types.data = list(webhooks.EVENT_TYPES)
        return _list_page(fresh, secret=secret, status=201)
    if not form.is_submitted():
        form.event_types.data = list(webhooks.EVENT_TYPES)  # a new endpoint wants everything
    return _list_page(form)


@bp.route("/webhooks/<uuid:endpoint_id>", methods=["GET", "POST"])
@admin_required
def webhook_endpoint(endpoint_id: uuid.UUID) -> Response:
    """One endpoint: change it (POST), and its delivery log."""
    endpoint = _endpoint(endpoint_id)
    form = _form(
        data={
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": list(endpoint.event_types),
            "enabled": endpoint.enabled,
        }
    )
    if _valid(form):
        webhooks.update_endpoint(
            endpoint,
            current_principal().actor,
            url=(form.url.data or "").strip(),
            event_types=list(form.event_types.data or []),
            description=(form.description.data or "").strip(),
            enabled=bool(form.enabled.data),
        )
        db.session.commit()
        flash(gettext("The endpoint is saved."), "success")
        return redirect(url_for("admin.webhook_endpoint", endpoint_id=endpoint.id))
    errors = form_errors(form)
    return render(
        "admin/webhook.html",
        endpoint=endpoint,
        form=form,
        action_form=ActionForm(),
        deliveries=webhooks.delivery_log(endpoint),
        log_size=webhooks.DELIVERY_LOG_SIZE,
        errors=errors,
        status=422 if errors else 200,
    )


@bp.post("/webhooks/<uuid:endpoint_id>/test")
@admin_required
def send_test_event(endpoint_id: uuid.UUID) -> Response:
    endpoint = _endpoint(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    webhooks.send_test_event(endpoint)
    db.session.commit()
    flash(gettext("A test event is on its way: it shows in the log below."), "success")
    return redirect(url_for("admin.webhook_endpoint", endpoint_id=endpoint.id))


@bp.post("/webhooks/<uuid:endpoint_id>/deliveries/<delivery_id>/retry")
@admin_required
def send_delivery_again(endpoint_id: uuid.UUID, delivery_id: str) -> Response:
    endpoint = _endpoint(endpoint_id)
    delivery = webhooks.endpoint_delivery(endpoint, delivery_id)
    if delivery is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    webhooks.send_again(delivery)
    db.session.commit()
    flash(gettext("The event is sent again: its new attempt shows in the log."), "success")
    return redirect(url_for("admin.webhook_endpoint", endpoint_id=endpoint.id))
