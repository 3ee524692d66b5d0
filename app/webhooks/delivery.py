"""A webhook delivery's attempts: claimed by one worker, refused for a private address
(SSRF), signed (Standard Webhooks), POSTed, logged, and retried with backoff."""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import update
from standardwebhooks import Webhook

from app.extensions import db
from app.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, utcnow
from app.webhooks import secret_of

RESPONSE_EXCERPT = 500
USER_AGENT = "EntityOnboarding-Webhooks/1"


def claim(delivery_id: str) -> bool:
    """Take a due delivery for one attempt (no other worker takes it while it runs)."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 60)
    result = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def refusal(url: str) -> str | None:
    """Why `url` may not be called (SSRF), or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    if current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"):
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return "the host name does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            return f"refused: {address} is a private, loopback or link-local address"
    return None


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry_in: float | None  # seconds until the next attempt, if there is one


def sign(delivery: WebhookDelivery, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with the endpoint's secret."""
    now = utcnow()
    signature = Webhook(secret_of(delivery.endpoint)).sign(delivery.id, now, body)
    return {
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def attempt(delivery: WebhookDelivery) -> Outcome:
    """POST the delivery once, log the attempt, and decide what comes next."""
    endpoint = delivery.endpoint
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    log = WebhookAttempt(delivery_id=delivery.id, number=delivery.attempts, at=now)
    db.session.add(log)
    if not endpoint.enabled:
        log.error = "the endpoint is disabled"
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        return Outcome(False, None)
    refused = refusal(endpoint.url)
    if refused:
        log.error = refused[:200]
        delivery.status = DeliveryStatus.REFUSED
        delivery.next_attempt_at = None
        return Outcome(False, None)
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    headers.update(sign(delivery, body))
    try:
        response = requests.post(
            endpoint.url,
            data=body.encode(),
            headers=headers,
            timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
            allow_redirects=False,
        )
        log.status_code = response.status_code
        log.response_excerpt = response.text[:RESPONSE_EXCERPT]
        ok = 200 <= response.status_code < 300
    except requests.RequestException as failure:
        log.error = f"{type(failure).__name__}: {failure}"[:200]
        ok = False
    if ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.next_attempt_at = None
        endpoint.failing_since = None
        return Outcome(True, None)
    delays = current_app.config["WEBHOOK_RETRY_DELAYS"]
    if delivery.attempts <= len(delays):
        delay = float(delays[delivery.attempts - 1])
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        return Outcome(False, delay)
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = None
    endpoint.failing_since = endpoint.failing_since or now
    return Outcome(False, None)
