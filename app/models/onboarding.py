"""The onboarding request, its consent steps, its timeline, and the entity it creates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.models.tenant import Collective, Tenant
from app.models.types import UTCDateTime, utcnow
from app.models.user import User
from app.onboarding.states import LIVE_ENTITY, EntityStatus, Status, StepStatus

# Not final: the requests the stalled view and its partial index are about.
OPEN_STATUSES_SQL = text("status IN ('Draft', 'Pending', 'InProgress')")


class OnboardingRequest(db.Model):
    """Everything needed to identify one device and track its owner's consent."""

    __tablename__ = "onboarding_requests"
    __table_args__ = (
        Index("ix_onboarding_requests_tenant_device", "tenant_id", "device_id"),
        # Cursor pages (app/api/pagination.py): a tenant's requests, and by status.
        Index("ix_onboarding_requests_tenant_created_id", "tenant_id", "created_at", "id"),
        Index(
            "ix_onboarding_requests_tenant_status_created",
            "tenant_id",
            "status",
            "created_at",
            "id",
        ),
        # The expiry job: requests not final, oldest first.
        Index("ix_onboarding_requests_status_created", "status", "created_at"),
        # An owner's home page: under way and recent history, latest activity first.
        Index(
            "ix_onboarding_requests_owner_status_activity",
            "owner_id",
            "tenant_id",
            "status",
            "last_activity_at",
        ),
        # The support console: its list pages by (last activity, id) within a tenant, the
        # stalled view over open requests only, and its search by reference and email.
        Index("ix_onboarding_requests_tenant_activity", "tenant_id", "last_activity_at", "id"),
        Index(
            "ix_onboarding_requests_tenant_open_activity",
            "tenant_id",
            "last_activity_at",
            "id",
            postgresql_where=OPEN_STATUSES_SQL,
            sqlite_where=OPEN_STATUSES_SQL,
        ),
        # (the reference and the customer's name in any case: lower() indexes below)
        Index("ix_onboarding_requests_tenant_email", "tenant_id", "email_search"),
        Index("ix_onboarding_requests_tenant_mobile", "tenant_id", "customer_mobile"),
        Index("ix_onboarding_requests_tenant_status", "tenant_id", "status"),
        Index("ix_onboarding_requests_tenant_created", "tenant_id", "created_at", "funnel_stage"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    collective_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("collectives.id"))
    type: Mapped[str] = mapped_column(String(40))
    manufacturer: Mapped[str | None] = mapped_column(String(60))
    information: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The value that names the device (the catalog's `device` attribute: VIN, EAN, ...).
    device_id: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    # The email in lower case, kept by `_email_search`: support finds a customer by it.
    email_search: Mapped[str | None] = mapped_column(String(254))
    # The person who must consent, as an installer gave them (email above).
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_mobile: Mapped[str | None] = mapped_column(String(32))
    # The installer's start form's key: submitting it twice makes one request.
    start_key: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    return_url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT)
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), default="wizard")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # How far the request got, for the support funnel (app.onboarding.funnel), kept by touch().
    funnel_stage: Mapped[int] = mapped_column(Integer, default=0)
    # Wizard questions answered so far (a Draft's progress), in the order asked.
    answered: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    tenant: Mapped[Tenant] = relationship()
    collective: Mapped[Collective | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    steps: Mapped[list[ConsentStep]] = relationship(
        back_populates="request", order_by="ConsentStep.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="request", order_by="Event.id", cascade="all, delete-orphan"
    )
    entity: Mapped[Entity | None] = relationship(back_populates="request", uselist=False)

    @validates("email")
    def _email_search(self, _key: str, value: str | None) -> str | None:
        self.email_search = value.lower() if value else None
        return value

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def is_final(self) -> bool:
        return self.status_enum.is_final

    @property
    def steps_done(self) -> int:
        return sum(1 for step in self.steps if step.status == StepStatus.DONE)

    def __repr__(self) -> str:
        return f"<OnboardingRequest {self.id} {self.type}/{self.manufacturer} {self.status}>"


# The support console's search compares these in lower case (app/onboarding/console.py).
Index(
    "ix_onboarding_requests_tenant_reference_ci",
    OnboardingRequest.tenant_id,
    func.lower(OnboardingRequest.reference),
)
Index(
    "ix_onboarding_requests_tenant_name_ci",
    OnboardingRequest.tenant_id,
    func.lower(OnboardingRequest.customer_name),
)


class ConsentStep(db.Model):
    """One thing the owner must do; its evidence is kept once given."""

    __tablename__ = "consent_steps"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("onboarding_requests.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=StepStatus.TODO)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str | None] = mapped_column(String(120))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(500))

    request: Mapped[OnboardingRequest] = relationship(back_populates="steps")


class Event(db.Model):
    """One line of a request's timeline; never edited."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("onboarding_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The outbox: unset until the event was handed to its webhook deliveries (jobs).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    request: Mapped[OnboardingRequest] = relationship(back_populates="events")


# An entity that still stands for its device (the one-device-once index's condition).
LIVE_ENTITY_SQL = text("status IN (" + ", ".join(f"'{s.value}'" for s in sorted(LIVE_ENTITY)) + ")")


class Entity(db.Model):
    """A device the platform may use; created when the first request for its device
    succeeds, and renewed (same id) by each later one that succeeds for the same device."""

    __tablename__ = "entities"
    __table_args__ = (
        # Cursor pages: a tenant's entities, and by status; an owner's, newest first.
        Index("ix_entities_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_entities_tenant_status_created", "tenant_id", "status", "created_at", "id"),
        Index("ix_entities_owner_created", "owner_id", "tenant_id", "created_at"),
        # One device, connected once: per tenant, at most one live entity per device.
        Index(
            "ux_entities_tenant_device_live",
            "tenant_id",
            "type",
            "device_id",
            unique=True,
            postgresql_where=LIVE_ENTITY_SQL,
            sqlite_where=LIVE_ENTITY_SQL,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    collective_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("collectives.id"))
    # The request of the consent in force (a reconnect moves it to the newer request; the
    # older ones keep their evidence). Unique: never two entities for one request.
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("onboarding_requests.id"), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(40))
    manufacturer: Mapped[str] = mapped_column(String(60))
    # The catalog's device id (VIN, EAN...), the key of "one device, connected once".
    device_id: Mapped[str | None] = mapped_column(String(200))
    information: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=EntityStatus.CONNECTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[OnboardingRequest] = relationship(back_populates="entity")
    collective: Mapped[Collective | None] = relationship()
