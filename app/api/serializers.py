"""Domain objects as the API's JSON (plain dicts; spectree checks them against schemas.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, url_for

from app.catalog import Catalog
from app.consent.links import LinkChannel, consent_url
from app.models import Collective, Entity, OnboardingRequest, Tenant
from app.onboarding.audit import SYSTEM, Actor
from app.onboarding.states import Status, StepKind, StepStatus
from app.onboarding.steps import current_step


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the second (as re.alto answers)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def tenant_id(value: int) -> str:
    return str(value)


def documentation_link() -> str:
    return url_for("api.docs", _external=True)


def tenant_out(tenant: Tenant) -> dict[str, Any]:
    return {"id": tenant_id(tenant.id), "name": tenant.name}


def collective_out(collective: Collective) -> dict[str, Any]:
    return {
        "id": str(collective.id),
        "name": collective.name,
        "type": collective.kind,
        "tenantId": tenant_id(collective.tenant_id),
        "created": timestamp(collective.created_at),
    }


def _caller() -> Actor:
    principal = getattr(g, "api_principal", None)
    return principal.actor if principal is not None else SYSTEM


def action_out(request: OnboardingRequest) -> dict[str, Any]:
    """Pending: send the owner to the hosted consent pages; otherwise nothing to do."""
    action: dict[str, Any] = {
        "type": None,
        "redirectLink": None,
        "documentationLink": documentation_link(),
    }
    if request.status == Status.PENDING:
        step = current_step(request)
        waiting_on_app = (
            step is not None
            and step.kind == StepKind.APP_CONSENT
            and step.status == StepStatus.WAITING
        )
        action["type"] = "Consent" if waiting_on_app else "Redirect"
        # The same link on every read while it has time left (made, if need be, by this
        # caller: the view commits it).
        action["redirectLink"] = consent_url(request, _caller(), LinkChannel.API)
    return action


def request_out(request: OnboardingRequest) -> dict[str, Any]:
    entity = request.entity
    return {
        "id": str(request.id),
        "requestType": "Entity",
        "status": request.status,
        "failureReason": request.failure_reason,
        "created": timestamp(request.created_at),
        "updated": timestamp(request.last_activity_at),
        "reference": request.reference,
        "returnUrl": request.return_url,
        "action": action_out(request),
        "steps": [
            {
                "position": s.position,
                "kind": s.kind,
                "status": s.status,
                "completed": timestamp(s.completed_at),
            }
            for s in request.steps
        ],
        "data": {
            "entity": {
                "id": str(entity.id) if entity else None,
                "type": request.type,
                "manufacturer": request.manufacturer or "",
                "information": dict(request.information),
                "properties": dict(request.properties),
                "tenantId": tenant_id(request.tenant_id),
                "collectiveId": str(request.collective_id) if request.collective_id else None,
            },
            "tenant": tenant_out(request.tenant),
            "collective": collective_out(request.collective) if request.collective else None,
        },
    }


def entity_out(entity: Entity) -> dict[str, Any]:
    return {
        "id": str(entity.id),
        "type": entity.type,
        "manufacturer": entity.manufacturer,
        "information": dict(entity.information),
        "properties": dict(entity.properties),
        "tenantId": tenant_id(entity.tenant_id),
        "collectiveId": str(entity.collective_id) if entity.collective_id else None,
        "requestId": str(entity.request_id),
        "status": entity.status,
        "created": timestamp(entity.created_at),
        "disconnected": timestamp(entity.disconnected_at),
    }


def catalog_out(catalog: Catalog) -> dict[str, Any]:
    return {
        "data": [
            {
                "type": entity_type.id,
                "label": entity_type.label,
                "description": entity_type.description,
                "manufacturers": [
                    {
                        "name": m.name,
                        "country": m.country,
                        "attributes": [
                            {
                                "name": a.name,
                                "label": a.label,
                                "description": a.hint,
                                "required": a.required,
                                "rule": a.rule,
                                "pattern": a.pattern,
                                "format": a.description,
                                "example": a.example,
                                "target": a.target,
                                "choices": [
                                    {"value": c.value, "label": c.label} for c in a.choices
                                ],
                            }
                            for a in m.attributes
                        ],
                        "steps": [{"kind": s.kind, "provider": s.provider} for s in m.steps],
                    }
                    for m in entity_type.manufacturers.values()
                ],
            }
            for entity_type in catalog.types.values()
        ]
    }
