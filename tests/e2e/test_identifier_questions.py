"""The questions about who made the device, in a browser: a VIN that names another maker
("Continue with Audi or switch?") and "My brand is not listed", with and without
JavaScript, each page audited for accessibility on the way (Wizard.expect_heading)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, MakePage, Viewport
from tests.e2e.pages import HomePage, SignInPage, Wizard
from tests.e2e.test_owner_journey import OWNER, Screenshot, shooter

VOLKSWAGEN_VIN = "WVWZZZ1KZAW000001"
VIN_LABEL = "Vehicle identification number (VIN)"
QUESTION = "This VIN belongs to a Volkswagen. Continue with Audi or switch?"


def to_manufacturer(page: Page, live_server: LiveServer) -> Wizard:
    home = SignInPage(page).open().sign_in(OWNER, live_server.users[OWNER])
    assert isinstance(home, HomePage)
    home.connect_a_device()
    wizard = Wizard(page)
    wizard.answer("Who made your electric vehicle?", choice="Electric vehicle")
    return wizard


def vin_of_another_maker(page: Page, live_server: LiveServer, shot) -> None:
    wizard = to_manufacturer(page, live_server)
    wizard.answer("Which Audi electric vehicle is it?", choice="Audi")
    wizard.answer(QUESTION, fields={VIN_LABEL: VOLKSWAGEN_VIN})
    expect(page.get_by_text(VOLKSWAGEN_VIN)).to_be_visible()
    shot("vin-maker")

    wizard.press("Switch to Volkswagen")
    wizard.expect_heading(Wizard.CHECK_HEADING)  # the group is offered there, not asked
    answers = wizard.answers()
    assert answers["Manufacturer"] == "Volkswagen"
    assert answers[VIN_LABEL] == VOLKSWAGEN_VIN


def brand_not_listed(page: Page, live_server: LiveServer, shot) -> None:
    wizard = to_manufacturer(page, live_server)
    wizard.follow("My brand is not listed")
    wizard.expect_heading("Your brand is not in the list")
    shot("brand-not-listed")

    wizard.press("Send")
    wizard.expect_error_page("Which brand is it?", "Enter the brand of your device.")
    wizard.expect_heading("Your brand is not in the list")
    shot("brand-not-listed-error")

    wizard.fill("Which brand is it?", "Zaptec")
    wizard.press("Send")
    wizard.expect_heading("Thank you: Zaptec is noted")
    expect(page.get_by_text("We will not contact you about it.")).to_be_visible()
    shot("brand-noted")
    wizard.follow("Back to the list of manufacturers")
    wizard.expect_heading(re.compile(r"^Who made your electric vehicle\?$"))


def test_vin_of_another_maker_with_javascript(
    page: Page, live_server: LiveServer, viewport: Viewport, screenshot: Screenshot
) -> None:
    vin_of_another_maker(page, live_server, shooter(page, screenshot, f"maker-js-{viewport.name}"))


def test_brand_not_listed_with_javascript(
    page: Page, live_server: LiveServer, viewport: Viewport, screenshot: Screenshot
) -> None:
    brand_not_listed(page, live_server, shooter(page, screenshot, f"brand-js-{viewport.name}"))


def test_both_without_javascript(
    make_page: MakePage, live_server: LiveServer, screenshot: Screenshot
) -> None:
    page = make_page("phone", javascript=False)
    vin_of_another_maker(page, live_server, shooter(page, screenshot, "maker-nojs-phone"))
    other = make_page("phone", javascript=False)  # signed out again
    brand_not_listed(other, live_server, shooter(other, screenshot, "brand-nojs-phone"))
