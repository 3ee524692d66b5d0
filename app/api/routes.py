"""The API's endpoints: thin views over the onboarding services (one rule, one place)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.api import bp
from app.api.auth import require_principal, resolve_tenant
from app.api.idempotency import run_once
from app.api.pagination import page, paged, split
from app.api.problems import ApiProblem, answer_errors, invalid, not_found
from app.api.schemas import (
    CancelIn,
    EntityListQuery,
    EntityOut,
    EntityPage,
    EntityTypeList,
    OffboardingIn,
    OffboardingOut,
    OnboardingEntityIn,
    OnboardingListQuery,
    OnboardingRequestOut,
    OnboardingRequestPage,
)
from app.api.serializers import (
    REQUEST_OUT_ONE,
    catalog_out,
    entity_out,
    request_list_query,
    request_out,
    requests_out,
    tenant_id,
    timestamp,
)
from app.api.spec import WRITE_ERRORS, responses, spec
from app.api.static_answers import static_json
from app.catalog import current_catalog
from app.consent import grants as consent_grants
from app.extensions import db
from app.models import Entity, EntityStatus, Event, OnboardingRequest
from app.onboarding import access, devices
from app.onboarding.access import Principal
from app.onboarding.errors import InvalidAnswers, OnboardingError
from app.onboarding.expiry import expire_on_open
from app.onboarding.intake import create_request
from app.onboarding.lifecycle import cancel_request
from app.onboarding.states import Door, Status

ONBOARDING = "Onboarding"
ENTITIES = "Entities"

# re.alto's request fields that mean nothing here: accepted, and ignored. Any other extra
# top-level field may be an identifying attribute of the catalog (plantId, siteId, ...).
IGNORED_FIELDS = {"owner", "track", "uuid"}
OFFBOARDING_NAMESPACE = uuid.UUID("6b0bd6f3-5a43-4c4b-9d2e-0f4b1c2a7e11")


# ---------------------------------------------------------------- helpers


def _onboarding_request(principal: Principal, request_id: uuid.UUID) -> OnboardingRequest:
    """The caller's request with this id; 404 for a Draft, another tenant's, or none."""
    onboarding = db.session.scalar(
        select(OnboardingRequest)
        .where(
            OnboardingRequest.id == request_id,
            OnboardingRequest.status != Status.DRAFT,
            access.request_filter(principal),
        )
        .options(*REQUEST_OUT_ONE)
    )
    if onboarding is None:
        raise not_found("There is no onboarding request with this id.")
    # A request past its time fails as expired when it is next looked at, here as in the wizard.
    expire_on_open(onboarding)
    return onboarding


def _attribute_targets(type_id: str, manufacturer_name: str) -> dict[str, str]:
    """Where each of this manufacturer's attributes goes (information or properties)."""
    manufacturer = current_catalog().find_manufacturer(type_id, manufacturer_name)
    return {a.name: a.target for a in manufacturer.attributes} if manufacturer else {}


def _entity(principal: Principal, entity_id: uuid.UUID, field: str | None = None) -> Entity:
    entity = db.session.scalar(
        select(Entity).where(Entity.id == entity_id, access.entity_filter(principal))
    )
    if entity is None:
        raise not_found("There is no entity with this id.", field=field)
    return entity


# ---------------------------------------------------------------- onboarding requests


@bp.post("/onboarding/entities")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_201=OnboardingRequestOut),
    tags=[ONBOARDING],
    operation_id="createEntityOnboardingRequest",
)
def create_onboarding_request(json: OnboardingEntityIn) -> Any:
    """Create an Entity Onboarding Request

    Checks the identifying attributes with the same rules as the web wizard, and answers
    201 with the request, Pending, whose `action.redirectLink` opens our hosted consent
    pages for the owner. With an `Idempotency-Key` header, sending the same request again
    answers the first request instead of creating another.
    """
    principal = require_principal()

    def act() -> tuple[dict[str, Any], int]:
        tenant = resolve_tenant(principal, json.tenantId)
        collective = None
        if json.collectiveId is not None:
            collective = access.tenant_collective(tenant.id, json.collectiveId)
            if collective is None:
                raise not_found("There is no collective with this id.", field="collectiveId")
        extra = {k: v for k, v in (json.model_extra or {}).items() if k not in IGNORED_FIELDS}
        answers: dict[str, object] = {
            **extra,
            "vin": json.vin,
            "ean": json.ean,
            "code": json.code,
            **(json.properties or {}),
        }
        catalog = current_catalog()
        try:
            onboarding = create_request(
                tenant,
                json.type,
                json.manufacturer,
                answers,
                catalog,
                principal.actor,
                collective=collective,
                owner=principal.user if principal.is_owner else None,
                created_by=principal.user,
                email=json.email,
                reference=json.reference,
                model=json.model,
                return_url=json.returnUrl,
            )
        except InvalidAnswers as invalid_answers:
            targets = _attribute_targets(json.type or "", json.manufacturer or "")
            raise invalid(answer_errors(invalid_answers, targets)) from None
        db.session.flush()
        return request_out(onboarding), 201

    return run_once(principal, act)


