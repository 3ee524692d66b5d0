"""People who sign in, and the API keys partners' apps use."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.tenant import Tenant
from app.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    OWNER = "owner"
    INSTALLER = "installer"
    SUPPORT = "support"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.OWNER)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # Set while an invited person has not chosen their password yet.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id a session carries (get_id): signing out adds one, so every session
    # cookie issued before stops working, even a copy replayed later.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    tenant: Mapped[Tenant] = relationship()

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    def end_sessions(self) -> None:
        """Sign out everywhere: every session cookie issued so far stops working."""
        self.session_version += 1

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


API_KEY_PREFIX = "eo_"


def hash_api_key(key: str) -> str:
    # Keys are 256 random bits, so a plain digest is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(db.Model):
    """A tenant's key for the JSON API; only its hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tenant: Mapped[Tenant] = relationship()

    @classmethod
    def issue(cls, tenant: Tenant, name: str = "") -> tuple[ApiKey, str]:
        """A new key for `tenant`: the row to store, and the secret to show once."""
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls(tenant=tenant, name=name, prefix=secret[:10], key_hash=hash_api_key(secret))
        return key, secret
