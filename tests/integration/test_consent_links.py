"""Consent links as records: one stable link to show, a resend that replaces the older ones,
and the page an old, expired or broken link opens (full page and htmx fragment)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask import Flask, render_template_string
from sqlalchemy import select

from app.consent import links
from app.consent.links import LinkChannel, current_link, new_link
from app.extensions import db
from app.models import ConsentLink, Event, OnboardingRequest
from app.onboarding.audit import Actor
from tests.integration.helpers import (
    HX,
    TITLE_SUFFIX,
    link_path,
    make_world,
    path_of,
    pending_request,
    title_of,
    url,
)
from tests.qr_reading import read_svg_qr, svgs_in

INSTALLER = Actor("user:41")
SUPPORT = Actor("user:42")


@pytest.fixture
def request_id(app: Flask) -> uuid.UUID:
    make_world(app)
    return pending_request(app)


def shown(app: Flask, request_id: uuid.UUID, actor: Actor = INSTALLER) -> str:
    """The link a page shows now (QR code, link to copy), committed as the page's view would."""
    with app.test_request_context():
        link = links.consent_url(db.session.get(OnboardingRequest, request_id), actor)
        db.session.commit()
        return link_path(link)


def resend(app: Flask, request_id: uuid.UUID, channel: str = LinkChannel.EMAIL) -> str:
    with app.test_request_context():
        link = new_link(db.session.get(OnboardingRequest, request_id), SUPPORT, channel)
        db.session.commit()
        return link_path(links.link_url(link))


def rows(app: Flask, request_id: uuid.UUID) -> list[ConsentLink]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(ConsentLink)
                .where(ConsentLink.request_id == request_id)
                .order_by(ConsentLink.created_at)
            )
        )
        db.session.expunge_all()
        return found


def events(app: Flask, request_id: uuid.UUID, kind: str) -> list[Event]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(Event).where(Event.request_id == request_id, Event.kind == kind)
            )
        )
        db.session.expunge_all()
        return found


def age_links(app: Flask, request_id: uuid.UUID, by: timedelta) -> None:
    with app.app_context():
        for link in db.session.scalars(
            select(ConsentLink).where(ConsentLink.request_id == request_id)
        ):
            link.created_at -= by
        db.session.commit()


# ---------------------------------------------------------------- the link to show


def test_the_link_shown_is_the_same_on_every_page_load(app, request_id):
    first = shown(app, request_id)

    assert shown(app, request_id) == first
    assert shown(app, request_id, SUPPORT) == first
    [link] = rows(app, request_id)
    assert (link.channel, link.created_by) == ("shown", INSTALLER.label)
    assert link.revoked_at is None and link.replaced_by_id is None
    [made] = events(app, request_id, "link_created")
    assert made.actor == INSTALLER.label
    assert made.data == {"link_id": str(link.id), "channel": "shown", "revoked": 0}


def test_a_link_is_short_enough_for_a_text_message(app, request_id):
    token = shown(app, request_id).removeprefix("/c/")

    assert len(token) == 50
    assert token.isascii() and "/" not in token and "=" not in token


def test_a_link_with_little_time_left_is_not_given_out_again(app, request_id):
    first = shown(app, request_id)
    age_links(app, request_id, timedelta(days=8))  # of 14: less than half its life left

    second = shown(app, request_id)

    assert second != first
    # The older link was not replaced: whoever has it can still use it until it expires.
    assert app.test_client().get(first).status_code == 302
    assert [link.revoked_at for link in rows(app, request_id)] == [None, None]


def test_an_expired_link_is_never_given_out(app, request_id):
    first = shown(app, request_id)
    age_links(app, request_id, timedelta(days=15))

    assert shown(app, request_id) != first


# ---------------------------------------------------------------- resend


def test_a_new_link_revokes_every_older_one(app, request_id):
    shown_link = shown(app, request_id)
    emailed = resend(app, request_id, LinkChannel.EMAIL)

    texted = resend(app, request_id, LinkChannel.SMS)

    older_a, older_b, newest = rows(app, request_id)
    assert newest.revoked_at is None
    # Each is replaced by the link that revoked it: the shown one by the email's, and so on.
    assert older_a.revoked_at is not None and older_a.replaced_by_id == older_b.id
    assert older_b.revoked_at is not None and older_b.replaced_by_id == newest.id
    assert [e.data["revoked"] for e in events(app, request_id, "link_created")] == [0, 1, 1]
    assert [e.actor for e in events(app, request_id, "link_created")][1:] == [SUPPORT.label] * 2
    owner = app.test_client()
    assert owner.get(shown_link).status_code == 410
    assert owner.get(emailed).status_code == 410
    assert path_of(owner.get(texted)) == url(request_id, "consent")


def test_after_a_resend_the_link_shown_is_the_new_one(app, request_id):
    shown(app, request_id)
    emailed = resend(app, request_id)

    assert shown(app, request_id) == emailed


def test_links_of_a_request_are_listed_newest_first(app, request_id):
    shown(app, request_id)
    resend(app, request_id, LinkChannel.SMS)
    with app.test_request_context():
        onboarding = db.session.get(OnboardingRequest, request_id)
        listed = [(link.channel, link.revoked_at is None) for link in links.links_of(onboarding)]
    assert listed == [("sms", True), ("shown", False)]


