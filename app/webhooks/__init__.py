"""Webhooks: a tenant's endpoints, the outbox of events turned into deliveries, and each
delivery's signed attempts (Standard Webhooks: webhook-id, webhook-timestamp,
webhook-signature).

The outbox is the timeline itself: every event row is written in the transaction of the
change it records (`app.onboarding.lifecycle.set_status` and friends), and `dispatch`
hands each one not dispatched yet to the endpoints that want it. A change that rolls back
left no event, so nothing is sent; a crash after the commit leaves the event undispatched,
so the next sweep sends it. Each delivery's attempts: app/webhooks/delivery.py. Nothing
here commits: the job that called owns the transaction.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.serializers import entity_out, request_out
from app.consent import crypto
from app.extensions import db
from app.models import (
    DeliveryStatus,
    Entity,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from app.onboarding.audit import Actor, record_admin_change

EVENT_TYPES = (
    "onboarding.created",
    "onboarding.status_changed",
    "onboarding.step_changed",
    "entity.connected",
    "entity.needs_reconnect",
    "entity.disconnected",
)
TEST_EVENT = "webhook.test"
# Which timeline events are announced, and as what.
KIND_TO_TYPE = {
    "created": "onboarding.created",
    "status": "onboarding.status_changed",
    "step_started": "onboarding.step_changed",
    "step_done": "onboarding.step_changed",
    "step_failed": "onboarding.step_changed",
    "entity_created": "entity.connected",
    "entity_reconnected": "entity.connected",
    "needs_reconnect": "entity.needs_reconnect",
    "offboarded": "entity.disconnected",
}
DELIVERY_LOG_SIZE = 50


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_endpoint(
    tenant_id: int, url: str, event_types: list[str], description: str, actor: Actor
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret (shown once; kept encrypted)."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        url=url,
        event_types=list(dict.fromkeys(event_types)),
        description=description,
        secret=crypto.encrypt(secret),
        enabled=True,
    )
    db.session.add(endpoint)
    record_admin_change(tenant_id, "webhook_created", actor, endpoint_id=str(endpoint.id), url=url)
    return endpoint, secret


def update_endpoint(
    endpoint: WebhookEndpoint,
    actor: Actor,
    *,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> None:
    """Change what is given (None leaves a field as it is), and log what changed."""
    changed: dict[str, Any] = {}
    if url is not None and url != endpoint.url:
        endpoint.url = changed["url"] = url
    if event_types is not None and list(dict.fromkeys(event_types)) != endpoint.event_types:
        endpoint.event_types = changed["event_types"] = list(dict.fromkeys(event_types))
    if description is not None and description != endpoint.description:
        endpoint.description = changed["description"] = description
    if enabled is not None and enabled != endpoint.enabled:
        endpoint.enabled = changed["enabled"] = enabled
    if changed:
        record_admin_change(
            endpoint.tenant_id, "webhook_changed", actor, endpoint_id=str(endpoint.id), **changed
        )


def delete_endpoint(endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Delete the endpoint and its delivery log; the change log keeps that it existed."""
    record_admin_change(
        endpoint.tenant_id, "webhook_deleted", actor, endpoint_id=str(endpoint.id), url=endpoint.url
    )
    db.session.delete(endpoint)


def delivery_log(
    endpoint: WebhookEndpoint, limit: int = DELIVERY_LOG_SIZE
) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, each with its attempts."""
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .options(selectinload(WebhookDelivery.log))
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            .limit(limit)
        )
    )


def endpoint_delivery(endpoint: WebhookEndpoint, delivery_id: str) -> WebhookDelivery | None:
    return db.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )


def secret_of(endpoint: WebhookEndpoint) -> str:
    return crypto.decrypt(endpoint.secret) or ""


# ---------------------------------------------------------------- the outbox


def _payload(event_type: str, at: str | None, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": at, "data": data}


def payload_for(event: Event, event_type: str) -> dict[str, Any]:
    """The body: the event's type and time, and the request or entity in the API's shape."""
    from app.api.serializers import timestamp

    request = event.request
    if event_type.startswith("entity."):
        entity = db.session.get(Entity, uuid.UUID(event.data["entity_id"]))
        data = entity_out(entity) if entity else {"id": event.data.get("entity_id")}
    else:
        data = request_out(request)
        if event.kind == "status":
            # The change itself, whatever happened since.
            data["status"] = event.data.get("to")
            data["previousStatus"] = event.data.get("from")
        elif event.kind.startswith("step_"):
            data["step"] = {
                "position": event.data.get("position"),
                "kind": event.data.get("step"),
                "status": event.kind.removeprefix("step_"),
            }
    return _payload(event_type, timestamp(event.at), data)


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def dispatch(limit: int = 200) -> list[str]:
    """Turn undispatched events into deliveries; the new deliveries' ids (to send)."""
    events = db.session.scalars(
        select(Event)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    created: list[str] = []
    now = utcnow()
    endpoints_of: dict[int, list[WebhookEndpoint]] = {}
    for event in events:
        event.dispatched_at = now
        event_type = KIND_TO_TYPE.get(event.kind)
        if event_type is None:
            continue
        tenant_id = event.request.tenant_id
        if tenant_id not in endpoints_of:
            endpoints_of[tenant_id] = list(
                db.session.scalars(
                    select(WebhookEndpoint).where(
                        WebhookEndpoint.tenant_id == tenant_id,
                        WebhookEndpoint.enabled.is_(True),
                    )
                )
            )
        wanting = [e for e in endpoints_of[tenant_id] if event_type in e.event_types]
        if not wanting:
            continue
        body = payload_for(event, event_type)
        for endpoint in wanting:
            delivery = WebhookDelivery(
                id=_message_id(),
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type=event_type,
                payload=body,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
            )
            db.session.add(delivery)
            created.append(delivery.id)
    return created


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` message for `endpoint` ("Send a test event"); it goes once
    the caller commits."""
    now = utcnow()
    delivery = WebhookDelivery(
        id=_message_id(),
        endpoint_id=endpoint.id,
        event_type=TEST_EVENT,
        payload=_payload(TEST_EVENT, now.isoformat().replace("+00:00", "Z"), {}),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    db.session.flush()
    _queue(delivery)
    return delivery


def send_again(delivery: WebhookDelivery) -> None:
    """Queue a delivery once more, whatever became of it ("Send again"); it goes once the
    caller commits."""
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = utcnow()
    db.session.flush()
    _queue(delivery)


def _queue(delivery: WebhookDelivery) -> None:
    # Imported here: the jobs import this module.
    from app.jobs import after_commit
    from app.jobs.tasks import deliver_webhook

    after_commit(db.session(), deliver_webhook, delivery.id)


def due_deliveries(limit: int = 500) -> list[str]:
    return list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= utcnow(),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )
