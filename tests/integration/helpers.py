"""Helpers for integration tests: people, signing in, and walking the wizard.

Data is created with `in_db(app)`, which pushes an app context (the `app` fixture does not).
Wizard helpers drive the real pages through the test client and assert each step worked,
so a test reads as the path a person takes.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_mailman import EmailMessage
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from app.catalog import current_catalog
from app.extensions import db
from app.messaging.mail import outbox
from app.messaging.sms import TextMessage, sent_sms
from app.models import Collective, CollectiveKind, Entity, OnboardingRequest, Role, Tenant, User
from app.onboarding.audit import SYSTEM
from app.onboarding.intake import create_request

PASSWORD = "correct horse battery"
# A cheap hash keeps sign-in fast; check_password_hash reads the method from the hash itself.
FAST_HASH_METHOD = "pbkdf2:sha256:1000"

# Identifiers that pass the rules (the EAN carries its GS1 check digit).
VIN = "WBA3A5C55CF256985"  # European: no check digit to enforce
NORTH_AMERICAN_VIN = "1HGCM82633A004352"  # its 9th character (3) is the right check digit
EAN = "541448820012345678"
DONGLE_CODE = "RA1B2C3D4E5F"
XENN_REFERENCE = "P1000000000"
AUDI_VIN = "WAUZZZ8V0KA000000"
PAIRING_CODE = "482913"
WRONG_PAIRING_CODE = "000000"  # the sandbox answers "does not match the device"

HX = {"HX-Request": "true"}
# Every page title ends with the site's name, after an en dash.
TITLE_SUFFIX = " \N{EN DASH} Entity Onboarding"


@contextmanager
def in_db(app: Flask) -> Iterator[Session]:
    """The app's database session, inside an app context (each context has its own)."""
    with app.app_context():
        yield db.session()


# ---------------------------------------------------------------- people


@dataclass(frozen=True)
class World:
    """Two tenants: `acme` (with a household) has Alice and Bob; `other` has Carol."""

    acme_id: int
    other_id: int
    household_id: uuid.UUID
    community_id: uuid.UUID
    other_collective_id: uuid.UUID
    alice: str = "alice@acme.example"
    bob: str = "bob@acme.example"
    carol: str = "carol@other.example"


def add_tenant(session: Session, slug: str, name: str) -> Tenant:
    tenant = Tenant(slug=slug, name=name)
    session.add(tenant)
    session.flush()
    return tenant


def add_user(session: Session, tenant: Tenant, email: str, role: Role = Role.OWNER) -> User:
    user = User(
        email=email,
        tenant=tenant,
        role=role,
        name=email.split("@")[0].title(),
        password_hash=generate_password_hash(PASSWORD, FAST_HASH_METHOD),
    )
    session.add(user)
    session.flush()
    return user


def add_collective(
    session: Session,
    tenant: Tenant,
    name: str,
    kind: CollectiveKind = CollectiveKind.HOUSEHOLD,
) -> Collective:
    collective = Collective(tenant=tenant, name=name, kind=kind)
    session.add(collective)
    session.flush()
    return collective


def make_world(app: Flask, *, acme_collectives: bool = True) -> World:
    with in_db(app) as session:
        acme = add_tenant(session, "acme", "Acme Energy")
        other = add_tenant(session, "other", "Other Power")
        add_user(session, acme, "alice@acme.example")
        add_user(session, acme, "bob@acme.example")
        add_user(session, other, "carol@other.example")
        other_group = add_collective(session, other, "Carol's home")
        if acme_collectives:
            household = add_collective(session, acme, "Alice's home")
            community = add_collective(session, acme, "Sunny Street", CollectiveKind.COMMUNITY)
        world = World(
            acme_id=acme.id,
            other_id=other.id,
            household_id=household.id if acme_collectives else uuid.uuid4(),
            community_id=community.id if acme_collectives else uuid.uuid4(),
            other_collective_id=other_group.id,
        )
        session.commit()
    return world


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.text
    return response


def signed_in_client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email)
    return client


# ---------------------------------------------------------------- the wizard


def url(request_id: uuid.UUID | str, page: str = "") -> str:
    return f"/onboarding/{request_id}" + (f"/{page}" if page else "")


def path_of(response: TestResponse) -> str:
    """Where a redirect goes, as a path."""
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = response.headers["Location"]
    return re.sub(r"^https?://[^/]+", "", location)


def start(client: FlaskClient, type_id: str) -> uuid.UUID:
    """Answer the first question; return the new request's id. The manufacturer question
    comes next, unless the type has only one (then the details)."""
    response = client.post("/onboarding/new", data={"type": type_id})
    match = re.fullmatch(
        r"/onboarding/([0-9a-f-]{36})/(manufacturer|details|check)", path_of(response)
    )
    assert match, response.headers["Location"]
    return uuid.UUID(match.group(1))


