"""One device, connected once: what the tenant already has for a device (a live entity,
a request under way), and renewing a live entity's consent (reconnect).

A request for a device the tenant has connected renews that entity when it succeeds
(`lifecycle.finish_request`); a reconnect is such a request, made from the entity, with
only the manufacturer's steps (our terms were agreed to already).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.catalog import Catalog
from app.extensions import db
from app.identifiers import N_
from app.models import ConsentStep, Entity, OnboardingRequest, User
from app.onboarding.audit import Actor, record_event
from app.onboarding.errors import OnboardingError
from app.onboarding.lifecycle import live_entity, new_request
from app.onboarding.states import FINAL, LIVE_ENTITY, Door, Status, StepStatus
from app.onboarding.steps import DEVICE_STEP_KINDS

UNDER_WAY = [s.value for s in Status if s not in FINAL]


@dataclass(frozen=True)
class DeviceTaken:
    """What the tenant has for the device a request names, besides the request itself."""

    entity: Entity | None = None  # connected (or waiting to be reconnected)
    request: OnboardingRequest | None = None  # another request for it, under way


def device_taken(request: OnboardingRequest) -> DeviceTaken | None:
    """The tenant's live entity, or else another request under way, for the request's
    device; None when the device is new to the tenant. One statement when it is new."""
    if not request.device_id:
        return None
    entity_id = (
        select(Entity.id)
        .where(
            Entity.tenant_id == request.tenant_id,
            Entity.type == request.type,
            Entity.device_id == request.device_id,
            Entity.status.in_([s.value for s in LIVE_ENTITY]),
        )
        .limit(1)
        .scalar_subquery()
    )
    other_id = (
        select(OnboardingRequest.id)
        .where(
            OnboardingRequest.tenant_id == request.tenant_id,
            OnboardingRequest.type == request.type,
            OnboardingRequest.device_id == request.device_id,
            OnboardingRequest.status.in_(UNDER_WAY),
            OnboardingRequest.id != request.id,
        )
        .order_by(OnboardingRequest.last_activity_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    found_entity, found_request = db.session.execute(select(entity_id, other_id)).one()
    if found_entity is not None:
        return DeviceTaken(entity=db.session.get(Entity, found_entity))
    if found_request is not None:
        return DeviceTaken(request=db.session.get(OnboardingRequest, found_request))
    return None


def open_reconnect(entity: Entity) -> OnboardingRequest | None:
    """The request under way that renews `entity`'s consent, if one was started."""
    return db.session.scalar(
        select(OnboardingRequest)
        .where(
            OnboardingRequest.tenant_id == entity.tenant_id,
            OnboardingRequest.type == entity.type,
            OnboardingRequest.device_id == entity.device_id,
            OnboardingRequest.status.in_([Status.PENDING.value, Status.IN_PROGRESS.value]),
        )
        .order_by(OnboardingRequest.created_at.desc())
        .limit(1)
    )


def start_reconnect(
    entity: Entity, catalog: Catalog, actor: Actor, *, door: Door, created_by: User | None
) -> tuple[OnboardingRequest, bool]:
    """The request that renews `entity`'s consent: the one under way, or a new one with
    only the manufacturer's steps. (request, whether it is new)."""
    if entity.status not in LIVE_ENTITY or not entity.device_id:
        raise OnboardingError(N_("This device is disconnected: connect it again instead."))
    if live_entity(entity.tenant_id, entity.type, entity.device_id) is not entity:
        raise OnboardingError(N_("This device is disconnected: connect it again instead."))
    under_way = open_reconnect(entity)
    if under_way is not None:
        return under_way, False
    manufacturer = catalog.manufacturer(entity.type, entity.manufacturer)
    if manufacturer is None:
        raise OnboardingError(N_("This manufacturer can no longer be connected."))
    previous = entity.request
    # Only the manufacturer's steps; a manufacturer without one asks all its steps again.
    specs = [s for s in manufacturer.steps if s.kind in DEVICE_STEP_KINDS] or manufacturer.steps
    steps = [
        ConsentStep(
            position=position, kind=spec.kind, status=StepStatus.TODO, attempts=0, evidence={}
        )
        for position, spec in enumerate(specs, start=1)
    ]
    owner = db.session.get(User, entity.owner_id) if entity.owner_id else None
    request = new_request(
        previous.tenant,
        entity.type,
        actor,
        door=door,
        status=Status.PENDING,
        created_by=created_by,
        owner=owner,
        collective_id=entity.collective_id,
        manufacturer=entity.manufacturer,
        information=dict(entity.information),
        properties=dict(entity.properties),
        device_id=entity.device_id,
        email=previous.email,
        reference=previous.reference,
        return_url=previous.return_url,
        steps=steps,
    )
    record_event(request, "reconnect_started", actor, entity_id=str(entity.id))
    return request, True
