"""A support person finds a partner's request from what the customer says on the phone, reads
its timeline, fixes the VIN, sends a new link, and cancels another request; the funnel shows
its chart and table. Every page is audited for accessibility on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.messaging.mail import outbox
from tests.e2e.conftest import LiveServer, MakePage
from tests.e2e.pages import AppPage, SignInPage
from tests.e2e.test_api_redirect import PartnerApi, partner  # noqa: F401  (fixture)

SUPPORT = "support@demo.example"
VIN = "WAUZZZ8V0KA123456"
TYPED_WRONG = "WAUZZZ8V0KA12345"  # one character short
RIGHT_VIN = "WAUZZZ8V0KA654321"
VIN_LABEL = "Vehicle identification number (VIN)"


def sign_in_as_support(page: Page, live_server: LiveServer) -> AppPage:
    SignInPage(page).open().sign_in(SUPPORT, live_server.users[SUPPORT])
    console = AppPage(page)
    console.follow("Requests")
    console.expect_heading("Requests")
    return console


@pytest.mark.parametrize("viewport", ["tablet", "desktop"], indirect=True)
def test_support_finds_reads_fixes_resends_and_cancels(
    page: Page,
    partner: PartnerApi,  # noqa: F811
    live_server: LiveServer,
    make_page: MakePage,
) -> None:
    status, created = partner.post(
        "/onboarding/entities",
        {"type": "EV", "manufacturer": "Audi", "vin": VIN, "email": "jo@example.com"},
    )
    assert status == 201
    old_link = created["action"]["redirectLink"]
    status, other = partner.post(
        "/onboarding/entities",
        {"type": "EV", "manufacturer": "Audi", "vin": RIGHT_VIN.replace("654321", "111111")},
    )
    assert status == 201

    console = sign_in_as_support(page, live_server)
    # The customer reads the VIN out in groups, in lower case.
    console.fill("Search", "wauzzz 8v0ka 123456")
    console.press("Find")
    expect(page).to_have_url(re.compile(r"q=wauzzz"))
    results = page.locator("#results")
    expect(results.get_by_role("link", name=re.compile(VIN))).to_have_count(1)
    console.follow(re.compile(f"Audi electric vehicle · {VIN}"))
    console.expect_heading(f"Audi electric vehicle · {VIN}")

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Created through the API")
    expect(timeline).to_contain_text("Status: Waiting for consent")
    expect(page.locator("#standing-title + div")).to_contain_text(
        "Waiting for the owner: Agree to share your device's data (step 1)"
    )

    # Fix the VIN: one wrong try first, kept as typed, then the right one.
    console.follow("Fix the identifier")
    console.expect_heading("Fix the identifier")
    console.fill(VIN_LABEL, TYPED_WRONG)
    console.press("Save the correction")
    expect(console.error_summary).to_be_visible()
    expect(console.field(VIN_LABEL)).to_have_attribute("aria-invalid", "true")
    expect(console.field(VIN_LABEL)).to_have_value(TYPED_WRONG)
    console.audit("a wrong VIN")
    console.fill(VIN_LABEL, RIGHT_VIN.lower())
    console.press("Save the correction")
    console.expect_heading(f"Audi electric vehicle · {RIGHT_VIN}")
    expect(timeline).to_contain_text("Details corrected")
    expect(timeline).to_contain_text(f"from {VIN} to {RIGHT_VIN}")

    # Send a new link by email: the old one now says it was replaced, the new one works.
    console.choose("Email")
    console.fill("Email address or mobile number", "jo@example.com")
    console.press("Send the new link")
    expect(console.notice("Older links no longer work")).to_be_visible()
    expect(timeline).to_contain_text("Consent link sent by email")
    [email] = outbox(live_server.app)
    new_link = re.search(r"https?://\S+/c/\S+", email.body)
    assert new_link
    owner = make_page("desktop")
    owner.goto(old_link)
    AppPage(owner).expect_heading("This link was replaced by a newer one")
    owner.goto(new_link.group(0))
    expect(owner).to_have_url(re.compile(rf"/onboarding/{created['id']}/consent$"))

    # Cancel the other request, with a reason typed in.
    page.goto(live_server.url_for("support.request_page", request_id=other["id"]))
    console.expect_heading(re.compile("Audi electric vehicle"))
    console.follow("Cancel the request…")
    console.expect_heading("Cancel the request?")
    console.choose("Another reason")
    console.fill("The reason", "The customer sold the car")
    console.press("Cancel the request")
    expect(console.notice("The request was canceled.")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("The customer sold the car")
    console.audit("a canceled request")


@pytest.mark.parametrize("viewport", ["tablet", "desktop"], indirect=True)
def test_the_stalled_list_updates_in_place_and_the_funnel_shows_chart_and_table(
    page: Page, live_server: LiveServer
) -> None:
    console = sign_in_as_support(page, live_server)
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(6)  # the demo's stalled requests
    expect(page.locator("#results")).to_contain_text("Why: the device is not on the account")
    # Choosing a filter updates the list in place, and the URL with it.
    page.get_by_label("Manufacturer", exact=True).select_option("Kia")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"manufacturer=Kia"))
    console.audit("the filtered list")
    page.go_back()
    expect(rows).to_have_count(6)

    console.follow("Funnel")
    console.expect_heading("Funnel")
    expect(page.locator("svg[data-funnel-chart] rect.funnel-chart__bar")).to_have_count(9)
    table = page.get_by_role("table", name="Requests per stage")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name=re.compile("^Created 6"))).to_have_count(1)
    table.get_by_role("link", name=re.compile("requests stopped at: Consent step 1 done")).click()
    console.expect_heading("Requests")
    expect(page.locator("#results tbody tr")).to_have_count(4)
