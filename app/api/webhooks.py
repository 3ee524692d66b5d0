"""Webhook endpoints in the API: create (the secret is answered once), list, read, change,
delete, the delivery log, "send again" and a test event. Who may: access.manages_webhooks."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from sqlalchemy import select

from app import webhooks
from app.api import bp
from app.api.auth import require_principal, resolve_tenant
from app.api.pagination import page
from app.api.problems import ApiProblem, not_found
from app.api.serializers import tenant_id, timestamp
from app.api.spec import WRITE_ERRORS, responses, spec
from app.api.webhook_schemas import (
    WebhookCreated,
    WebhookDeliveryList,
    WebhookDeliveryOut,
    WebhookIn,
    WebhookListQuery,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
)
from app.extensions import db
from app.models import WebhookDelivery, WebhookEndpoint
from app.onboarding import access
from app.onboarding.access import Principal

WEBHOOKS = "Webhooks"
NOT_YOURS = "There is no webhook endpoint with this id."


def endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "eventTypes": list(endpoint.event_types),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "failing": endpoint.failing_since is not None,
        "failingSince": timestamp(endpoint.failing_since),
        "tenantId": tenant_id(endpoint.tenant_id),
        "created": timestamp(endpoint.created_at),
    }


def delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "eventType": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "nextAttempt": timestamp(delivery.next_attempt_at),
        "created": timestamp(delivery.created_at),
        "log": [
            {
                "number": a.number,
                "at": timestamp(a.at),
                "statusCode": a.status_code,
                "responseExcerpt": a.response_excerpt,
                "error": a.error,
            }
            for a in delivery.log
        ],
    }


def _manager() -> Principal:
    principal = require_principal()
    if not access.manages_webhooks(principal):
        raise ApiProblem(403, "Only the tenant's admins and API keys manage webhooks.")
    return principal


def _endpoint(principal: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The endpoint, if `principal` manages it; 404 otherwise (whoever asks)."""
    endpoint = db.session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, access.webhook_filter(principal)
        )
    )
    if endpoint is None:
        raise not_found(NOT_YOURS)
    return endpoint


@bp.post("/webhooks")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_201=WebhookCreated),
    tags=[WEBHOOKS],
    operation_id="createWebhook",
)
def create_webhook(json: WebhookIn) -> Any:
    """Create a Webhook Endpoint

    The answer holds the endpoint's signing `secret`, once: keep it to verify the
    `webhook-signature` of each event (Standard Webhooks).
    """
    principal = _manager()
    tenant = resolve_tenant(principal, json.tenantId)
    endpoint, secret = webhooks.create_endpoint(
        tenant.id, json.url, list(json.eventTypes), json.description.strip(), principal.actor
    )
    db.session.flush()
    body = endpoint_out(endpoint) | {"secret": secret}
    db.session.commit()
    return body, 201


@bp.get("/webhooks")
@spec.validate(resp=responses(HTTP_200=WebhookPage), tags=[WEBHOOKS], operation_id="listWebhooks")
def list_webhooks(query: WebhookListQuery) -> Any:
    """List Webhook Endpoints"""
    principal = _manager()
    tenant = resolve_tenant(principal, query.tenantId)
    stmt = select(WebhookEndpoint).where(access.webhook_filter(principal, tenant.id))
    rows, next_cursor = page(stmt, WebhookEndpoint, query.limit, query.cursor)
    return {"data": [endpoint_out(e) for e in rows], "next": next_cursor}


@bp.get("/webhooks/<uuid:endpoint_id>")
@spec.validate(resp=responses(HTTP_200=WebhookOut), tags=[WEBHOOKS], operation_id="getWebhook")
def get_webhook(endpoint_id: uuid.UUID) -> Any:
    """Retrieve a Webhook Endpoint"""
    return endpoint_out(_endpoint(require_principal(), endpoint_id))


@bp.patch("/webhooks/<uuid:endpoint_id>")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_200=WebhookOut),
    tags=[WEBHOOKS],
    operation_id="updateWebhook",
)
def update_webhook(endpoint_id: uuid.UUID, json: WebhookPatch) -> Any:
    """Change a Webhook Endpoint (URL, event types, description, enabled)"""
    principal = require_principal()
    endpoint = _endpoint(principal, endpoint_id)
    webhooks.update_endpoint(
        endpoint,
        principal.actor,
        url=json.url,
        event_types=list(json.eventTypes) if json.eventTypes is not None else None,
        description=json.description.strip() if json.description is not None else None,
        enabled=json.enabled,
    )
    db.session.flush()
    body = endpoint_out(endpoint)
    db.session.commit()
    return body


@bp.delete("/webhooks/<uuid:endpoint_id>")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_204=None), tags=[WEBHOOKS], operation_id="deleteWebhook"
)
def delete_webhook(endpoint_id: uuid.UUID) -> Any:
    """Delete a Webhook Endpoint (its delivery log goes with it)"""
    principal = require_principal()
    webhooks.delete_endpoint(_endpoint(principal, endpoint_id), principal.actor)
    db.session.commit()
    return Response(status=204)


@bp.get("/webhooks/<uuid:endpoint_id>/deliveries")
@spec.validate(
    resp=responses(HTTP_200=WebhookDeliveryList),
    tags=[WEBHOOKS],
    operation_id="listWebhookDeliveries",
)
def list_webhook_deliveries(endpoint_id: uuid.UUID) -> Any:
    """The Delivery Log of a Webhook Endpoint (newest first, the last 50)"""
    endpoint = _endpoint(require_principal(), endpoint_id)
    return {"data": [delivery_out(d) for d in webhooks.delivery_log(endpoint)]}


@bp.post("/webhooks/<uuid:endpoint_id>/test")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_202=WebhookDeliveryOut),
    tags=[WEBHOOKS],
    operation_id="sendWebhookTest",
)
def send_webhook_test(endpoint_id: uuid.UUID) -> Any:
    """Send a Test Event (`webhook.test`) to a Webhook Endpoint"""
    endpoint = _endpoint(require_principal(), endpoint_id)
    delivery = webhooks.send_test_event(endpoint)
    body = delivery_out(delivery)
    db.session.commit()
    return body, 202


@bp.post("/webhooks/<uuid:endpoint_id>/deliveries/<delivery_id>/retry")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_202=WebhookDeliveryOut),
    tags=[WEBHOOKS],
    operation_id="retryWebhookDelivery",
)
def retry_webhook_delivery(endpoint_id: uuid.UUID, delivery_id: str) -> Any:
    """Send a Delivery Again"""
    endpoint = _endpoint(require_principal(), endpoint_id)
    delivery = webhooks.endpoint_delivery(endpoint, delivery_id)
    if delivery is None:
        raise not_found("There is no delivery with this id at this endpoint.")
    webhooks.send_again(delivery)
    body = delivery_out(delivery)
    db.session.commit()
    return body, 202