@bp.get("/onboarding/entities")
@spec.validate(
    resp=responses(HTTP_200=OnboardingRequestPage),
    tags=[ONBOARDING],
    operation_id="listEntityOnboardingRequests",
)
def list_onboarding_requests(query: OnboardingListQuery) -> Any:
    """List Entity Onboarding Requests

    Newest last, `limit` at a time; pass the answer's `next` as `cursor` for the next
    page. Rows created while you page appear at the end, never twice.
    """
    principal = require_principal()
    # Another tenant's id answers 404. Held while the rows are serialised: each row's
    # tenant is this one, so none is loaded again.
    tenant = resolve_tenant(principal, query.tenantId)
    stmt = request_list_query().where(
        access.request_filter(principal, tenant.id), OnboardingRequest.status != Status.DRAFT
    )
    if query.type:
        stmt = stmt.where(OnboardingRequest.type == query.type)
    if query.manufacturer:
        stmt = stmt.where(OnboardingRequest.manufacturer == query.manufacturer)
    if query.status:
        stmt = stmt.where(OnboardingRequest.status == query.status)
    if query.reference:
        stmt = stmt.where(OnboardingRequest.reference == query.reference)
    if query.createdAfter:
        stmt = stmt.where(OnboardingRequest.created_at >= query.createdAfter)
    if query.createdBefore:
        stmt = stmt.where(OnboardingRequest.created_at < query.createdBefore)
    this_page = paged(stmt, OnboardingRequest, query.limit, query.cursor)
    rows, next_cursor = split(db.session.execute(this_page).all(), query.limit)
    body = {
        "data": requests_out(rows, this_page.with_only_columns(OnboardingRequest.id), tenant),
        "next": next_cursor,
    }
    db.session.commit()  # consent links made for redirectLinks
    return body


@bp.get("/onboarding/entities/<uuid:request_id>")
@spec.validate(
    resp=responses(HTTP_200=OnboardingRequestOut),
    tags=[ONBOARDING],
    operation_id="getEntityOnboardingRequest",
)
def get_onboarding_request(request_id: uuid.UUID) -> Any:
    """Retrieve an Entity Onboarding Request"""
    principal = require_principal()
    body = request_out(_onboarding_request(principal, request_id))
    db.session.commit()  # a consent link made for its redirectLink
    return body


@bp.post("/onboarding/entities/<uuid:request_id>/cancel")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_200=OnboardingRequestOut),
    tags=[ONBOARDING],
    operation_id="cancelEntityOnboardingRequest",
)
def cancel_onboarding_request(request_id: uuid.UUID, json: CancelIn) -> Any:
    """Cancel an Entity Onboarding Request

    Canceling a canceled request again changes nothing; a Succeeded or Failed request
    cannot be canceled (409).
    """
    principal = require_principal()

    def act() -> tuple[dict[str, Any], int]:
        onboarding = _onboarding_request(principal, request_id)
        cancel_request(onboarding, principal.actor, reason=json.reason)
        db.session.flush()
        return request_out(onboarding), 200

    return run_once(principal, act)


@bp.get("/onboarding/entities/types")
@spec.validate(
    resp=responses(bodiless=(304,), HTTP_200=EntityTypeList),
    tags=[ONBOARDING],
    operation_id="listEntityTypes",
)
def entity_types() -> Any:
    """List the entity types, their manufacturers, attributes and consent steps

    The catalog: what each manufacturer needs to identify a device (and the rule each
    value must follow), and which consent steps its owner takes. It changes only with a
    deploy: the answer carries an ETag, and `If-None-Match` with it answers 304.
    """
    require_principal()
    return static_json("entity-types", lambda: catalog_out(current_catalog()))


# ---------------------------------------------------------------- entities


