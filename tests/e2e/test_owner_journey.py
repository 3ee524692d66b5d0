"""The device owner onboards a device in the browser, from sign-in to a connected Entity.

The two full journeys run at phone, tablet and desktop size, one with JavaScript (htmx)
and one without (which also shows the whole manufacturer list, no search box). The checks
around them (resume, filter, back button, re-post, double click) run at desktop size
only, to keep the file fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Entity
from tests.e2e.conftest import LiveServer, MakeContext, MakePage, Viewport
from tests.e2e.pages import HomePage, SignInPage, Wizard, path_pattern

OWNER = "owner@demo.example"
WRONG_PAIRING_CODE = "000000"  # the sandbox's "does not match the device"
PAIRING_MISMATCH = "This pairing code does not match the device. Check the code and try again."

Screenshot = Callable[[Page, str], Path | None]
desktop_only = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)


@dataclass(frozen=True)
class Device:
    """A device the owner onboards, and what they type on the way."""

    kind: str  # the entity type's label, as on the first question
    manufacturer: str
    manufacturers: tuple[str, ...]  # every manufacturer of its kind, in the catalog's order
    field: str  # the label of its one identifying field
    wrong: str
    wrong_message: str
    right: str
    changed: str  # typed after "Change" on check answers...
    changed_shown: str  # ...and shown normalised
    pairing_code: str


XENN = Device(
    kind="Retrofit meter reader",
    manufacturer="Xenn",
    manufacturers=("Xenn",),
    field="Xenn reference",
    wrong="P123",
    wrong_message="This should be P followed by 10 digits, for example P1000000000.",
    right="P1000000000",
    changed="p 1000-000042",
    changed_shown="P1000000042",
    pairing_code="750218",
)
P1_DONGLE = Device(
    kind="Smart meter",
    manufacturer="re.alto P1-Dongle",
    manufacturers=("Fluvius", "re.alto P1-Dongle"),
    field="Dongle code",
    wrong="RA1B2C",
    wrong_message="This should be 12 letters and digits, for example RA1B2C3D4E5F.",
    # Not the catalog's example: a demo request under way already names that dongle.
    right="RA7K2M9P4Q1X",
    changed="ra9z 8y7x 6w5v",
    changed_shown="RA9Z8Y7X6W5V",
    pairing_code="482913",
)


def sign_in(page: Page, live_server: LiveServer) -> HomePage:
    return SignInPage(page).open().sign_in(OWNER, live_server.users[OWNER])


def entity_count(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Entity))
        db.session.remove()
    return count or 0


def onboard(
    page: Page,
    live_server: LiveServer,
    device: Device,
    shot: Callable[[str], None],
    *,
    javascript: bool,
) -> None:
    """The whole journey, checking every page on the way; `shot(name)` after each one."""
    wizard = Wizard(page)
    kind = device.kind.lower()
    details_heading = f"Which {device.manufacturer} {kind} is it?"

    signin = SignInPage(page).open()
    shot("sign-in")
    home = signin.sign_in(OWNER, live_server.users[OWNER])
    wizard.expect_url(re.compile(r"^[^?#]*/(\?.*)?$"))
    expect(home.connected.get_by_text("No device is connected yet")).to_be_visible()
    shot("home-empty")

    home.connect_a_device()
    wizard.expect_url(path_pattern("onboarding", "new"))
    expect(wizard.progress).to_have_text("Step 1 of 4")
    shot("type")

    # A type with one manufacturer does not ask it: the owner goes straight to the details.
    asks_manufacturer = len(device.manufacturers) > 1
    pages = 4 if asks_manufacturer else 3
    if asks_manufacturer:
        wizard.answer(f"Who made your {kind}?", choice=device.kind)
        wizard.expect_url(path_pattern("onboarding", "{id}", "manufacturer"))
        # A list this short has no search box (the EV list has one; see the filter test).
        expect(page.get_by_role("searchbox", name="Search the list")).to_have_count(0)
        radios = page.get_by_role("radio")
        expect(radios).to_have_count(len(device.manufacturers))
        for name, radio in zip(device.manufacturers, radios.all(), strict=True):
            expect(radio).to_have_accessible_name(name)
        expect(wizard.progress).to_have_text(f"Step 2 of {pages}")
        shot("manufacturer")
        wizard.answer(details_heading, choice=device.manufacturer)
    else:
        wizard.answer(details_heading, choice=device.kind)
    wizard.expect_url(path_pattern("onboarding", "{id}", "details"))
    wizard.expect_no_errors()
    expect(wizard.progress).to_have_text(f"Step {pages - 1} of {pages}")
    shot("details")

    # A wrong identifier: said in plain words, next to the field and in the summary.
    wizard.fill(device.field, device.wrong)
    wizard.continue_()
    wizard.expect_error_page(device.field, device.wrong_message)
    wizard.expect_heading(details_heading)
    expect(wizard.field(device.field)).to_have_value(device.wrong)
    wizard.expect_url(path_pattern("onboarding", "{id}", "details"))
    shot("details-error")

    # The group is not asked on the way: check answers offers it.
    wizard.answer(Wizard.CHECK_HEADING, fields={device.field: device.right})
    wizard.expect_url(path_pattern("onboarding", "{id}", "check"))
    wizard.expect_no_errors()
    assert wizard.answers() == {
        "Device": device.kind,
        "Manufacturer": device.manufacturer,
        device.field: device.right,
        "Group": "No group",
    }
    expect(wizard.progress).to_have_text(f"Step {pages} of {pages}")
    wizard.follow("Change group")
    wizard.expect_heading(Wizard.GROUP_HEADING)
    wizard.expect_url(path_pattern("onboarding", "{id}", "collective"))
    shot("group")
    wizard.answer(Wizard.CHECK_HEADING, choice="Home")
    assert wizard.answers()["Group"] == "Home"

    # "Change" goes to the question with the answer filled in, and comes back here.
    # A label is lowered inside the sentence, but a brand keeps its capital.
    in_sentence = (
        device.field
        if device.field.startswith(device.manufacturer)
        else (device.field[0].lower() + device.field[1:])
    )
    wizard.follow(f"Change {in_sentence}")
    wizard.expect_heading(details_heading)
    wizard.expect_url(path_pattern("onboarding", "{id}", "details"))
    expect(wizard.field(device.field)).to_have_value(device.right)
    wizard.answer(Wizard.CHECK_HEADING, fields={device.field: device.changed})
    wizard.expect_url(path_pattern("onboarding", "{id}", "check"))
    assert wizard.answers()[device.field] == device.changed_shown
    assert wizard.answers()["Group"] == "Home"
    # Check answers ends in the declaration: the terms in full, nothing scrolled away.
    terms = page.get_by_role("region", name=re.compile("^Data-sharing terms"))
    expect(terms).to_be_visible()
    expect(terms).to_contain_text("Terms version")
    expect(terms).to_contain_text("You can withdraw this consent at any moment")
    shot("check")

    # Agreeing sends the request and records the terms: the pairing code is next.
    wizard.send(Wizard.PAIRING_HEADING)
    wizard.expect_url(path_pattern("onboarding", "{id}", "steps", "2"))
    wizard.expect_no_errors()
    shot("pairing")

    wizard.enter_pairing_code(WRONG_PAIRING_CODE)
    wizard.expect_error_page("Pairing code", PAIRING_MISMATCH)
    wizard.expect_heading(Wizard.PAIRING_HEADING)
    expect(wizard.field("Pairing code")).to_have_value(WRONG_PAIRING_CODE)
    shot("pairing-error")
    assert entity_count(live_server) == 0

    wizard.enter_pairing_code(device.pairing_code)
    wizard.expect_heading(f"Your {kind} is connected")
    wizard.expect_url(path_pattern("onboarding", "{id}", "done"))
    wizard.expect_title(re.compile(rf"^Your {re.escape(kind)} is connected"))
    done = wizard.answers()
    assert done["Manufacturer"] == device.manufacturer
    assert done[device.field] == device.changed_shown
    assert done["Group"] == "Home"
    assert done["Status"] == "Connected"
    shot("connected")

    wizard.follow("Go to your devices")
    home.expect_heading(HomePage.HEADING)
    expect(home.device_rows).to_have_count(1)
    row = home.device_rows.first
    for text in (f"{device.manufacturer} {kind}", device.changed_shown, "Home", "Connected"):
        expect(row).to_contain_text(text)
    expect(home.unfinished).to_have_count(0)
    shot("home-connected")
    assert entity_count(live_server) == 1


def shooter(page: Page, screenshot: Screenshot, prefix: str) -> Callable[[str], None]:
    """shot(name): a numbered screenshot, so the files sort in journey order."""
    counter = iter(range(1, 100))

    def shot(name: str) -> None:
        screenshot(page, f"{prefix}-{next(counter):02d}-{name}")

    return shot


# ---------------------------------------------------------------- the two journeys


def test_owner_onboards_a_xenn_meter_with_javascript(
    page: Page, live_server: LiveServer, viewport: Viewport, screenshot: Screenshot
) -> None:
    shot = shooter(page, screenshot, f"owner-xenn-js-{viewport.name}")
    onboard(page, live_server, XENN, shot, javascript=True)


def test_owner_onboards_a_p1_dongle_without_javascript(
    make_page: MakePage, live_server: LiveServer, viewport: Viewport, screenshot: Screenshot
) -> None:
    page = make_page(viewport, javascript=False)
    shot = shooter(page, screenshot, f"owner-p1-nojs-{viewport.name}")
    onboard(page, live_server, P1_DONGLE, shot, javascript=False)


# ---------------------------------------------------------------- around the journeys


@desktop_only
def test_leaving_mid_way_resumes_at_the_right_step_in_a_fresh_browser(
    context: BrowserContext, make_context: MakeContext, live_server: LiveServer
) -> None:
    first = context.new_page()
    sign_in(first, live_server).connect_a_device()
    wizard = Wizard(first)
    wizard.answer("Who made your smart meter?", choice="Smart meter")
    wizard.answer("Which re.alto P1-Dongle smart meter is it?", choice="re.alto P1-Dongle")
    context.close()  # the browser is closed: no cookie, no page state survives

    page = make_context("desktop").new_page()
    home = sign_in(page, live_server)
    expect(home.unfinished).to_be_visible()
    # What it is and how far it got, each said once.
    expect(home.unfinished).to_contain_text("Not sent yet")
    expect(home.unfinished).to_contain_text("Question 3 of 3")
    expect(home.unfinished.get_by_text("Not sent yet")).to_have_count(1)
    home.continue_with("re.alto P1-Dongle smart meter")

    wizard = Wizard(page)
    wizard.expect_heading("Which re.alto P1-Dongle smart meter is it?")
    wizard.expect_url(path_pattern("onboarding", "{id}", "details"))
    # The earlier answers are kept: Back shows them chosen.
    wizard.back_link().click()
    wizard.expect_heading("Who made your smart meter?")
    expect(wizard.radio("re.alto P1-Dongle")).to_be_checked()
    wizard.back_link().click()
    wizard.expect_heading(Wizard.TYPE_HEADING)
    expect(wizard.radio("Smart meter")).to_be_checked()

    # Continuing without a change goes straight back to the first unanswered question.
    wizard.answer("Which re.alto P1-Dongle smart meter is it?")
    wizard.answer(Wizard.CHECK_HEADING, fields={"Dongle code": "RA9X8Y7Z6W5V"})
    assert wizard.answers() == {
        "Device": "Smart meter",
        "Manufacturer": "re.alto P1-Dongle",
        "Dongle code": "RA9X8Y7Z6W5V",
        "Group": "No group",
    }


def test_starting_again_reuses_the_blank_draft_and_a_draft_can_be_discarded(
    page: Page, live_server: LiveServer, viewport: Viewport, screenshot: Screenshot
) -> None:
    home = sign_in(page, live_server)
    home.connect_a_device()
    wizard = Wizard(page)
    wizard.answer("Who made your electric vehicle?", choice="Electric vehicle")
    HomePage(page).open().connect_a_device()
    wizard.answer("Who made your electric vehicle?", choice="Electric vehicle")
    home = HomePage(page).open()
    cards = home.unfinished.get_by_role("listitem")
    expect(cards).to_have_count(1)  # never two identical drafts
    expect(cards.first).to_contain_text("Electric vehicle")
    expect(cards.first).to_contain_text("Question 2 of 3")
    screenshot(page, f"home-drafts-{viewport.name}")

    home.follow(re.compile(r"^Discard the draft for Electric vehicle"))
    home.expect_heading("Discard this draft?")
    screenshot(page, f"discard-draft-{viewport.name}")
    home.press("Yes, discard it")
    home.expect_heading(HomePage.HEADING)
    expect(home.notice("The draft was discarded.")).to_be_visible()
    expect(home.unfinished).to_have_count(0)


@desktop_only
def test_manufacturer_filter_narrows_the_list_as_you_type(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server).connect_a_device()
    wizard = Wizard(page)
    wizard.answer("Who made your electric vehicle?", choice="Electric vehicle")
    radios = page.get_by_role("radio")
    expect(radios).to_have_count(8)

    search = page.get_by_role("searchbox", name="Search the list")
    expect(search).to_be_visible()
    search.fill("au")
    # A substring match: "Renault" holds "au" as well.
    expect(radios).to_have_count(2)
    wizard.audit("the list filtered")
    expect(wizard.radio("Audi")).to_be_visible()
    expect(wizard.radio("Renault")).to_be_visible()
    search.fill("aud")
    expect(radios).to_have_count(1)
    expect(wizard.radio("Audi")).to_be_visible()
    search.fill("zz")
    expect(radios).to_have_count(0)
    expect(page.get_by_text("No manufacturer matches")).to_be_visible()
    wizard.audit("no manufacturer matches")
    search.fill("aud")
    wizard.answer("Which Audi electric vehicle is it?", choice="Audi")


@desktop_only
def test_browser_back_button_keeps_the_flow_working(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server).connect_a_device()
    wizard = Wizard(page)
    wizard.answer("Which Xenn retrofit meter reader is it?", choice="Retrofit meter reader")
    wizard.answer(Wizard.CHECK_HEADING, fields={"Xenn reference": "P1000000000"})

    # Back to the question just answered: it shows the answer and can be answered again.
    page.go_back()
    wizard.expect_heading("Which Xenn retrofit meter reader is it?")
    wizard.expect_url(path_pattern("onboarding", "{id}", "details"))
    expect(wizard.field("Xenn reference")).to_have_value("P1000000000")
    wizard.answer(Wizard.CHECK_HEADING, fields={"Xenn reference": "P1000000001"})
    assert wizard.answers()["Xenn reference"] == "P1000000001"

    # Back after sending: the answers can no longer change, so it shows where things stand.
    wizard.send(Wizard.PAIRING_HEADING)
    page.go_back()
    wizard.expect_heading(Wizard.CONSENT_HEADING)
    wizard.expect_no_errors()
    wizard.next_step(Wizard.PAIRING_HEADING)


@desktop_only
def test_sending_the_answers_again_shows_the_consent_page_with_a_notice(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = context.new_page()
    sign_in(page, live_server).connect_a_device()
    wizard = Wizard(page)
    wizard.start("Retrofit meter reader", "Xenn", {"Xenn reference": "P1000000000"})

    # The same check-answers page, still open in a second tab (as after going back to it).
    other = Wizard(context.new_page())
    other.page.goto(page.url)
    other.expect_heading(Wizard.CHECK_HEADING)

    wizard.send(Wizard.PAIRING_HEADING)
    other.press("Agree and continue")
    other.expect_heading(Wizard.CONSENT_HEADING)
    notice = other.notice("Your answers were already sent, so they were not changed.")
    expect(notice).to_be_visible()
    other.expect_no_errors()
    expect(other.page.get_by_text("You have done 1 of 2 steps.")).to_be_visible()


@desktop_only
def test_double_click_on_the_last_step_creates_one_entity(
    page: Page, live_server: LiveServer
) -> None:
    # What the owner sees. Chromium and htmx send a double click as one submission; two
    # submissions that do reach the server are the next test's.
    sign_in(page, live_server).connect_a_device()
    wizard = Wizard(page)
    wizard.start("Retrofit meter reader", "Xenn", {"Xenn reference": "P1000000000"})
    wizard.send(Wizard.PAIRING_HEADING)

    wizard.fill("Pairing code", "750218")
    wizard.button("Pair the device").dblclick()
    wizard.expect_heading("Your retrofit meter reader is connected")
    wizard.expect_no_errors()

    home = HomePage(page).open()
    expect(home.device_rows).to_have_count(1)
    assert entity_count(live_server) == 1


@desktop_only
def test_two_pairing_submissions_at_once_create_one_entity(
    page: Page, live_server: LiveServer
) -> None:
    # A double click reaches the server once; a second tab or a retry on a slow network
    # does not merge. Send the pairing form twice at the same moment, as those would.
    sign_in(page, live_server).connect_a_device()
    wizard = Wizard(page)
    wizard.start("Retrofit meter reader", "Xenn", {"Xenn reference": "P1000000000"})
    wizard.send(Wizard.PAIRING_HEADING)
    wizard.fill("Pairing code", "750218")

    statuses = page.get_by_role("button", name="Pair the device").evaluate(
        """async (button) => {
            const form = button.form;
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = await Promise.all([send(), send()]);
            return answers.map((answer) => answer.status);
        }"""
    )
    assert statuses == [200, 200]  # both followed their redirect to a page, neither failed
    assert entity_count(live_server) == 1
    home = HomePage(page).open()
    expect(home.device_rows).to_have_count(1)
