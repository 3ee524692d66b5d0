"""Consent with manufacturers in the browser: the owner signs in at the manufacturer's
sandbox, or approves in its simulated app, and ends with a connected device — or sees what
went wrong and goes on from there.

The Audi journey runs at phone, tablet and desktop size; the others at desktop size only,
to keep the file fast.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from stdnum import ean as gs1

from app.consent import crypto
from app.consent.links import consent_url
from app.extensions import db
from app.models import Entity, OnboardingRequest, ProviderGrant
from tests.e2e.conftest import LiveServer, MakePage
from tests.e2e.pages import AppPage, HomePage, SignInPage, Wizard, path_pattern

OWNER = "owner@demo.example"
VIN = "WAUZZZ8V0KA000000"
KIA_VIN = "KNAZZZ8V0KA000000"  # a Kia's own WMI: the wizard asks nothing about its maker
VIN_LABEL = "Vehicle identification number (VIN)"
EV = "Electric vehicle"
CONNECTED_EV = "Your electric vehicle is connected"

Screenshot = Callable[[Page, str], Path | None]
desktop_only = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)


def fluvius_ean() -> str:
    """An 18-digit Belgian connection point code (5414...) with its GS1 check digit; not
    the demo data's, whose request is under way (one device, one request at a time)."""
    body = "5414" + "4882009876543"
    return body + gs1.calc_check_digit(body)


# ---------------------------------------------------------------- helpers


def sign_in(page: Page, live_server: LiveServer) -> HomePage:
    return SignInPage(page).open().sign_in(OWNER, live_server.users[OWNER])


def send_request(
    page: Page,
    live_server: LiveServer,
    manufacturer: str = "Audi",
    fields: dict[str, str] | None = None,
) -> Wizard:
    """Sign in and answer an EV request: check answers, ending in the declaration, is shown."""
    sign_in(page, live_server).connect_a_device()
    wizard = Wizard(page)
    wizard.start(EV, manufacturer, fields or {VIN_LABEL: VIN})
    return wizard


def to_sign_in_step(wizard: Wizard, manufacturer: str = "Audi") -> None:
    """To the page before the manufacturer's sign-in. Check answers is it for the owner's
    own wizard (agreeing there goes straight to the manufacturer); a link's task list
    goes through the terms page, then the sign-in step."""
    if wizard.heading.inner_text().strip() == Wizard.CHECK_HEADING:
        expect(
            wizard.page.get_by_text(f"When you agree, you go to {manufacturer} to sign in")
        ).to_be_visible()
        return
    wizard.next_step(Wizard.TERMS_HEADING)
    wizard.agree_to_terms()
    wizard.next_step(f"Sign in at {manufacturer} and allow access")


def at_the_manufacturer(
    page: Page, manufacturer: str = "Audi", button: str | None = None
) -> AppPage:
    """Press the button to the manufacturer (the declaration on check answers, or the
    step's own): its sandbox sign-in page opens."""
    step = AppPage(page)
    on_check = step.heading.inner_text().strip() == Wizard.CHECK_HEADING
    default = f"Agree and continue to {manufacturer}" if on_check else f"Continue to {manufacturer}"
    step.press(button or default)
    sandbox = AppPage(page)
    sandbox.expect_heading(f"Sign in to {manufacturer} (sandbox)")
    expect(page).to_have_url(re.compile(rf"/sandbox/{manufacturer.lower()}/authorize\?"))
    return sandbox


def answer_at_the_manufacturer(
    sandbox: AppPage, account: str | None = None, button: str = "Allow access"
) -> None:
    if account is not None:
        sandbox.fill("Email address", account)
    sandbox.press(button)


def expect_connected(page: Page, heading: str = CONNECTED_EV) -> AppPage:
    done = AppPage(page)
    done.expect_heading(heading)
    done.expect_url(path_pattern("onboarding", "{id}", "done"))
    expect(page.get_by_role("status").filter(has_text=heading)).to_be_visible()
    return done


def entities(live_server: LiveServer) -> list[Entity]:
    with live_server.app.app_context():
        found = list(db.session.scalars(select(Entity)))
        db.session.expunge_all()
        db.session.remove()
    return found


# ---------------------------------------------------------------- journeys


