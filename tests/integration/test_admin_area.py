"""The tenant admin area: users and invitations, groups, webhooks, the tenant's name and
logo; each page with and without htmx, bad input beside its field, every change logged."""

from __future__ import annotations

import html
import io
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import (
    AdminChange,
    Collective,
    DeliveryStatus,
    Role,
    Tenant,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from tests.integration.helpers import (
    HX,
    World,
    add_user,
    csrf_token,
    error_summary,
    field_errors,
    in_db,
    onboard_xenn,
    sent_emails,
    sign_in,
    signed_in_client,
)

ADA = "ada@acme.example"
PAGES = ["/admin/", "/admin/users", "/admin/groups", "/admin/api-keys", "/admin/webhooks"]
PAGES += ["/admin/settings", "/admin/history"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><rect width="9" height="9"/></svg>'
)


@pytest.fixture
def world(app: Flask, world: World) -> World:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), ADA, Role.ADMIN)
        session.commit()
    return world


@pytest.fixture
def ada(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, ADA)


def text(response) -> str:
    return html.unescape(response.text)


def changes(app: Flask) -> list[str]:
    with in_db(app) as session:
        return list(session.scalars(select(AdminChange.kind).order_by(AdminChange.id)))


def user_id(app: Flask, email: str) -> int:
    with in_db(app) as session:
        return session.scalar(select(User.id).where(User.email == email))


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_every_page_answers_whole_or_as_a_fragment(ada: FlaskClient, htmx: bool) -> None:
    for page in PAGES:
        response = ada.get(page, headers=HX if htmx else {})
        assert response.status_code == 200, page
        assert '<nav class="admin-nav"' in response.text, page
        assert ("<!doctype html>" in response.text) is not htmx, page
        assert "HX-Request" in response.headers["Vary"]


def test_the_header_links_to_the_area_for_admins_only(app: Flask, ada: FlaskClient, world) -> None:
    assert 'href="/admin/users"' in ada.get("/admin/groups").text
    alice = signed_in_client(app, world.alice)
    assert 'href="/admin/users"' not in alice.get("/").text


# ---------------------------------------------------------------- users


def invite(ada: FlaskClient, email: str = "nina@acme.example", role: str = "support", **kw):
    return ada.post("/admin/users", data={"email": email, "name": "Nina", "role": role, **kw})


def link_in(app: Flask) -> str:
    mail = sent_emails(app)[-1]
    match = re.search(r"https?://[^/\s]+(/auth/set-password/\S+)", mail.body)
    assert match, mail.body
    return match.group(1)


def test_an_invited_person_sets_a_password_once_and_signs_in(app: Flask, ada: FlaskClient):
    response = invite(ada)
    assert response.status_code == 302
    assert "Invited" in ada.get("/admin/users").text
    [mail] = sent_emails(app)
    assert mail.to == ["nina@acme.example"] and "Acme Energy" in mail.subject
    link = link_in(app)

    nina = app.test_client()
    page = nina.get(link)
    assert page.status_code == 200 and "Choose your password" in text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    short = nina.post(link, data={"password": "short"})
    assert short.status_code == 422
    assert field_errors(short) == {"password": "Use at least 12 characters."}
    assert error_summary(short) == ["Use at least 12 characters."]
    own_email = nina.post(link, data={"password": "nina@acme.example"})
    assert "Do not use your email address" in field_errors(own_email)["password"]

    done = nina.post(link, data={"password": "a long new passphrase"})
    assert done.status_code == 302
    assert nina.get("/").status_code == 200  # signed in
    again = app.test_client().get(link)
    assert again.status_code == 404 and "This link does not work" in text(again)
    other = app.test_client()
    sign_in(other, "nina@acme.example", "a long new passphrase")
    with in_db(app) as session:
        nina_user = session.scalar(select(User).where(User.email == "nina@acme.example"))
        assert nina_user.role == Role.SUPPORT and nina_user.invited_at is None
    assert changes(app) == ["user_invited", "password_set"]
    history = text(ada.get("/admin/history"))
    assert "Invited Nina as Support" in history and "Nina chose a password" in history
    assert "Ada" in history


def test_an_expired_or_forged_link_does_not_work(app: Flask, ada: FlaskClient):
    invite(ada)
    link = link_in(app)
    assert app.test_client().get(link + "x").status_code == 404
    app.config["INVITE_MAX_AGE"] = app.config["INVITE_MAX_AGE"] * 0 - app.config["INVITE_MAX_AGE"]
    assert app.test_client().get(link).status_code == 404


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_bad_invitations_say_why_beside_the_field(ada: FlaskClient, htmx: bool):
    headers = HX if htmx else {}
    empty = ada.post("/admin/users", data={"email": "", "role": "support"}, headers=headers)
    assert empty.status_code == 422
    assert "Enter the email address" in field_errors(empty)["email"]
    bad = ada.post(
        "/admin/users", data={"email": "not-an-address", "role": "support"}, headers=headers
    )
    assert bad.status_code == 422 and "email" in field_errors(bad)
    assert 'value="not-an-address"' in bad.text  # what was typed is kept
    taken = invite(ada, email="alice@acme.example")
    assert "already has an account" in field_errors(taken)["email"]
    wrong_role = invite(ada, role="emperor")
    assert wrong_role.status_code == 422 and "role" in field_errors(wrong_role)


def test_an_admin_changes_a_role_and_it_is_logged(app: Flask, ada: FlaskClient, world):
    alice = user_id(app, world.alice)
    assert ada.get(f"/admin/users/{alice}", headers=HX).status_code == 200
    response = ada.post(f"/admin/users/{alice}", data={"role": "installer"})
    assert response.status_code == 302
    with in_db(app) as session:
        assert session.get(User, alice).role == Role.INSTALLER
        change = session.scalar(select(AdminChange))
        assert change.kind == "role_changed" and change.data["after"] == "installer"
        assert change.actor == f"user:{user_id(app, ADA)}"


def test_the_last_admin_cannot_demote_or_deactivate_themselves(app: Flask, ada: FlaskClient):
    me = user_id(app, ADA)
    demoted = ada.post(f"/admin/users/{me}", data={"role": "support"})
    assert demoted.status_code == 422
    assert "Acme Energy needs an admin" in text(demoted)
    deactivated = ada.post(f"/admin/users/{me}/deactivate")
    assert deactivated.status_code == 422
    with in_db(app) as session:
        user = session.get(User, me)
        assert user.role == Role.ADMIN and user.active
    assert changes(app) == []

    with in_db(app) as session:
        add_user(session, session.get(Tenant, user.tenant_id), "zed@acme.example", Role.ADMIN)
        session.commit()
    assert ada.post(f"/admin/users/{me}", data={"role": "support"}).status_code == 302


def test_a_deactivated_person_cannot_sign_in_and_their_session_ends(app: Flask, ada, world):
    alice = signed_in_client(app, world.alice)
    assert alice.get("/").status_code == 200
    alice_id = user_id(app, world.alice)

    assert ada.post(f"/admin/users/{alice_id}/deactivate").status_code == 302

    assert alice.get("/").status_code == 302  # to sign in
    refused = app.test_client().post(
        "/auth/login", data={"email": world.alice, "password": "correct horse battery"}
    )
    assert refused.status_code == 422
    assert "Deactivated" in ada.get("/admin/users").text
    assert ada.post(f"/admin/users/{alice_id}/reactivate").status_code == 302
    sign_in(app.test_client(), world.alice)
    assert changes(app) == ["user_deactivated", "user_reactivated"]
    with in_db(app) as session:  # nobody is ever deleted
        assert session.get(User, alice_id) is not None


