"""The installer on a tablet: a new installation for a customer, the consent link handed to
the owner's phone as a QR code, and the installer's page turning to "Connected" by itself
(or with its Refresh button, without JavaScript).

Installer pages are audited for WCAG AAA contrast and 48x48 px targets (tests/e2e/a11y.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import VIEWPORTS, LiveServer, MakePage, Viewport
from tests.e2e.pages import AppPage, SignInPage, Wizard
from tests.e2e.test_consent_journeys import (
    answer_at_the_manufacturer,
    at_the_manufacturer,
    to_sign_in_step,
)
from tests.qr_reading import read_svg_qr

INSTALLER = "installer@demo.example"
HOME_HEADING = "Your installations"
CUSTOMER = "Jan Peeters"
VIN = "WAUZZZ8V0KA000000"
XENN_REFERENCE = "P1000000000"
PAIRING_CODE = "482913"

Screenshot = Callable[[Page, str], Path | None]
TABLET = VIEWPORTS["tablet"]
TABLET_LANDSCAPE = Viewport("tablet-landscape", 1180, 820, mobile=True)
PHONE = VIEWPORTS["phone"]


def sign_in(page: Page, live_server: LiveServer) -> AppPage:
    """The installer signs in and lands on their installations."""
    sign_in_page = SignInPage(page).open()
    sign_in_page.fill("Email address", INSTALLER)
    sign_in_page.fill("Password", live_server.users[INSTALLER])
    sign_in_page.press("Sign in")
    home = AppPage(page)
    home.expect_heading(HOME_HEADING)
    expect(page.get_by_role("link", name="Installations")).to_be_visible()
    return home


def new_installation(
    page: Page,
    live_server: LiveServer,
    manufacturer: str,
    fields: dict[str, str],
    shot: Callable[[str], object],
) -> AppPage:
    """From sign-in to the hand-over page of a new installation for the customer."""
    home = sign_in(page, live_server)
    shot("home-empty")
    home.follow("New installation")
    home.expect_heading("Which device do you install?")
    home.continue_()
    home.expect_errors("Choose the device.")
    shot("device-error")
    home.choose(manufacturer)
    shot("device")
    home.continue_()
    home.expect_heading("The device and its owner")
    home.fill("Customer's email address", "jan@")
    home.continue_()
    home.expect_field_error(
        "Customer's email address", "Enter the part after the @, as in name@example.com."
    )
    shot("details-error")
    expect(home.field("Customer's email address")).to_have_value("jan@")
    for label, value in fields.items():
        home.fill(label, value)
    home.fill("Customer's name", CUSTOMER)
    home.fill("Customer's email address", "jan.peeters@example.com")
    home.choose("No group")
    shot("details")
    home.continue_()
    home.expect_heading("Check the installation")
    shot("check")
    home.press("Create and hand over")
    home.expect_heading(CUSTOMER)
    return home


def shown_link(page: Page) -> str:
    """The link under the QR code, and the QR code read from its SVG: they are one."""
    link = page.locator(".qr-code__url").inner_text().strip()
    svg = page.locator(".qr-code svg").evaluate("svg => svg.outerHTML")
    assert read_svg_qr(svg) == link
    return link


def owner_signs_in_at_audi(owner: Page, link: str) -> None:
    owner.goto(link)
    wizard = Wizard(owner)
    to_sign_in_step(wizard)
    answer_at_the_manufacturer(at_the_manufacturer(owner))
    wizard.expect_heading("Your electric vehicle is connected")


def owner_pairs_the_xenn(owner: Page, link: str) -> None:
    owner.goto(link)
    wizard = Wizard(owner)
    wizard.next_step(Wizard.TERMS_HEADING)
    wizard.agree_to_terms()
    wizard.next_step(Wizard.PAIRING_HEADING)
    wizard.enter_pairing_code(PAIRING_CODE)
    wizard.expect_heading("Your retrofit meter reader is connected")


@pytest.mark.parametrize(
    "installer_viewport", [TABLET, TABLET_LANDSCAPE, PHONE], ids=lambda v: v.name
)
def test_installer_hands_an_audi_to_the_owner_and_sees_it_connected(
    make_page: MakePage,
    live_server: LiveServer,
    screenshot: Screenshot,
    installer_viewport: Viewport,
) -> None:
    page = make_page(installer_viewport)

    def shot(name: str) -> None:
        screenshot(page, f"installer-{name}-{installer_viewport.name}")

    handover = new_installation(
        page, live_server, "Audi", {"Vehicle identification number (VIN)": VIN}, shot
    )
    expect(page.get_by_text("Waiting for the owner")).to_be_visible()
    expect(page.get_by_role("button", name="Refresh")).to_be_hidden()  # it follows by itself
    shot("handover")
    link = shown_link(page)

    owner = make_page(PHONE)
    owner_signs_in_at_audi(owner, link)

    connected = page.get_by_role("heading", name="Connected", exact=True)
    expect(connected).to_be_visible()
    expect(page.locator("#status-region")).to_contain_text(VIN)
    expect(page.locator(".qr-code")).to_be_hidden()  # nothing left to hand over
    handover.audit("connected")
    shot("connected")

    page.get_by_role("link", name="Your installations").click()
    handover.expect_heading(HOME_HEADING)
    card = page.locator(".card").filter(has=page.get_by_role("heading", name=CUSTOMER))
    expect(card).to_contain_text("Connected")
    shot("home")


def test_installer_hands_a_xenn_over_and_the_owner_pairs_it(
    make_page: MakePage, live_server: LiveServer, screenshot: Screenshot
) -> None:
    page = make_page(TABLET_LANDSCAPE)

    def shot(name: str) -> None:
        screenshot(page, f"installer-xenn-{name}")

    new_installation(page, live_server, "Xenn", {"Xenn reference": XENN_REFERENCE}, shot)
    link = shown_link(page)
    owner = make_page(PHONE)
    owner_pairs_the_xenn(owner, link)
    expect(page.get_by_role("heading", name="Connected", exact=True)).to_be_visible()
    expect(page.locator("#status-region")).to_contain_text(XENN_REFERENCE)


def test_without_javascript_the_installer_refreshes_to_see_it_connected(
    make_page: MakePage, live_server: LiveServer, screenshot: Screenshot
) -> None:
    page = make_page(TABLET, javascript=False)

    def shot(name: str) -> None:
        screenshot(page, f"installer-nojs-{name}")

    handover = new_installation(
        page, live_server, "Audi", {"Vehicle identification number (VIN)": VIN}, shot
    )
    expect(page.get_by_role("button", name="Copy the link")).to_be_hidden()
    link = shown_link(page)
    owner = make_page(PHONE)
    owner_signs_in_at_audi(owner, link)

    handover.press("Refresh")
    expect(page.get_by_role("heading", name="Connected", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Refresh")).to_have_count(0)


def test_a_send_that_does_not_reach_us_says_so_and_keeps_the_address(
    make_page: MakePage, live_server: LiveServer
) -> None:
    page = make_page(TABLET)
    new_installation(
        page, live_server, "Audi", {"Vehicle identification number (VIN)": VIN}, lambda name: None
    )
    field = page.get_by_label("Customer's email address")
    field.fill("jan.peeters+other@example.com")
    page.context.set_offline(True)
    page.get_by_role("button", name="Send by email").click()
    expect(page.get_by_role("alert").filter(has_text="No connection")).to_be_visible()
    expect(field).to_have_value("jan.peeters+other@example.com")
    page.context.set_offline(False)
    page.get_by_role("button", name="Send by email").click()
    expect(page.get_by_text(re.compile(r"The link was sent by email to"))).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="No connection")).to_have_count(0)


def test_a_device_not_on_the_account_shows_at_home_and_the_installer_fixes_it(
    make_page: MakePage, live_server: LiveServer, screenshot: Screenshot
) -> None:
    page = make_page(TABLET)

    def shot(name: str) -> None:
        screenshot(page, f"installer-trouble-{name}")

    handover = new_installation(
        page, live_server, "Audi", {"Vehicle identification number (VIN)": VIN}, lambda name: None
    )
    link = shown_link(page)
    owner = make_page(PHONE)
    owner.goto(link)
    wizard = Wizard(owner)
    to_sign_in_step(wizard)
    answer_at_the_manufacturer(at_the_manufacturer(owner), "no-device@sandbox.example")

    # The installer's open page turns to the failure by itself, with the way forward.
    trouble = page.locator("#step-trouble")
    expect(trouble).to_contain_text("the device is not on the account")
    handover.audit("a step did not work")
    shot("request")

    page.get_by_role("link", name="Your installations").click()
    handover.expect_heading(HOME_HEADING)
    card = page.locator(".card").filter(has=page.get_by_role("heading", name=CUSTOMER))
    expect(card).to_contain_text("A step did not work")
    expect(card).not_to_contain_text("Waiting on")
    handover.audit("home with a failed step")
    shot("home")

    card.get_by_role("link", name=re.compile("^Open")).click()
    handover.follow("Fix the identifier")
    handover.expect_heading("Fix the identifier")
    handover.fill("Vehicle identification number (VIN)", "WAUZZZ")
    handover.press("Save the correction")
    handover.expect_field_error(
        "Vehicle identification number (VIN)",
        page.locator(".field__error").first.inner_text().removeprefix("Error:").strip(),
    )
    handover.audit("fix the identifier, with an error")
    shot("fix-identifier")
    handover.fill("Vehicle identification number (VIN)", "WAUZZZ8V0KA000001")
    handover.press("Save the correction")
    handover.expect_heading(CUSTOMER)
    expect(page.get_by_text(re.compile("^Saved"))).to_be_visible()
    expect(trouble).to_contain_text("The identifier is fixed")
    expect(page.locator(".task-list")).to_contain_text("WAUZZZ8V0KA000001 since")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_installer_discards_an_unfinished_start(
    make_page: MakePage, live_server: LiveServer, screenshot: Screenshot, javascript: bool
) -> None:
    page = make_page(TABLET, javascript=javascript)

    def shot(name: str) -> None:
        if javascript:
            screenshot(page, f"installer-discard-{name}")

    home = sign_in(page, live_server)
    home.follow("New installation")
    home.choose("Audi")
    home.continue_()
    home.expect_heading("The device and its owner")
    page.get_by_role("link", name="Installations").click()
    home.expect_heading(HOME_HEADING)
    today = page.get_by_role("region", name="Today")
    card = today.locator(".card").filter(has_text="Your unfinished start")
    expect(card).to_contain_text("You have not finished it")
    shot("home")
    card.get_by_role("link", name=re.compile("^Discard")).click()
    home.expect_heading("Discard this unfinished installation?")
    home.audit("discard confirmation")
    shot("confirm")
    home.press("Discard it")
    home.expect_heading(HOME_HEADING)
    expect(page.get_by_text("This unfinished installation was discarded.")).to_be_visible()
    expect(today.locator(".card").filter(has_text="Your unfinished start")).to_have_count(0)
    shot("done")
