"""The demo tenant: one user per role and a household, so the app can be tried at once."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Collective, CollectiveKind, Role, Tenant, User
from app.onboarding import access

DEMO_TENANT = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_USERS = {
    "owner@demo.example": (Role.OWNER, "Olivia Owner"),
    "installer@demo.example": (Role.INSTALLER, "Ian Installer"),
    "support@demo.example": (Role.SUPPORT, "Sam Support"),
    "admin@demo.example": (Role.ADMIN, "Ada Admin"),
}


def seed_demo() -> dict[str, str]:
    """Create the demo tenant, users and household unless they exist; return email -> password.

    Running it again changes nothing but the demo users' passwords, reset to the demo one.
    """
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT))
    if tenant is None:
        tenant = Tenant(slug=DEMO_TENANT, name="Demo Energy")
        db.session.add(tenant)
    for email, (role, name) in DEMO_USERS.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, tenant=tenant, role=role, name=name)
            db.session.add(user)
        user.set_password(DEMO_PASSWORD)
    db.session.flush()
    if not db.session.scalar(select(Collective).where(access.tenant_collective_clause(tenant.id))):
        db.session.add(Collective(tenant=tenant, name="Home", kind=CollectiveKind.HOUSEHOLD))
    db.session.commit()
    return {email: DEMO_PASSWORD for email in DEMO_USERS}