@bp.get("/entities")
@spec.validate(resp=responses(HTTP_200=EntityPage), tags=[ENTITIES], operation_id="listEntities")
def list_entities(query: EntityListQuery) -> Any:
    """List Entities

    Devices created by succeeded onboarding requests, oldest first, paged like the
    onboarding requests.
    """
    principal = require_principal()
    tenant = resolve_tenant(principal, query.tenantId)
    stmt = select(Entity).where(access.entity_filter(principal, tenant.id))
    if query.type:
        stmt = stmt.where(Entity.type == query.type)
    if query.manufacturer:
        stmt = stmt.where(Entity.manufacturer == query.manufacturer)
    if query.status:
        stmt = stmt.where(Entity.status == query.status)
    if query.collectiveId:
        stmt = stmt.where(Entity.collective_id == query.collectiveId)
    rows, next_cursor = page(stmt, Entity, query.limit, query.cursor)
    return {"data": [entity_out(e) for e in rows], "next": next_cursor}


@bp.get("/entities/<uuid:entity_id>")
@spec.validate(resp=responses(HTTP_200=EntityOut), tags=[ENTITIES], operation_id="getEntity")
def get_entity(entity_id: uuid.UUID) -> Any:
    """Retrieve an Entity"""
    principal = require_principal()
    return entity_out(_entity(principal, entity_id))


@bp.post("/entities/<uuid:entity_id>/reconnect")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_200=OnboardingRequestOut, HTTP_201=OnboardingRequestOut),
    tags=[ENTITIES],
    operation_id="reconnectEntity",
)
def reconnect_entity(entity_id: uuid.UUID) -> Any:
    """Reconnect an Entity

    Renews the owner's consent for a Connected or NeedsReconnect entity: answers 201 with
    a new onboarding request, Pending, whose `action.redirectLink` takes the owner through
    the manufacturer's step only. When it succeeds, the same entity is Connected again
    (same id, the older consent's evidence kept). While one is under way, calling again
    answers 200 with that same request and link. A disconnected entity is 409.
    """
    principal = require_principal()

    def act() -> tuple[dict[str, Any], int]:
        entity = _entity(principal, entity_id)
        if not access.can_reconnect(principal, entity):
            raise not_found("There is no entity with this id.")
        if entity.status == EntityStatus.DISCONNECTED:
            raise ApiProblem(409, "This entity is disconnected: onboard it again instead.")
        try:
            onboarding, new = devices.start_reconnect(
                entity,
                current_catalog(),
                principal.actor,
                door=Door.API,
                created_by=principal.user,
            )
        except OnboardingError as error:
            raise ApiProblem(409, str(error)) from None
        db.session.flush()
        return request_out(onboarding), 201 if new else 200

    return run_once(principal, act)


@bp.post("/offboarding/entities")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_201=OffboardingOut, HTTP_200=OffboardingOut),
    tags=[ENTITIES],
    operation_id="offboardEntity",
)
def offboard_entity(json: OffboardingIn) -> Any:
    """Offboard an Entity

    Revokes the owner's consent (its evidence is kept) and disconnects the entity: 201.
    Offboarding a disconnected entity again changes nothing and answers 200 with the
    offboarding as it was done (its reason included), however many calls race.
    """
    principal = require_principal()

    def act() -> tuple[dict[str, Any], int]:
        entity = _entity(principal, json.entityId, field="entityId")
        if consent_grants.offboard(entity, json.reason or "", principal.actor):
            db.session.flush()
            return _offboarding_out(entity, json.reason), 201
        return _offboarding_out(entity, _offboarding_reason(entity)), 200

    return run_once(principal, act)


def _offboarding_out(entity: Entity, reason: str | None) -> dict[str, Any]:
    return {
        # One offboarding per entity, so its id follows from the entity's.
        "id": str(uuid.uuid5(OFFBOARDING_NAMESPACE, str(entity.id))),
        "requestType": "Offboarding",
        "status": "Succeeded",
        "created": timestamp(entity.disconnected_at),
        "data": {
            "entityId": str(entity.id),
            "tenantId": tenant_id(entity.tenant_id),
            "collectiveId": str(entity.collective_id) if entity.collective_id else None,
            "reason": reason,
        },
    }


def _offboarding_reason(entity: Entity) -> str | None:
    """The reason the entity's offboarding recorded (its `offboarded` event)."""
    data = db.session.scalar(
        select(Event.data)
        .where(Event.request_id == entity.request_id, Event.kind == "offboarded")
        .order_by(Event.id.desc())
        .limit(1)
    )
    return (data or {}).get("reason") or None