def test_audi_ev_by_vin_from_sign_in_to_a_connected_entity(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    wizard = send_request(page, live_server)
    to_sign_in_step(wizard)
    # Four screens before Audi: type, manufacturer, VIN, check answers with the declaration.
    expect(wizard.progress).to_have_text("Step 4 of 4")
    sandbox = at_the_manufacturer(page)
    expect(sandbox.field("Email address")).to_have_value("owner@sandbox.example")
    expect(page.get_by_text("Sandbox accounts and what they do")).to_be_visible()
    size = page.viewport_size or {"width": 0}
    screenshot(page, f"consent-sandbox-sign-in-{size['width']}")

    answer_at_the_manufacturer(sandbox)

    done = expect_connected(page)
    assert done.answers()[VIN_LABEL] == VIN
    screenshot(page, f"consent-audi-connected-{size['width']}")
    [entity] = entities(live_server)
    assert (entity.manufacturer, entity.information, entity.status) == (
        "Audi",
        {"vin": VIN},
        "Connected",
    )
    home = HomePage(page).open()
    expect(home.device_rows).to_have_count(1)
    expect(home.device_rows.first).to_contain_text(VIN)
    expect(home.device_rows.first).to_contain_text("Connected")


@desktop_only
def test_owner_denies_sees_why_and_retries_to_success(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    wizard = send_request(page, live_server)
    to_sign_in_step(wizard)

    answer_at_the_manufacturer(at_the_manufacturer(page), button="Deny")

    wizard.expect_heading("Sign in at Audi and allow access")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You did not allow access at Audi.")
    expect(alert).to_contain_text("Nothing is shared until you allow it.")
    screenshot(page, "consent-denied")
    assert entities(live_server) == []

    sandbox = at_the_manufacturer(page, button="Try again at Audi")
    answer_at_the_manufacturer(sandbox)

    expect_connected(page)
    assert len(entities(live_server)) == 1


@desktop_only
def test_provider_error_then_retry(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    wizard = send_request(page, live_server)
    to_sign_in_step(wizard)

    answer_at_the_manufacturer(at_the_manufacturer(page), "error@sandbox.example")

    wizard.expect_heading("Sign in at Audi and allow access")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Audi had a problem and could not answer.")
    expect(alert).to_contain_text("Try again in a few minutes.")
    screenshot(page, "consent-provider-error")

    answer_at_the_manufacturer(at_the_manufacturer(page, button="Try again at Audi"))

    expect_connected(page)
    assert len(entities(live_server)) == 1


@desktop_only
def test_device_not_on_the_account_corrected_then_connected(
    page: Page, live_server: LiveServer
) -> None:
    wrong_vin, right_vin = "WAUZZZ8V0KA999999", VIN
    wizard = send_request(page, live_server, fields={VIN_LABEL: wrong_vin})
    to_sign_in_step(wizard)

    answer_at_the_manufacturer(at_the_manufacturer(page), "no-device@sandbox.example")

    expect(page.get_by_role("alert")).to_contain_text(
        f"{wrong_vin} is not on the Audi account you used."
    )
    expect(wizard.field(VIN_LABEL)).to_have_value(wrong_vin)
    wizard.fill(VIN_LABEL, right_vin)
    wizard.press("Save the correction")
    expect(wizard.notice("Saved. Try the connection again.")).to_be_visible()

    answer_at_the_manufacturer(at_the_manufacturer(page, button="Try again at Audi"))

    done = expect_connected(page)
    assert done.answers()[VIN_LABEL] == right_vin


@desktop_only
def test_app_consent_page_updates_by_itself(
    context: BrowserContext, page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    wizard = send_request(page, live_server, manufacturer="Kia", fields={VIN_LABEL: KIA_VIN})
    wizard.send("Allow access in the Kia app")
    wizard.press("Send the request to my Kia app")
    live = page.locator("[aria-live=polite]").filter(
        has_text="Waiting for your approval in the Kia app"
    )
    expect(live).to_be_visible()
    expect(live).to_contain_text(KIA_VIN)
    screenshot(page, "consent-app-waiting")
    loads: list[str] = []  # every page load in the owner's tab from now on
    page.on("request", lambda r: loads.append(r.url) if r.resource_type == "document" else None)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/status") else None)

    with context.expect_page() as new_tab:
        wizard.follow(re.compile(r"^Open the Kia app \(sandbox\)"))
    app_screen = AppPage(new_tab.value)
    app_screen.expect_heading("Kia app (sandbox)")
    expect(new_tab.value.get_by_text(KIA_VIN)).to_be_visible()
    app_screen.press("Approve")
    expect(app_screen.notice("You approved the request.")).to_be_visible()

    # The owner's page moves on by itself: it polls, then goes to the connected page,
    # and nobody reloads it.
    expect_connected(page)
    assert polls, "the waiting page never asked for the status"
    assert loads == [page.url], loads
    screenshot(page, "consent-app-connected")
    [entity] = entities(live_server)
    assert entity.manufacturer == "Kia"


@desktop_only
def test_fluvius_smart_meter_by_ean_for_a_business(page: Page, live_server: LiveServer) -> None:
    ean = fluvius_ean()
    assert len(ean) == 18 and ean.startswith("5414")
    assert gs1.calc_check_digit(ean[:-1]) == ean[-1]
    sign_in(page, live_server).connect_a_device()
    wizard = Wizard(page)
    wizard.answer("Who made your smart meter?", choice="Smart meter")
    wizard.answer("Which Fluvius smart meter is it?", choice="Fluvius")
    wizard.answer(
        Wizard.CHECK_HEADING,
        choice="Business (B2B)",
        fields={"EAN code of the connection point": ean},
    )
    wizard.choose_group("Home")
    answers = wizard.answers()
    assert answers["EAN code of the connection point"] == ean
    assert answers["Type of contract"] == "Business (B2B)"
    to_sign_in_step(wizard, "Fluvius")

    answer_at_the_manufacturer(at_the_manufacturer(page, "Fluvius"))

    done = expect_connected(page, "Your smart meter is connected")
    assert done.answers()["Type of contract"] == "Business (B2B)"
    [entity] = entities(live_server)
    assert (entity.information, entity.properties) == ({"ean": ean}, {"flow": "B2B"})


@desktop_only
def test_consent_link_opened_in_a_fresh_browser_without_an_account(
    page: Page, live_server: LiveServer, make_page: MakePage
) -> None:
    send_request(page, live_server)
    match = re.search(r"/onboarding/([0-9a-f-]{36})/check", page.url)
    assert match, page.url
    request_id = uuid.UUID(match.group(1))
    # The owner agrees and goes to Audi, but finishes from the link on another device.
    at_the_manufacturer(page)
    with live_server.app.test_request_context(base_url=live_server.url):
        link = consent_url(db.session.get(OnboardingRequest, request_id))
        db.session.commit()  # a link is a record, as a page showing it would commit
        db.session.remove()
    assert link.startswith(f"{live_server.url}/c/")

    owner = make_page("desktop")
    owner.goto(link)
    wizard = Wizard(owner)
    wizard.expect_heading(Wizard.CONSENT_HEADING)
    expect(owner.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(owner.get_by_role("button", name="Cancel this request")).to_have_count(0)
    wizard.next_step("Sign in at Audi and allow access")
    answer_at_the_manufacturer(at_the_manufacturer(owner))

    expect_connected(owner)
    assert len(entities(live_server)) == 1
    # The link opened that one request, not the account behind it.
    owner.goto("/")
    SignInPage(owner).expect_heading("Sign in")


@desktop_only
def test_offboarding_from_the_home_page(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    wizard = send_request(page, live_server)
    to_sign_in_step(wizard)
    answer_at_the_manufacturer(at_the_manufacturer(page))
    expect_connected(page)
    home = HomePage(page).open()

    home.device_rows.first.get_by_role("link", name=re.compile(r"^Disconnect")).click()
    disconnect = AppPage(page)
    disconnect.expect_heading(f"Disconnect Audi electric vehicle · {VIN}?")
    # Withdrawing consent asks for no reason; one may be given.
    expect(page.get_by_text("Why do you disconnect it? (optional)")).to_be_visible()
    disconnect.choose("I no longer want to share its data")
    screenshot(page, "consent-disconnect")
    disconnect.press("Disconnect")

    home.expect_heading(HomePage.HEADING)
    expect(home.notice("is disconnected. Its access was withdrawn.")).to_be_visible()
    row = home.device_rows.first
    expect(row).to_contain_text("Disconnected")
    expect(row.get_by_role("link", name=re.compile(r"^Disconnect"))).to_have_count(0)
    [entity] = entities(live_server)
    assert entity.status == "Disconnected"
    with live_server.app.app_context():
        grant = db.session.scalar(select(ProviderGrant))
        assert (grant.access_token, grant.refresh_token) == (None, None)
        assert crypto.decrypt(grant.access_token) is None
        db.session.remove()


def test_without_javascript_the_waiting_page_offers_a_refresh(
    make_page: MakePage, live_server: LiveServer, screenshot: Screenshot
) -> None:
    page = make_page("desktop", javascript=False)
    wizard = send_request(page, live_server, manufacturer="Kia", fields={VIN_LABEL: KIA_VIN})
    wizard.send("Allow access in the Kia app")
    wizard.press("Send the request to my Kia app")
    live = page.locator("[aria-live=polite]")
    expect(live).to_contain_text("Waiting for your approval in the Kia app")
    # Nothing promises an update the page cannot make by itself; a button asks again.
    expect(page.get_by_text("This page updates by itself.")).to_be_hidden()
    refresh = page.get_by_role("link", name="Refresh")
    expect(refresh).to_be_visible()
    wizard.audit("waiting without JavaScript")
    screenshot(page, "consent-app-waiting-nojs")
    refresh.click()
    wizard.expect_heading("Allow access in the Kia app")


@desktop_only
def test_canceling_a_request_asks_first(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    wizard = send_request(page, live_server, manufacturer="Kia", fields={VIN_LABEL: KIA_VIN})
    wizard.send("Allow access in the Kia app")
    page.goto(re.sub(r"/steps/\d+$", "/consent", page.url))
    wizard.expect_heading(Wizard.CONSENT_HEADING)
    wizard.follow("Cancel this request")
    wizard.expect_heading("Cancel this request?")
    screenshot(page, "consent-cancel-confirm")
    wizard.follow("Go back")
    wizard.expect_heading(Wizard.CONSENT_HEADING)
    wizard.follow("Cancel this request")
    wizard.press("Yes, cancel it")
    home = HomePage(page)
    home.expect_heading(HomePage.HEADING)
    expect(home.notice("The request was canceled. Nothing was connected.")).to_be_visible()
    # It did not finish: its own page says so, from the home page's list.
    page.get_by_role("region", name="Requests that did not finish").get_by_role("link").click()
    wizard.expect_heading(Wizard.CONSENT_HEADING)
    expect(page.get_by_text("This request is canceled. Nothing was connected.")).to_be_visible()