def answer(
    client: FlaskClient,
    request_id: uuid.UUID,
    page: str,
    data: Mapping[str, str],
    expect: str | None = None,
) -> TestResponse:
    """POST one question's answer; the answer is taken (a redirect), to `expect` if given."""
    response = client.post(url(request_id, page), data=dict(data))
    where = path_of(response)
    if expect is not None:
        assert where == url(request_id, expect), where
    return response


def walk_to_check(
    client: FlaskClient,
    type_id: str,
    manufacturer: str,
    details: Mapping[str, str] | None = None,
    collective: str | None = None,
) -> uuid.UUID:
    """Answer every question up to the check-answers page; return the request's id."""
    request_id = start(client, type_id)
    answer(client, request_id, "manufacturer", {"manufacturer": manufacturer})
    if details is not None:
        answer(client, request_id, "details", details)
    if collective is not None:
        answer(client, request_id, "collective", {"collective": collective})
    assert path_of(client.get(url(request_id))) == url(request_id, "check")
    return request_id


def submit(client: FlaskClient, request_id: uuid.UUID) -> TestResponse:
    """Send the request without agreeing on check answers: the terms page is next."""
    response = client.post(url(request_id, "check"))
    assert path_of(response) == url(request_id, "steps/1")
    return response


def declare(client: FlaskClient, request_id: uuid.UUID) -> TestResponse:
    """Agree on check answers (the declaration), as the page's button does."""
    page = client.get(url(request_id, "check"))
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert version, page.text
    return client.post(
        url(request_id, "check"), data={"version": version.group(1), "language": "en"}
    )


def accept_terms(client: FlaskClient, request_id: uuid.UUID, position: int = 1) -> TestResponse:
    page = client.get(url(request_id, f"steps/{position}"))
    assert page.status_code == 200
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert version
    response = client.post(url(request_id, f"steps/{position}"), data={"version": version.group(1)})
    assert response.status_code == 302
    return response


def pair(
    client: FlaskClient, request_id: uuid.UUID, code: str = PAIRING_CODE, position: int = 2
) -> TestResponse:
    return client.post(url(request_id, f"steps/{position}"), data={"code": code})


def onboard_xenn(client: FlaskClient, collective: str | None = None) -> uuid.UUID:
    """A Xenn reader all the way to Succeeded; return the request's id."""
    request_id = walk_to_check(
        client, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, collective
    )
    submit(client, request_id)
    accept_terms(client, request_id)
    assert path_of(pair(client, request_id)) == url(request_id, "done")
    return request_id


def get_request(app: Flask, request_id: uuid.UUID) -> OnboardingRequest:
    """The request as stored now, with its steps and events loaded (detached)."""
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        assert request is not None
        _ = request.steps, request.events, request.entity
        session.expunge_all()
        return request


def entities_of(app: Flask, request_id: uuid.UUID) -> list[Entity]:
    with in_db(app) as session:
        found = list(session.scalars(select(Entity).where(Entity.request_id == request_id)))
        session.expunge_all()
        return found


ROUND_OF_STATUSES = ("Pending", "Succeeded", "Canceled", "Draft")


def add_requests(
    app: Flask,
    tenant_id: int,
    n: int,
    owner_email: str | None = None,
    collective_ids: tuple[uuid.UUID, ...] = (),
) -> list[uuid.UUID]:
    """`n` Xenn requests in the tenant (the owner's, if given), by turns Pending, Succeeded
    (with its entity), Canceled and, for an owner, a Draft; steps and events included.
    Sent requests go by turns into `collective_ids` and no collective."""
    from app.catalog import current_catalog
    from app.onboarding.audit import SYSTEM, Actor
    from app.onboarding.intake import create_request
    from app.onboarding.lifecycle import cancel_request, new_request
    from app.onboarding.states import Door, Status
    from app.onboarding.steps import complete_step

    ids = []
    with in_db(app) as session:
        tenant = session.get(Tenant, tenant_id)
        owner = (
            session.scalar(select(User).where(User.email == owner_email)) if owner_email else None
        )
        actor = Actor.user(owner) if owner else SYSTEM
        rounds = ROUND_OF_STATUSES if owner else ROUND_OF_STATUSES[:-1]
        groups = [session.get(Collective, c) for c in collective_ids] + [None]
        for i in range(n):
            status = rounds[i % len(rounds)]
            if status == "Draft":
                # Made directly: the wizard's start would reuse the owner's blank draft.
                request = new_request(
                    tenant,
                    "RetrofitMeter",
                    actor,
                    door=Door.WIZARD,
                    status=Status.DRAFT,
                    created_by=owner,
                    owner=owner,
                    answered=["type"],
                    manufacturer="Xenn",
                )
            else:
                request = create_request(
                    tenant,
                    "RetrofitMeter",
                    "Xenn",
                    {},
                    current_catalog(),
                    actor,
                    # A device of its own each: one device is connected once.
                    reference=f"P{1000000000 + i}",
                    owner=owner,
                    created_by=owner,
                    collective=groups[i % len(groups)],
                )
            session.flush()
            if status == "Succeeded":
                for step in list(request.steps):
                    complete_step(request, step, actor, {})
            elif status == "Canceled":
                cancel_request(request, actor)
            ids.append(request.id)
        session.commit()
    return ids


