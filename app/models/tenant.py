"""Tenants and their collectives."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Tenant(db.Model):
    """An organisation; everything else belongs to exactly one tenant."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The logo's content hash (its URL, so it can be cached for ever) and type; the bytes
    # are in TenantLogo, read only when the logo itself is asked for.
    logo_digest: Mapped[str | None] = mapped_column(String(64))
    logo_type: Mapped[str | None] = mapped_column(String(40))

    collectives: Mapped[list[Collective]] = relationship(
        back_populates="tenant", order_by="Collective.name"
    )

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class CollectiveKind(StrEnum):
    HOUSEHOLD = "Household"
    COMMUNITY = "Community"


class Collective(db.Model):
    """An optional group of entities inside a tenant: a household or an energy community."""

    __tablename__ = "collectives"
    # Cursor pages of a tenant's collectives (app/api/pagination.py).
    __table_args__ = (Index("ix_collectives_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=CollectiveKind.HOUSEHOLD)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="collectives")


class TenantLogo(db.Model):
    """The bytes of a tenant's logo (PNG, JPEG or SVG, at most 200 KB)."""

    __tablename__ = "tenant_logos"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AdminChange(db.Model):
    """One change to a tenant's settings (users, collectives, keys, webhooks, name, logo):
    who, what and when. Append-only, like the requests' timeline; never deleted."""

    __tablename__ = "admin_changes"
    __table_args__ = (Index("ix_admin_changes_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
