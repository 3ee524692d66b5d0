"""Domain objects as the API's JSON (plain dicts; spectree checks them against schemas.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import g, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app.catalog import Catalog
from app.consent.links import (
    LinkChannel,
    added_link,
    consent_url,
    links_given_out_again,
    url_of_link,
)
from app.extensions import db
from app.models import Collective, ConsentStep, Entity, OnboardingRequest, Tenant
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
    # The same for every row of a list: built once per HTTP request.
    if "api_documentation_link" not in g:
        g.api_documentation_link = url_for("api.docs", _external=True)
    return g.api_documentation_link


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


def _action(status: str, open_step: Any | None, redirect_link: Callable[[], str]) -> dict[str, Any]:
    """Pending: send the owner to the hosted consent pages; otherwise nothing to do.
    `open_step` is the first step not done (its kind and status)."""
    action: dict[str, Any] = {
        "type": None,
        "redirectLink": None,
        "documentationLink": documentation_link(),
    }
    if status == Status.PENDING:
        waiting_on_app = (
            open_step is not None
            and open_step.kind == StepKind.APP_CONSENT
            and open_step.status == StepStatus.WAITING
        )
        action["type"] = "Consent" if waiting_on_app else "Redirect"
        action["redirectLink"] = redirect_link()
    return action


def action_out(request: OnboardingRequest) -> dict[str, Any]:
    # The same link on every read while it has time left (made, if need be, by this
    # caller: the view commits it).
    return _action(
        request.status,
        current_step(request),
        lambda: consent_url(request, _caller(), LinkChannel.API),
    )


# What request_out reads besides the row itself, in the request's own statement where a
# join is cheap.
REQUEST_OUT_ONE: tuple[LoaderOption, ...] = (
    selectinload(OnboardingRequest.steps),
    joinedload(OnboardingRequest.entity),
    joinedload(OnboardingRequest.collective),
    joinedload(OnboardingRequest.tenant),
)


def _request_body(
    request: Any,
    steps: Iterable[Any],
    entity_id: uuid.UUID | None,
    collective: dict[str, Any] | None,
    tenant: Tenant,
    action: dict[str, Any],
) -> dict[str, Any]:
    """One request as JSON, from an OnboardingRequest or a row of its columns (a list)."""
    # Only a succeeded request shows its entity.
    shown_entity = entity_id if request.status == Status.SUCCEEDED else None
    return {
        "id": str(request.id),
        "requestType": "Entity",
        "status": request.status,
        "failureReason": request.failure_reason,
        "created": timestamp(request.created_at),
        "updated": timestamp(request.last_activity_at),
        "reference": request.reference,
        "returnUrl": request.return_url,
        "action": action,
        "steps": [
            {
                "position": s.position,
                "kind": s.kind,
                "status": s.status,
                "completed": timestamp(s.completed_at),
            }
            for s in steps
        ],
        "data": {
            "entity": {
                "id": str(shown_entity) if shown_entity else None,
                "type": request.type,
                "manufacturer": request.manufacturer or "",
                "information": dict(request.information),
                "properties": dict(request.properties),
                "tenantId": tenant_id(request.tenant_id),
                "collectiveId": str(request.collective_id) if request.collective_id else None,
            },
            "tenant": tenant_out(tenant),
            "collective": collective,
        },
    }


def request_out(request: OnboardingRequest) -> dict[str, Any]:
    # Only a succeeded request has an entity: others need not load it (a new one above all).
    entity = request.entity if request.status == Status.SUCCEEDED else None
    return _request_body(
        request,
        request.steps,
        entity.id if entity else None,
        collective_out(request.collective) if request.collective else None,
        request.tenant,
        action_out(request),
    )


# A list's columns: the request's own, its entity's id and nothing more, so a page of
# rows is read without building an object per row (the answer is the same as
# request_out's: one builder, _request_body).
REQUEST_LIST_COLUMNS = (
    OnboardingRequest.id,
    OnboardingRequest.status,
    OnboardingRequest.failure_reason,
    OnboardingRequest.created_at,
    OnboardingRequest.last_activity_at,
    OnboardingRequest.reference,
    OnboardingRequest.return_url,
    OnboardingRequest.type,
    OnboardingRequest.manufacturer,
    OnboardingRequest.information,
    OnboardingRequest.properties,
    OnboardingRequest.tenant_id,
    OnboardingRequest.collective_id,
    Entity.id.label("entity_id"),
)


def request_list_query() -> Select[Any]:
    """The columns of a list of requests, to filter and page; rows for `requests_out`."""
    return select(*REQUEST_LIST_COLUMNS).outerjoin(
        Entity, Entity.request_id == OnboardingRequest.id
    )


def requests_out(
    rows: Sequence[Any], page_ids: Select[Any], tenant: Tenant
) -> list[dict[str, Any]]:
    """A page of `request_list_query` rows as JSON, the tenant's; `page_ids` selects the
    same page's ids. Steps, collectives and consent links are read once for the page."""
    steps: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for step in db.session.execute(
        select(
            ConsentStep.request_id,
            ConsentStep.position,
            ConsentStep.kind,
            ConsentStep.status,
            ConsentStep.completed_at,
        )
        .where(ConsentStep.request_id.in_(page_ids))
        .order_by(ConsentStep.request_id, ConsentStep.position)
    ):
        steps[step.request_id].append(step)
    wanted = {row.collective_id for row in rows if row.collective_id is not None}
    collectives = {
        c.id: collective_out(c)
        for c in (
            db.session.scalars(select(Collective).where(Collective.id.in_(wanted)))
            if wanted
            else ()
        )
    }
    pending = [row.id for row in rows if row.status == Status.PENDING]
    given_out = links_given_out_again(page_ids) if pending else {}
    # A Pending request with no link to give out again gets one, as a single read would
    # make it (the view commits it); those requests are loaded in one statement.
    if missing := [request_id for request_id in pending if request_id not in given_out]:
        for request in db.session.scalars(
            select(OnboardingRequest).where(OnboardingRequest.id.in_(missing))
        ):
            given_out[request.id] = added_link(request, _caller(), LinkChannel.API).id
    return [
        _request_body(
            row,
            steps[row.id],
            row.entity_id,
            collectives.get(row.collective_id) if row.collective_id is not None else None,
            tenant,
            _action(
                row.status,
                next((s for s in steps[row.id] if s.status != StepStatus.DONE), None),
                lambda: url_of_link(given_out[row.id]),  # noqa: B023 (called at once)
            ),
        )
        for row in rows
    ]


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
