"""The demo tenant: one user per role and a household, so the app can be tried at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.catalog import current_catalog
from app.extensions import db
from app.models import Collective, CollectiveKind, Event, OnboardingRequest, Role, Tenant, User
from app.onboarding import access
from app.onboarding.audit import OWNER_LINK, Actor
from app.onboarding.drafts import QUESTION_TYPE, choose_manufacturer
from app.onboarding.intake import create_request
from app.onboarding.lifecycle import new_request
from app.onboarding.states import Door, FailureReason, Status
from app.onboarding.steps import complete_step, fail_step_attempt, start_step

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
    db.session.flush()
    seed_stalled_requests(tenant)
    db.session.commit()
    return {email: DEMO_PASSWORD for email in DEMO_USERS}


@dataclass(frozen=True)
class Stalled:
    """A demo request stopped somewhere, for support to find (by its reference) and resume."""

    reference: str
    type: str
    manufacturer: str
    answers: dict[str, str]
    email: str
    idle_days: int
    done: int = 0  # consent steps the owner took
    started: bool = False  # the next step was started at the manufacturer
    failed: str | None = None  # ...and failed for this reason


STALLED = [
    Stalled("DEMO-1001", "EV", "Audi", {"vin": "WAUZZZ8V0KA000101"}, "anna@example.com", 5),
    Stalled(
        "DEMO-1002",
        "EV",
        "BMW",
        {"vin": "WBA3A5C55CF256985"},
        "bert@example.com",
        3,
        done=1,
        started=True,
        failed=FailureReason.DEVICE_NOT_FOUND,
    ),
    Stalled(
        "DEMO-1003", "EV", "Kia", {"vin": "KNAB2512AET000103"}, "chloe@example.com", 4, 1, True
    ),
    Stalled(
        "DEMO-1004",
        "SmartMeter",
        "Fluvius",
        {"ean": "541448820012345678", "flow": "B2C"},
        "dirk@example.com",
        10,
        done=1,
        started=True,
        failed=FailureReason.DENIED,
    ),
    Stalled(
        "DEMO-1005",
        "SmartMeter",
        "re.alto P1-Dongle",
        {"code": "RA1B2C3D4E5F"},
        "eva@example.com",
        6,
        done=1,
    ),
]
DEMO_API = Actor("api-key:demo")


def seed_stalled_requests(tenant: Tenant) -> None:
    """Requests stalled at different steps (and a wizard draft left half-way), once each."""
    catalog = current_catalog()
    for spec in STALLED:
        if db.session.scalar(
            select(OnboardingRequest.id).where(
                OnboardingRequest.tenant_id == tenant.id,
                OnboardingRequest.reference == spec.reference,
            )
        ):
            continue
        request = create_request(
            tenant,
            spec.type,
            spec.manufacturer,
            spec.answers,
            catalog,
            DEMO_API,
            reference=spec.reference,
            email=spec.email,
        )
        db.session.flush()
        for done in request.steps[: spec.done]:
            complete_step(request, done, OWNER_LINK, {"demo": True})
        if spec.started:
            waiting = request.steps[spec.done]
            start_step(request, waiting, OWNER_LINK)
            if spec.failed:
                provider = Actor(f"provider:{spec.manufacturer.lower()}")
                fail_step_attempt(request, waiting, provider, spec.failed, tried=request.device_id)
        _age(request, timedelta(days=spec.idle_days))
    # An installer started a draft on site and left it half-way (no owner account yet).
    installer = db.session.scalar(select(User).where(User.email == "installer@demo.example"))
    draft_reference = "DEMO-DRAFT"
    if installer is not None and not db.session.scalar(
        select(OnboardingRequest.id).where(
            OnboardingRequest.tenant_id == tenant.id, OnboardingRequest.reference == draft_reference
        )
    ):
        actor = Actor.user(installer)
        draft = new_request(
            tenant,
            "PV",
            actor,
            door=Door.INSTALLER,
            status=Status.DRAFT,
            created_by=installer,
            answered=[QUESTION_TYPE],
            reference=draft_reference,
        )
        choose_manufacturer(draft, "SMA", catalog, actor)
        _age(draft, timedelta(days=2, hours=6))


def _age(request: OnboardingRequest, idle: timedelta) -> None:
    """Move the request and its timeline back in time: its last activity was `idle` ago."""
    db.session.flush()
    request.created_at -= idle
    request.last_activity_at -= idle
    if request.submitted_at:
        request.submitted_at -= idle
    for event in db.session.scalars(select(Event).where(Event.request_id == request.id)):
        event.at -= idle
    for step in request.steps:
        for name in ("created_at", "started_at", "completed_at"):
            if getattr(step, name) is not None:
                setattr(step, name, getattr(step, name) - idle)
