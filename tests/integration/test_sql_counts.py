"""SQL statements per request: lists cost the same for 1, 10 or 100 rows, and a wizard page
at most 4. Counted with a SQLAlchemy event (the `sql` fixture), so the figures are exact
and the same on every run; a regression names the statements it added."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.models import (
    ConsentLink,
    Role,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.integration.helpers import (
    HX,
    VIN,
    XENN_REFERENCE,
    StatementCounter,
    World,
    add_requests,
    add_user,
    in_db,
    make_world,
    signed_in_client,
    start,
    url,
)
from tests.integration.test_api import issue_key

API = "/api/v1"
SIZES = (1, 10, 100)
WIZARD_PAGE_LIMIT = 4
# The identifier's answer also asks, in one statement, whether the tenant has the device.
WIZARD_LIMITS = {"details POST": WIZARD_PAGE_LIMIT + 1}


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


@pytest.fixture
def partner(app: Flask, world: World) -> FlaskClient:
    secret, _key_id = issue_key(app, world.acme_id)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    # A key's first call of the minute also records when it was used (one UPDATE); the
    # counts below are of the calls after it.
    assert client.get(f"{API}/collectives").status_code == 200
    return client


@pytest.fixture
def alice(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, world.alice)


def counts_by_size(
    app: Flask, world: World, sql: StatementCounter, get, owner=None, warm: bool = False
):
    """{rows: statements} for `get()` with 1, 10 and 100 requests in acme (after one
    `get()` first when `warm`)."""
    counts = {}
    made = 0
    for size in SIZES:
        add_requests(
            app,
            world.acme_id,
            size - made,
            owner_email=owner,
            collective_ids=(world.household_id, world.community_id),
        )
        made = size
        if warm:
            get()
        log = sql.of(get)
        counts[size] = log
    return counts


def same_count(counts) -> bool:
    return len({log.count for log in counts.values()}) == 1


def describe(counts) -> str:
    return "\n\n".join(f"{size} rows: {log!r}" for size, log in counts.items())


# ---------------------------------------------------------------- API


def test_the_request_list_costs_the_same_for_1_10_or_100_rows(app, world, partner, sql) -> None:
    # The first time a Pending request is listed, its redirectLink is made: a consent link
    # (one INSERT for all the rows) and its event (one INSERT per row on SQLite, which
    # cannot batch inserts that return ids). The counts are of the reads after that.
    counts = counts_by_size(
        app, world, sql, lambda: partner.get(f"{API}/onboarding/entities?limit=100"), warm=True
    )
    assert [len(log.response.json["data"]) for log in counts.values()] == [1, 10, 100]
    assert same_count(counts), describe(counts)
    # The key; the tenant; the rows; their steps, entities, collectives and consent links.
    assert counts[100].count <= 7, describe(counts)


def test_a_first_listing_makes_every_missing_link_with_the_same_reads(
    app, world, partner, sql
) -> None:
    # Requests made elsewhere (the wizard, an installer) have no link for the API yet: the
    # list makes them all, loading those requests in one statement, not one by one.
    add_requests(app, world.acme_id, 100, collective_ids=(world.household_id,))
    logs = {
        size: sql.of(lambda size=size: partner.get(f"{API}/onboarding/entities?limit={size}"))
        for size in SIZES  # 1, then 9 more, then 90 more links to make
    }
    reads = {
        size: [s for s in log.sql if s.lstrip().upper().startswith("SELECT")]
        for size, log in logs.items()
    }
    assert len({len(found) for found in reads.values()}) == 1, describe(logs)
    assert len(reads[100]) <= 6, describe(logs)
    pending = [r for r in logs[100].response.json["data"] if r["action"]["redirectLink"]]
    assert len(pending) > 10
    with in_db(app) as session:
        assert session.scalar(select(func.count()).select_from(ConsentLink)) == len(pending)


def test_a_cursor_page_costs_what_the_first_page_costs(app, world, partner, sql) -> None:
    add_requests(app, world.acme_id, 30)
    pages = [
        f"{API}/onboarding/entities?limit=10",
        f"{API}/onboarding/entities?limit=10&status=Pending",
    ]
    cursor = partner.get(pages[0]).json["next"]
    pages.append(f"{pages[0]}&cursor={cursor}")
    for path in pages:  # the Pending rows' consent links are made on their first listing
        partner.get(path)
    first, filtered, later = (sql.of(lambda path=path: partner.get(path)) for path in pages)
    assert later.count == first.count, f"{first}\n\n{later}"
    assert filtered.count <= first.count, filtered


def test_the_entity_list_costs_the_same_for_1_10_or_100_rows(app, world, partner, sql) -> None:
    counts = counts_by_size(app, world, sql, lambda: partner.get(f"{API}/entities?limit=100"))
    # Every third request succeeded, so 0, 3 and 33 entities: a count that cannot grow.
    assert same_count(counts), describe(counts)
    assert counts[100].count <= 3, describe(counts)


def test_getting_one_request(app, world, partner, sql) -> None:
    pending, succeeded = add_requests(app, world.acme_id, 2, collective_ids=(world.household_id,))
    for request_id in (pending, succeeded):
        path = f"{API}/onboarding/entities/{request_id}"
        partner.get(path)  # a Pending request's consent link is made on its first read
        log = sql.of(lambda path=path: partner.get(path))
        assert log.response.status_code == 200
        # The key; the request with its entity, collective and tenant; its steps; for a
        # Pending one, its consent link.
        assert log.count <= 4, log


def test_creating_a_request(partner, sql) -> None:
    body = {"type": "EV", "manufacturer": "Audi", "vin": VIN}
    log = sql.of(lambda: partner.post(f"{API}/onboarding/entities", json=body))
    assert log.response.status_code == 201
    # The key and tenant; the request, its 2 steps and 2 events (one INSERT each on
    # SQLite); its redirectLink: the lookup of a link, the new link and its event.
    assert log.count <= 10, log


def test_the_types_answer_reads_only_the_key_and_then_nothing(app, partner, sql) -> None:
    app.config["API_KEY_RECHECK_SECONDS"] = 0  # the key is read on every call
    log = sql.of(lambda: partner.get(f"{API}/onboarding/entities/types"))
    assert log.count == 1, log
    app.config["API_KEY_RECHECK_SECONDS"] = 5  # trusted for a while once checked
    trusted = sql.of(lambda: partner.get(f"{API}/onboarding/entities/types"))
    assert trusted.count == 0, trusted
    again = sql.of(
        lambda: partner.get(
            f"{API}/onboarding/entities/types",
            headers={"If-None-Match": log.response.headers["ETag"]},
        )
    )
    assert again.response.status_code == 304
    assert again.count == 0, again


# ---------------------------------------------------------------- the wizard


def _csrf_free_post(client: FlaskClient, path: str, data: dict[str, str], htmx: bool):
    return client.post(path, data=data, headers=HX if htmx else {})


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_every_wizard_question_runs_at_most_4_statements(app, world, alice, sql, htmx) -> None:
    headers = HX if htmx else {}
    checked = {}
    checked["start GET"] = sql.of(lambda: alice.get("/onboarding/new", headers=headers))
    checked["start POST"] = sql.of(
        lambda: _csrf_free_post(alice, "/onboarding/new", {"type": "RetrofitMeter"}, htmx)
    )
    request_id = uuid.UUID(
        re.search(r"/onboarding/([0-9a-f-]{36})/", checked["start POST"].response.location)[1]
    )
    answers = [
        ("type", {"type": "RetrofitMeter"}),
        ("manufacturer", {"manufacturer": "Xenn"}),
        ("details", {"reference": XENN_REFERENCE}),
        ("collective", {"collective": str(world.household_id)}),
    ]
    for page, data in answers:
        checked[f"{page} GET"] = sql.of(
            lambda page=page: alice.get(url(request_id, page), headers=headers)
        )
        checked[f"{page} POST"] = sql.of(
            lambda page=page, data=data: _csrf_free_post(alice, url(request_id, page), data, htmx)
        )
    checked["manufacturer search"] = sql.of(
        lambda: alice.get(
            url(request_id, "manufacturer") + "?q=xe",
            headers={**HX, "HX-Target": "manufacturer-options"},
        )
    )
    checked["check GET"] = sql.of(lambda: alice.get(url(request_id, "check"), headers=headers))
    for name, log in checked.items():
        assert log.response.status_code in (200, 302), (name, log.response.status_code)
    too_many = {
        name: log
        for name, log in checked.items()
        if log.count > WIZARD_LIMITS.get(name, WIZARD_PAGE_LIMIT)
    }
    assert not too_many, "\n\n".join(f"{name}: {log!r}" for name, log in too_many.items())


def test_an_invalid_answer_runs_at_most_4_statements(alice, sql) -> None:
    request_id = start(alice, "RetrofitMeter")
    alice.post(url(request_id, "manufacturer"), data={"manufacturer": "Xenn"})
    log = sql.of(lambda: alice.post(url(request_id, "details"), data={"reference": "P12"}))
    assert log.response.status_code == 422
    assert log.count <= WIZARD_PAGE_LIMIT, log


# ---------------------------------------------------------------- the owner's home page


def test_the_home_page_costs_the_same_for_1_10_or_100_requests(app, world, alice, sql) -> None:
    counts = counts_by_size(app, world, sql, lambda: alice.get("/"), owner=world.alice)
    assert all(log.response.status_code == 200 for log in counts.values())
    assert same_count(counts), describe(counts)


# ---------------------------------------------------------------- the admin area


@pytest.fixture
def ada(app: Flask, world: World) -> FlaskClient:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "ada@acme.example", Role.ADMIN)
        session.commit()
    return signed_in_client(app, "ada@acme.example")


@pytest.mark.parametrize("page", ["/admin/groups", "group"])
def test_the_groups_and_a_groups_devices_cost_the_same_for_1_10_or_100(
    app, world, ada, sql, page
) -> None:
    path = f"/admin/groups/{world.household_id}" if page == "group" else page
    counts = counts_by_size(app, world, sql, lambda: ada.get(path))
    assert all(log.response.status_code == 200 for log in counts.values())
    assert same_count(counts), describe(counts)


def test_the_user_list_costs_the_same_for_1_10_or_100_people(app, world, ada, sql) -> None:
    counts, made = {}, 0
    for size in SIZES:
        with in_db(app) as session:
            acme = session.get(Tenant, world.acme_id)
            for i in range(made, size):
                add_user(session, acme, f"person{i}@acme.example", Role.INSTALLER)
            session.commit()
        made = size
        counts[size] = sql.of(lambda: ada.get("/admin/users"))
    assert same_count(counts), describe(counts)


def test_the_webhook_pages_cost_the_same_for_1_10_or_100_rows(app, world, ada, sql) -> None:
    with in_db(app) as session:
        hook = WebhookEndpoint(
            tenant_id=world.acme_id, url="https://h.example/", event_types=[], secret=b"-"
        )
        session.add(hook)
        session.commit()
        hook_id = hook.id
    lists, logs, made = {}, {}, 0
    for size in SIZES:
        with in_db(app) as session:
            for i in range(made, size):
                session.add(
                    WebhookEndpoint(
                        tenant_id=world.acme_id,
                        url=f"https://{i}.example/",
                        event_types=[],
                        secret=b"-",
                    )
                )
                delivery = WebhookDelivery(
                    id=f"msg_{i}",
                    endpoint_id=hook_id,
                    event_type="webhook.test",
                    payload={},
                    status="failed",
                    attempts=2,
                )
                delivery.log = [WebhookAttempt(number=n, status_code=500) for n in (1, 2)]
                session.add(delivery)
            session.commit()
        made = size
        lists[size] = sql.of(lambda: ada.get("/admin/webhooks"))
        logs[size] = sql.of(lambda: ada.get(f"/admin/webhooks/{hook_id}"))
    assert same_count(lists), describe(lists)
    assert same_count(logs), describe(logs)


def test_the_history_costs_the_same_for_1_10_or_100_changes(app, world, ada, sql) -> None:
    from app.onboarding.audit import Actor, record_admin_change

    counts, made = {}, 0
    for size in SIZES:
        with in_db(app) as session:
            acme = session.get(Tenant, world.acme_id)
            for i in range(made, size):
                user = add_user(session, acme, f"changed{i}@acme.example", Role.SUPPORT)
                record_admin_change(acme.id, "user_deactivated", Actor.user(user), user_id=user.id)
            session.commit()
        made = size
        counts[size] = sql.of(lambda: ada.get("/admin/history"))


# ---------------------------------------------------------------- the installer's home page


def test_the_installer_home_costs_the_same_for_1_10_or_100_installs(app, world, sql) -> None:
    """Each card reads its steps (the one waited on, or the one that did not work): loaded
    with the list, not one query per card."""
    from sqlalchemy import select, update

    from app.models import OnboardingRequest, Role, Tenant
    from app.onboarding.audit import SYSTEM
    from app.onboarding.states import Door
    from app.onboarding.steps import current_step, fail_step_attempt
    from tests.integration.helpers import add_user, in_db

    with in_db(app) as session:
        ian = add_user(
            session, session.get(Tenant, world.acme_id), "ian@acme.example", Role.INSTALLER
        )
        session.commit()
        ian_id = ian.id
    installer = signed_in_client(app, "ian@acme.example")

    def as_installs() -> None:
        with in_db(app) as session:
            session.execute(
                update(OnboardingRequest).values(channel=Door.INSTALLER, created_by_id=ian_id)
            )
            # Some wait on a step that did not work.
            for request in session.scalars(select(OnboardingRequest)).all()[::3]:
                step = current_step(request)
                if step is not None and not request.is_final and step.status == "todo":
                    fail_step_attempt(request, step, SYSTEM, "device_not_found")
            session.commit()

    counts = {}
    made = 0
    for size in SIZES:
        add_requests(app, world.acme_id, size - made)
        made = size
        as_installs()
        counts[size] = sql.of(lambda: installer.get("/installer"))
    assert all(log.response.status_code == 200 for log in counts.values())
    assert "A step did not work" in counts[100].response.text
    assert same_count(counts), describe(counts)