def test_current_link_and_new_link_are_plain_functions_of_the_request(app, request_id):
    with app.test_request_context():
        onboarding = db.session.get(OnboardingRequest, request_id)
        first = current_link(onboarding, INSTALLER)
        assert current_link(onboarding, INSTALLER) is first
        second = new_link(onboarding, SUPPORT, LinkChannel.SHOWN)
        assert current_link(onboarding, INSTALLER) is second
        assert links.expires_at(second) == second.created_at + timedelta(days=14)
        db.session.rollback()  # services never commit: nothing stays
    assert rows(app, request_id) == []


# ---------------------------------------------------------------- what an old link opens


def test_a_replaced_link_says_so_and_what_to_do(app, request_id):
    old = shown(app, request_id)
    resend(app, request_id)
    owner = app.test_client()

    response = owner.get(old)

    assert response.status_code == 410
    assert title_of(response) == "This link was replaced by a newer one" + TITLE_SUFFIX
    assert "<h1" in response.text and "This link was replaced by a newer one" in response.text
    assert "Open the most recent message you received" in response.text
    assert "Back to your consent steps" not in response.text
    # It let nobody in.
    assert path_of(owner.get(url(request_id, "consent"))).startswith("/auth/login")


def test_a_replaced_link_under_htmx_is_a_fragment(app, request_id):
    old = shown(app, request_id)
    resend(app, request_id)

    response = app.test_client().get(old, headers=HX)

    assert response.status_code == 410
    assert "<html" not in response.text and "<h1" in response.text
    assert title_of(response) == "This link was replaced by a newer one" + TITLE_SUFFIX
    assert "HX-Request" in response.headers["Vary"]


def test_a_replaced_link_in_a_browser_already_in_the_steps_leads_back_to_them(app, request_id):
    old = shown(app, request_id)
    new = resend(app, request_id)
    owner = app.test_client()
    owner.get(new)

    response = owner.get(old)

    assert response.status_code == 410
    assert "Back to your consent steps" in response.text
    assert f'href="{url(request_id, "consent")}"' in response.text


def test_a_browser_that_opened_a_link_keeps_its_place_when_the_link_is_replaced(app, request_id):
    # The owner scanned the QR code and started; the installer then also sends an email.
    old = shown(app, request_id)
    owner = app.test_client()
    owner.get(old)

    resend(app, request_id)

    assert owner.get(url(request_id, "consent")).status_code == 200
    assert owner.get(old).status_code == 410  # the link itself no longer opens anything


def test_a_replaced_link_says_replaced_even_once_it_would_have_expired(app, request_id):
    old = shown(app, request_id)
    resend(app, request_id)
    age_links(app, request_id, timedelta(days=30))

    response = app.test_client().get(old)

    assert title_of(response) == "This link was replaced by a newer one" + TITLE_SUFFIX


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_an_expired_link_keeps_its_page(app, request_id, htmx):
    link = shown(app, request_id)
    age_links(app, request_id, timedelta(days=15))

    response = app.test_client().get(link, headers=HX if htmx else {})

    assert response.status_code == 400
    assert title_of(response) == "This link has expired" + TITLE_SUFFIX
    assert "Ask whoever sent it to you for a new one." in response.text
    assert ("<html" in response.text) is not htmx


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("tamper", ["signature", "link_id", "truncated", "not_base64"])
def test_a_tampered_link_keeps_its_page(app, request_id, tamper, htmx):
    token = shown(app, request_id).removeprefix("/c/")
    link_id, _, signature = token.partition(".")
    forged = {
        "signature": f"{link_id}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        "link_id": f"{'A' * 22}.{signature}",
        "truncated": token[:30],
        "not_base64": f"{'!' * 22}.{signature}",
    }[tamper]

    response = app.test_client().get(f"/c/{forged}", headers=HX if htmx else {})

    assert response.status_code == 400
    assert title_of(response) == "This link does not work" + TITLE_SUFFIX
    assert ("<html" in response.text) is not htmx


def test_a_well_signed_link_to_no_link_does_not_work(app, request_id):
    with app.test_request_context():
        ghost = ConsentLink(id=uuid.uuid4())
        token = links.token_for(ghost)

    response = app.test_client().get(f"/c/{token}")

    assert response.status_code == 400
    assert title_of(response) == "This link does not work" + TITLE_SUFFIX


# ---------------------------------------------------------------- the QR code pages show

QR_MACRO = '{% from "macros/qr.html" import qr_code %}{{ qr_code(url) }}'


def test_the_qr_code_macro_scans_to_the_link_it_shows_as_text(app, request_id):
    with app.test_request_context():
        onboarding = db.session.get(OnboardingRequest, request_id)
        link = links.consent_url(onboarding, INSTALLER)
        html = render_template_string(QR_MACRO, url=link)

    [svg] = svgs_in(html)
    assert read_svg_qr(svg) == link
    assert f'aria-label="QR code that opens {link}"' in svg
    assert f'<span class="qr-code__url code">{link}</span>' in html
    assert "Scan it with the phone's camera, or open this link:" in html
    assert "style=" not in html


def test_the_qr_code_macro_speaks_the_pages_language(app):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        html = render_template_string(QR_MACRO, url="https://example.com/c/x")

    assert 'aria-label="QR-Code, der https://example.com/c/x öffnet"' in html
    assert "Scannen Sie ihn mit der Kamera des Telefons" in html
