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

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Entity, EntityStatus, OnboardingRequest, Tenant, User, utcnow
from app.onboarding.audit import SYSTEM, Actor, record_event, touch
from app.onboarding.states import Door, FailureReason, Status, StepStatus, check_transition


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
    """All consent is given: connect, and create the request's one Entity."""
    begin_connecting(request, actor)
    entity = Entity(
        id=uuid.uuid4(),
        tenant_id=request.tenant_id,
        collective_id=request.collective_id,
        request=request,
        owner_id=request.owner_id,
        type=request.type,
        manufacturer=request.manufacturer or "",
        information=dict(request.information),
        properties=dict(request.properties),
        status=EntityStatus.CONNECTED,
    )
    db.session.add(entity)
    set_status(request, Status.SUCCEEDED, actor)
    record_event(request, "entity_created", actor, entity_id=str(entity.id))
    return entity


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
    one conditional UPDATE (... WHERE status = 'Connected'), so of two concurrent calls
    exactly one gets True: the other waits on the row and then matches nothing.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(Entity)
        .where(Entity.id == entity.id, Entity.status == EntityStatus.CONNECTED)
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