def test_a_new_invitation_link_replaces_nothing_until_used(app: Flask, ada: FlaskClient):
    invite(ada)
    nina = user_id(app, "nina@acme.example")
    assert ada.post(f"/admin/users/{nina}/invite-again").status_code == 302
    assert len(sent_emails(app)) == 2
    assert app.test_client().get(link_in(app)).status_code == 200
    assert ada.post(f"/admin/users/{user_id(app, ADA)}/invite-again").status_code == 400


# ---------------------------------------------------------------- groups


def test_groups_are_created_renamed_and_unique(app: Flask, ada: FlaskClient, world):
    created = ada.post("/admin/groups", data={"name": "  Oak   Lane ", "kind": "Community"})
    assert created.status_code == 302
    listed = text(ada.get("/admin/groups"))
    assert "Oak Lane" in listed and "Alice's home" in listed
    taken = ada.post("/admin/groups", data={"name": "oak lane", "kind": "Household"})
    assert taken.status_code == 422
    assert "already a group with this name" in field_errors(taken)["name"]
    assert 'value="oak lane"' in taken.text
    empty = ada.post("/admin/groups", data={"name": "", "kind": "Household"}, headers=HX)
    assert empty.status_code == 422 and "Enter a name" in field_errors(empty)["name"]

    group = f"/admin/groups/{world.household_id}"
    assert ada.post(group, data={"name": "Oak Lane", "kind": "Household"}).status_code == 422
    assert ada.post(group, data={"name": "The Smiths", "kind": "Household"}).status_code == 302
    with in_db(app) as session:
        assert session.get(Collective, world.household_id).name == "The Smiths"
    assert changes(app) == ["group_created", "group_renamed"]
    history = text(ada.get("/admin/history", headers=HX))
    assert "Renamed the group Alice's home to The Smiths" in history


def test_a_group_lists_its_devices_a_page_at_a_time(app: Flask, ada, world, monkeypatch):
    from app.admin import groups

    monkeypatch.setattr(groups, "DEVICES_PAGE", 1)
    alice = signed_in_client(app, world.alice)
    onboard_xenn(alice, str(world.household_id))
    group = f"/admin/groups/{world.household_id}"
    assert "There are no devices" in ada.get(f"/admin/groups/{world.community_id}").text
    first = ada.get(group)
    assert "Xenn" in first.text and "Next page" not in first.text
    assert ada.get(group + "?after=garbage").status_code == 200
    assert ada.get(f"/admin/groups/{uuid.uuid4()}").status_code == 404
    assert ada.get(f"/admin/groups/{world.other_collective_id}").status_code == 404


# ---------------------------------------------------------------- webhooks