def count(app: Flask, model: type) -> int:
    with in_db(app) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# ---------------------------------------------------------------- pages


def title_of(response: TestResponse) -> str:
    match = re.search(r"<title>(.*?)</title>", response.text, re.S)
    assert match, "no <title>"
    return " ".join(match.group(1).split())


def error_summary(response: TestResponse) -> list[str]:
    """The messages listed in the error summary at the top of the page."""
    summary = re.search(r'<div class="error-summary".*?</ul>', response.text, re.S)
    if not summary:
        return []
    return [_text(m) for m in re.findall(r"<li><a [^>]*>(.*?)</a></li>", summary.group(0), re.S)]


def field_errors(response: TestResponse) -> dict[str, str]:
    """The message shown next to each field, by the field's id."""
    return {
        field_id: _text(message).removeprefix("Error:").strip()
        for field_id, message in re.findall(
            r'<p class="field__error" id="([^"]+)-error">(.*?)</p>', response.text, re.S
        )
    }


def csrf_token(response: TestResponse) -> str:
    match = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', response.text
    ) or re.search(r'"X-CSRFToken": "([^"]+)"', response.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


# ---------------------------------------------------------------- SQL statements


@dataclass
class Statements:
    """The SQL statements the database received, in order."""

    sql: list[str] = field(default_factory=list)
    response: TestResponse | None = None

    @property
    def count(self) -> int:
        return len(self.sql)

    def __str__(self) -> str:
        return "\n".join(f"{i}. {' '.join(s.split())[:300]}" for i, s in enumerate(self.sql, 1))

    def __repr__(self) -> str:
        return f"{self.count} statements:\n{self}"


@contextmanager
def statements_sent(app: Flask) -> Iterator[Statements]:
    """Every statement sent to the app's database inside the `with` (a SQLAlchemy event)."""
    with app.app_context():
        engine: Engine = db.engine
    log = Statements()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.sql.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)


class StatementCounter:
    """Counts the statements one request (or any call) sends: `sql.of(lambda: client.get(...))`.

    Jobs the request queues (webhook dispatch, ...) are left queued, as a web worker
    leaves them to the consumer, instead of running inline as elsewhere in the tests.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def of(self, call: Callable[[], TestResponse]) -> Statements:
        from app.jobs import huey

        immediate = huey.immediate
        huey._immediate = False  # as app.jobs sets it: the setter would swap the storage
        try:
            with statements_sent(self.app) as log:
                response = call()
        finally:
            huey._immediate = immediate
            huey.flush()
        assert response.status_code < 500, response.text[:2000]
        log.response = response
        return log


# ---------------------------------------------------------------- consent links and messages


def pending_request(
    app: Flask,
    tenant_slug: str = "acme",
    type_id: str = "EV",
    manufacturer: str = "Audi",
    **details: str,
) -> uuid.UUID:
    """A request sent through the API door (Pending, no owner account): the kind an installer
    or support hands to the owner by a link. `details` are the API's fields (vin, reference,
    email, ...); an Audi by its VIN when none are given."""
    details = details or {"vin": AUDI_VIN}
    with app.test_request_context(), in_db(app) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        assert tenant is not None
        request = create_request(
            tenant,
            type_id,
            manufacturer,
            {k: v for k, v in details.items() if k not in ("reference", "email")},
            current_catalog(),
            SYSTEM,
            reference=details.get("reference"),
            email=details.get("email"),
        )
        session.commit()
        return request.id


def link_path(url: str) -> str:
    """An absolute consent link as the path the test client opens."""
    return re.sub(r"^https?://[^/]+", "", url)


def sent_emails(app: Flask) -> list[EmailMessage]:
    """The emails the app sent (the memory backend tests use), oldest first."""
    return outbox(app)


def sent_texts(app: Flask) -> list[TextMessage]:
    """The text messages the app sent (the memory or file backend), oldest first."""
    return sent_sms(app)
