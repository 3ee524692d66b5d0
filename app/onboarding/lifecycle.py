"""The request's lifecycle: its one constructor, its one status change, and the moves that
end it (finish, cancel, expire) or undo its result (offboard).

Every status change goes through `set_status`, which records it on the timeline in the
same transaction; notifications and webhooks hang there. Functions change the session's
objects and never commit: the view, command or job owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import ConsentStep, Entity, OnboardingRequest, ProviderGrant, Tenant, User, utcnow
from app.onboarding.audit import SYSTEM, Actor, record_event, touch
from app.onboarding.states import (
    LIVE_ENTITY,
    Door,
    EntityStatus,
    FailureReason,
    Status,
    StepStatus,
    can_entity_transition,
    check_transition,
)


def new_request(
    tenant: Tenant,
    type_id: str,
    actor: Actor,
    *,
    door: Door,
    status: Status,
    created_by: User | None,
    owner: User | None = None,
    **fields: Any,
) -> OnboardingRequest:
    """A new request, from any door: added to the session with its `created` event."""
    values: dict[str, Any] = {"information": {}, "properties": {}, "answered": [], **fields}
    request = OnboardingRequest(
        id=uuid.uuid4(),
        tenant=tenant,
        type=type_id,
        owner=owner,
        created_by=created_by,
        channel=door,
        **values,
    )
    db.session.add(request)
    created = {"channel": door, "type": type_id}
    if request.manufacturer:
        created["manufacturer"] = request.manufacturer
    record_event(request, "created", actor, **created)
    set_status(request, status, actor)
    return request


def set_status(
    request: OnboardingRequest, target: Status, actor: Actor, reason: str | None = None
) -> None:
    """Move the request to `target` (InvalidTransition if the table forbids it) and record it."""
    current = Status(request.status) if request.status else None
    check_transition(current, target)
    request.status = target
    if reason:
        request.failure_reason = reason
    if target.is_final:
        request.finished_at = utcnow()
    if target == Status.PENDING and current in (None, Status.DRAFT):
        request.submitted_at = utcnow()
    touch(request)
    if current is None and target == Status.DRAFT:
        return  # a draft's birth is its `created` event
    record_event(request, "status", actor, **{"from": current, "to": target, "reason": reason})


def begin_connecting(request: OnboardingRequest, actor: Actor) -> None:
    """Consent is given; we are connecting to the device (Pending -> InProgress)."""
    if request.status == Status.PENDING:
        set_status(request, Status.IN_PROGRESS, actor)


def finish_request(request: OnboardingRequest, actor: Actor) -> Entity:
    """All consent is given: connect. The device's live entity, if the tenant has one, is
    renewed (same id, this request's consent); otherwise the request creates its Entity.

    The database's one-live-entity-per-device index settles a race: a completion that
    loses it renews the entity the winner created.
    """
    begin_connecting(request, actor)
    entity = live_entity(request.tenant_id, request.type, request.device_id)
    if entity is None:
        entity = _create_entity(request)
    if entity is None:  # another completion created it a moment ago
        entity = live_entity(request.tenant_id, request.type, request.device_id)
        assert entity is not None
    if entity.request_id == request.id:
        set_status(request, Status.SUCCEEDED, actor)
        record_event(request, "entity_created", actor, entity_id=str(entity.id))
    else:
        _renew(entity, request, actor)
    return entity


def live_entity(tenant_id: int, type_id: str, device_id: str | None) -> Entity | None:
    """The tenant's live entity (Connected or NeedsReconnect) for this device, locked for
    the change that follows (PostgreSQL; SQLite writes one at a time anyway)."""
    if not device_id:
        return None
    return db.session.scalar(
        select(Entity)
        .where(
            Entity.tenant_id == tenant_id,
            Entity.type == type_id,
            Entity.device_id == device_id,
            Entity.status.in_([s.value for s in LIVE_ENTITY]),
        )
        .with_for_update()
    )


def _create_entity(request: OnboardingRequest) -> Entity | None:
    """The request's new Entity, or None when the device's index refused it (a race)."""
    entity = Entity(
        id=uuid.uuid4(),
        tenant_id=request.tenant_id,
        collective_id=request.collective_id,
        request_id=request.id,
        owner_id=request.owner_id,
        type=request.type,
        manufacturer=request.manufacturer or "",
        device_id=request.device_id,
        information=dict(request.information),
        properties=dict(request.properties),
        status=EntityStatus.CONNECTED,
    )
    try:
        with db.session.begin_nested():
            db.session.add(entity)
    except IntegrityError:
        return None
    request.entity = entity
    return entity


def _renew(entity: Entity, request: OnboardingRequest, actor: Actor) -> None:
    """The device's entity takes this request's fresh consent: the same entity id, the
    older request keeps its evidence, and its grant's tokens are destroyed here."""
    previous = entity.request
    now = utcnow()
    grants = db.session.scalars(
        select(ProviderGrant)
        .join(ConsentStep)
        .where(ConsentStep.request_id == previous.id, ProviderGrant.revoked_at.is_(None))
    ).all()
    for grant in grants:
        grant.access_token = None
        grant.refresh_token = None
        grant.revoked_at = now
    entity.request = request
    entity.status = EntityStatus.CONNECTED
    entity.disconnected_at = None
    entity.owner_id = request.owner_id or entity.owner_id
    entity.collective_id = request.collective_id or entity.collective_id
    entity.information = dict(request.information)
    entity.properties = dict(request.properties)
    set_status(request, Status.SUCCEEDED, actor)
    record_event(
        request,
        "entity_reconnected",
        actor,
        entity_id=str(entity.id),
        previous_request_id=str(previous.id),
    )
    record_event(
        previous, "consent_renewed", actor, entity_id=str(entity.id), by_request_id=str(request.id)
    )


def mark_needs_reconnect(entity: Entity, reason: str, actor: Actor) -> bool:
    """The manufacturer no longer honours the entity's grant (revoked or expired there):
    the entity needs its owner to reconnect it. False when it is not Connected."""
    if not can_entity_transition(EntityStatus(entity.status), EntityStatus.NEEDS_RECONNECT):
        return False
    entity.status = EntityStatus.NEEDS_RECONNECT
    touch(entity.request)
    record_event(entity.request, "needs_reconnect", actor, entity_id=str(entity.id), reason=reason)
    return True


def cancel_request(request: OnboardingRequest, actor: Actor, reason: str | None = None) -> None:
    """Cancel a request that is not final (again: no change); InvalidTransition otherwise."""
    if request.status == Status.CANCELED:
        return
    set_status(request, Status.CANCELED, actor)
    if reason:
        record_event(request, "cancel_reason", actor, reason=reason)


DECLINED = "declined"


def decline_request(request: OnboardingRequest, actor: Actor) -> None:
    """The owner said "not now" to the request a link brought them: Canceled, reason
    `declined` (again: no change)."""
    if request.status == Status.CANCELED:
        return
    set_status(request, Status.CANCELED, actor, reason=DECLINED)


def expire_if_due(request: OnboardingRequest, max_age: timedelta) -> bool:
    """Fail a request still not final `max_age` after it was created (reason `expired`)."""
    if request.is_final or request.created_at + max_age > utcnow():
        return False
    set_status(request, Status.FAILED, SYSTEM, reason=FailureReason.EXPIRED)
    return True


def disconnect_entity(entity: Entity, reason: str, actor: Actor) -> bool:
    """Offboard: the consent is revoked (its evidence kept) and the entity disconnected.

    False, changing nothing, when it is already disconnected. The entity is claimed with
    one conditional UPDATE (... WHERE status is live: Connected or NeedsReconnect), so of
    two concurrent calls exactly one gets True: the other waits on the row and then
    matches nothing.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(Entity)
        .where(Entity.id == entity.id, Entity.status.in_(LIVE_ENTITY))
        .values(status=EntityStatus.DISCONNECTED, disconnected_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
        db.session.refresh(entity)
        return False
    set_committed_value(entity, "status", EntityStatus.DISCONNECTED)
    set_committed_value(entity, "disconnected_at", now)
    for step in entity.request.steps:
        if step.status == StepStatus.DONE and step.revoked_at is None:
            step.status = StepStatus.REVOKED
            step.revoked_at = now
            step.revoke_reason = reason
    touch(entity.request)
    record_event(entity.request, "offboarded", actor, entity_id=str(entity.id), reason=reason)
    return True