def test_an_endpoint_is_created_with_its_secret_shown_once(app: Flask, ada: FlaskClient):
    created = ada.post(
        "/admin/webhooks",
        data={
            "url": "https://hooks.acme.example/in",
            "event_types": ["onboarding.created", "entity.connected"],
            "enabled": "y",
        },
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-webhook-secret">(whsec_[^<]+)<', created.text).group(1)
    listed = ada.get("/admin/webhooks").text
    assert "hooks.acme.example" in listed and secret not in listed
    with in_db(app) as session:
        endpoint = session.scalar(select(WebhookEndpoint))
        assert endpoint.event_types == ["onboarding.created", "entity.connected"]
        assert endpoint.enabled
    assert changes(app) == ["webhook_created"]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_bad_endpoints_say_why_beside_the_field(ada: FlaskClient, htmx: bool):
    response = ada.post("/admin/webhooks", data={"url": "ftp://x y"}, headers=HX if htmx else {})
    assert response.status_code == 422
    errors = field_errors(response)
    assert "https://" in errors["url"]
    assert "at least one event" in errors["event_types"]
    assert 'value="ftp://x y"' in response.text


@pytest.fixture
def endpoint(app: Flask, world: World) -> uuid.UUID:
    from app import webhooks
    from app.onboarding.audit import SYSTEM

    with app.test_request_context(), in_db(app) as session:
        hook, _secret = webhooks.create_endpoint(
            world.acme_id, "http://127.0.0.1:9/hook", ["onboarding.created"], "", SYSTEM
        )
        hook.failing_since = utcnow()
        session.add(
            WebhookDelivery(
                id="msg_old",
                endpoint_id=hook.id,
                event_type="onboarding.created",
                payload={},
                status=DeliveryStatus.FAILED,
                attempts=7,
            )
        )
        session.commit()
        return hook.id


def test_an_endpoint_is_changed_and_shows_its_failing_state_and_log(app, ada, endpoint):
    page = ada.get(f"/admin/webhooks/{endpoint}")
    assert "Failing since" in page.text and "msg_old" in page.text
    assert "Failing since" in ada.get("/admin/webhooks").text
    saved = ada.post(
        f"/admin/webhooks/{endpoint}",
        data={"url": "https://new.acme.example/h", "event_types": ["entity.disconnected"]},
    )
    assert saved.status_code == 302
    with in_db(app) as session:
        hook = session.get(WebhookEndpoint, endpoint)
        assert hook.url == "https://new.acme.example/h" and not hook.enabled
        assert hook.event_types == ["entity.disconnected"]
    bad = ada.post(f"/admin/webhooks/{endpoint}", data={"url": "", "event_types": []}, headers=HX)
    assert bad.status_code == 422 and "url" in field_errors(bad)


def test_send_again_and_a_test_event_go_through_the_queue(app, ada, endpoint):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    assert ada.post(f"/admin/webhooks/{endpoint}/deliveries/msg_old/retry").status_code == 302
    assert ada.post(f"/admin/webhooks/{endpoint}/test").status_code == 302
    with in_db(app) as session:
        old = session.get(WebhookDelivery, "msg_old")
        assert old.attempts == 8  # tried once more (nobody listens on port 9)
        test = session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.event_type == "webhook.test")
        )
        assert test is not None and test.attempts == 1
    log = ada.get(f"/admin/webhooks/{endpoint}").text
    assert "webhook.test" in log
    assert ada.post(f"/admin/webhooks/{endpoint}/deliveries/msg_nope/retry").status_code == 404


# ---------------------------------------------------------------- name and logo


def test_the_name_and_a_logo_are_saved_and_served_safely(app: Flask, ada: FlaskClient, world):
    saved = ada.post(
        "/admin/settings",
        data={"name": "Acme Power", "logo": (io.BytesIO(SVG), "logo.svg")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    page = ada.get("/admin/settings").text
    src = re.search(r'class="logo-preview" src="([^"]+)"', page).group(1)
    logo = app.test_client().get(src)
    assert logo.status_code == 200 and logo.data == SVG
    assert logo.headers["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in logo.headers["Content-Security-Policy"]
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    assert "immutable" in logo.headers["Cache-Control"]
    assert app.test_client().get(src[:-1] + "x").status_code == 404
    with in_db(app) as session:
        tenant = session.get(Tenant, world.acme_id)
        assert tenant.name == "Acme Power" and tenant.logo_type == "image/svg+xml"
    assert changes(app) == ["logo_changed", "tenant_renamed"]

    assert ada.post("/admin/settings/logo/remove").status_code == 302
    assert app.test_client().get(src).status_code == 404


@pytest.mark.parametrize(
    "upload,message",
    [
        (b"GIF89a....", "not a PNG, JPEG or SVG"),
        (PNG + b"\x00" * 200 * 1024, "larger than 200 KB"),
        (b"", "empty"),
    ],
)
def test_a_bad_logo_says_why_and_keeps_the_name(ada: FlaskClient, upload: bytes, message: str):
    response = ada.post(
        "/admin/settings",
        data={"name": "Acme Typed", "logo": (io.BytesIO(upload), "logo.gif")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in field_errors(response)["logo"]
    assert 'value="Acme Typed"' in response.text


def test_an_empty_name_is_refused(ada: FlaskClient):
    response = ada.post("/admin/settings", data={"name": " "}, headers=HX)
    assert (
        response.status_code == 422 and "Enter your organisation" in field_errors(response)["name"]
    )


def test_the_logo_shows_on_the_hosted_consent_pages(app: Flask, ada: FlaskClient, world):
    ada.post(
        "/admin/settings",
        data={"name": "Acme Energy", "logo": (io.BytesIO(PNG), "logo.png")},
        content_type="multipart/form-data",
    )
    alice = signed_in_client(app, world.alice)
    from tests.integration.helpers import start, submit, walk_to_check

    request_id = walk_to_check(
        alice, "RetrofitMeter", "Xenn", {"reference": "P1000000001"}, str(world.household_id)
    )
    submit(alice, request_id)
    overview = alice.get(f"/onboarding/{request_id}/consent")
    assert 'class="tenant-brand__logo"' in overview.text
    assert 'alt="Acme Energy"' in overview.text
    del start


# ---------------------------------------------------------------- CSRF


@pytest.mark.csrf
def test_every_form_needs_its_csrf_token(app: Flask, world, endpoint) -> None:
    client = app.test_client()
    login = client.get("/auth/login")
    client.post(
        "/auth/login",
        data={"email": ADA, "password": "correct horse battery", "csrf_token": csrf_token(login)},
    )
    alice = user_id(app, world.alice)
    posts = {
        "/admin/users": {"email": "x@acme.example", "role": "support"},
        f"/admin/users/{alice}": {"role": "installer"},
        f"/admin/users/{alice}/deactivate": {},
        "/admin/groups": {"name": "New", "kind": "Household"},
        f"/admin/groups/{world.household_id}": {"name": "New", "kind": "Household"},
        "/admin/webhooks": {"url": "https://x.example", "event_types": ["entity.connected"]},
        f"/admin/webhooks/{endpoint}/test": {},
        f"/admin/webhooks/{endpoint}/deliveries/msg_old/retry": {},
        "/admin/settings": {"name": "X"},
    }
    for path, data in posts.items():
        assert client.post(path, data=data).status_code == 400, path
    assert changes(app) == ["webhook_created"]  # the fixture's, through the API function
    token = csrf_token(client.get("/admin/groups"))
    made = client.post(
        "/admin/groups", data={"name": "New", "kind": "Household", "csrf_token": token}
    )
    assert made.status_code == 302


def test_the_history_goes_back_a_page_at_a_time(app: Flask, ada: FlaskClient, monkeypatch):
    from app.admin import history

    monkeypatch.setattr(history, "PAGE_SIZE", 2)
    for name in ("One", "Two", "Three"):
        ada.post("/admin/groups", data={"name": name, "kind": "Household"})
    first = text(ada.get("/admin/history"))
    assert "Created the group Three" in first and "Created the group One" not in first
    older = re.search(r'href="(/admin/history\?before=\d+)"', first).group(1)
    second = text(ada.get(older))
    assert "Created the group One" in second and "Created the group Three" not in second
    assert "Older changes" not in second and "Newest changes" in second


def test_command_line_key_changes_are_logged_too(app: Flask, runner, world):
    with app.app_context():
        created = runner.invoke(args=["api-keys", "create", "--tenant", "acme"])
    assert created.exit_code == 0, created.output
    with in_db(app) as session:
        change = session.scalar(select(AdminChange))
        assert (change.kind, change.actor) == ("api_key_created", "operator")


def test_the_user_list_goes_a_page_at_a_time(app: Flask, ada: FlaskClient, world, monkeypatch):
    from app.admin import users

    monkeypatch.setattr(users, "LIST_SIZE", 2)
    first = ada.get("/admin/users").text  # ada, alice | bob
    assert "ada@acme.example" in first and "bob@acme.example" not in first
    following = re.search(r'href="(/admin/users\?after=[^"]+)"', first).group(1)
    second = ada.get(html.unescape(following)).text
    assert "bob@acme.example" in second and "ada@acme.example" not in second
    assert "carol@other.example" not in second
