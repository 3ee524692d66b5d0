"""Scan instead of typing: the Scan button next to an identifier field, with a real camera feed.

The camera is Chromium's fake one playing a video made here (tests/e2e/camera.py) of a VIN as
a Code 128 barcode. That needs launch flags of its own, so these tests start a second
Chromium from pytest-playwright's `playwright` fixture and open their pages in it through
`make_page(browser=...)` (audited like every other page). Its contexts get the camera
permission, or not: without it Chromium refuses the camera, as when a person says no (so
no `--use-fake-ui-for-media-stream`, which would accept every prompt).
Chromium on Linux has no BarcodeDetector of its own, so the vendored polyfill and its
WebAssembly reader, loaded from our static files under the strict CSP, do the reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from tests.e2e.camera import barcode_video
from tests.e2e.conftest import VIEWPORTS, LiveServer, MakePage, Viewport
from tests.e2e.pages import SignInPage, Wizard

OWNER = "owner@demo.example"
VIN = "WAUZZZ8V5KA106598"
VIN_LABEL = "Vehicle identification number (VIN)"
DETAILS_HEADING = "Which Audi electric vehicle is it?"
READ_MESSAGE = f"Read {VIN} — check it against the device."
BLOCKED = "The camera is blocked for this site."
NO_CAMERA = "No camera was found on this device."

Screenshot = Callable[[Page, str], Path | None]
# Installers hold a tablet either way up.
TABLET_LANDSCAPE = Viewport("tablet-landscape", 1180, 820, mobile=True)
EVERY_SIZE = [*VIEWPORTS.values(), TABLET_LANDSCAPE]


@pytest.fixture(scope="module")
def camera_browser(
    playwright: Playwright,
    browser_type_launch_args: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Browser]:
    """Chromium whose camera films a VIN barcode (the permission is each context's to give)."""
    video = barcode_video(tmp_path_factory.mktemp("camera") / "vin.y4m", VIN)
    browser = playwright.chromium.launch(
        **{
            **browser_type_launch_args,
            "args": [
                *browser_type_launch_args["args"],
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        }
    )
    yield browser
    browser.close()


def audi_details(page: Page, live_server: LiveServer) -> Wizard:
    """Signed in as the owner, on the Audi's VIN question."""
    SignInPage(page).open().sign_in(OWNER, live_server.users[OWNER]).connect_a_device()
    wizard = Wizard(page)
    wizard.answer("Who made your electric vehicle?", choice="Electric vehicle")
    wizard.answer(DETAILS_HEADING, choice="Audi")
    return wizard


def scan_button(page: Page) -> Locator:
    # Its name also says which field it fills: "Scan Vehicle identification number (VIN)".
    return page.get_by_role("button", name=f"Scan {VIN_LABEL}", exact=True)


def scan_panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Scan the code")


@pytest.mark.parametrize("viewport", ["phone", "tablet", "desktop"], indirect=True)
def test_scanning_a_vin_fills_the_field_and_says_what_was_read(
    make_page: MakePage,
    camera_browser: Browser,
    live_server: LiveServer,
    viewport,
    screenshot: Screenshot,
):
    page = make_page(viewport, browser=camera_browser, permissions=["camera"])
    wizard = audi_details(page, live_server)
    vin = wizard.field(VIN_LABEL)
    expect(vin).to_have_attribute("data-scan", "")
    screenshot(page, f"scan-{viewport.name}-details")

    wizard.audit("before scanning")
    scan_button(page).click()

    expect(vin).to_have_value(VIN)
    message = page.get_by_text(READ_MESSAGE, exact=True)
    expect(message).to_be_visible()
    expect(message).to_have_attribute("aria-live", "polite")
    expect(scan_panel(page)).to_be_hidden()
    # Focus is back on the button (no on-screen keyboard over what was read).
    expect(scan_button(page)).to_be_focused()
    # Reading ended the camera: no track is left running.
    assert page.evaluate(NO_LIVE_TRACKS)
    wizard.audit("after a read")
    screenshot(page, f"scan-{viewport.name}-read")

    # The read goes through the server's rules like typing: accepted, and shown back.
    wizard.continue_()
    wizard.expect_heading(Wizard.CHECK_HEADING)
    assert wizard.answers()[VIN_LABEL] == VIN


@pytest.mark.parametrize("viewport", ["phone", "tablet", "desktop"], indirect=True)
def test_a_refused_camera_is_explained_and_typing_still_works(
    make_page: MakePage,
    camera_browser: Browser,
    live_server: LiveServer,
    viewport,
    screenshot: Screenshot,
):
    page = make_page(viewport, browser=camera_browser)  # no camera permission: refused
    wizard = audi_details(page, live_server)

    scan_button(page).click()

    panel = scan_panel(page)
    expect(panel.get_by_role("status")).to_contain_text(BLOCKED)
    expect(panel.get_by_role("button", name="Try again")).to_be_visible()
    wizard.audit("camera refused")
    screenshot(page, f"scan-{viewport.name}-refused")

    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()
    expect(scan_button(page)).to_be_focused()
    wizard.answer(Wizard.CHECK_HEADING, fields={VIN_LABEL: VIN})


@pytest.mark.parametrize("size", EVERY_SIZE, ids=lambda size: size.name)
def test_cancel_and_escape_stop_the_camera(
    make_page: MakePage,
    camera_browser: Browser,
    live_server: LiveServer,
    size: Viewport,
    screenshot: Screenshot,
):
    """Cancel before a read: the panel closes, the field is as it was, the camera is off."""
    page = make_page(size, browser=camera_browser, permissions=["camera"])
    audi_details(page, live_server)
    vin = page.get_by_label(VIN_LABEL, exact=True)
    # Hold every read back, so the panel stays open while the camera runs.
    page.route(re.compile(r"/static/vendor/barcode-detector/ponyfill\.js"), lambda route: None)

    scan_button(page).click()
    panel = scan_panel(page)
    expect(panel).to_be_visible()
    expect(panel.get_by_role("status")).to_have_text("Starting the camera…")
    page.wait_for_function(LIVE_TRACKS_RUNNING)
    Wizard(page).audit("camera running")
    screenshot(page, f"scan-{size.name}-camera")

    panel.get_by_role("button", name="Cancel").click()

    expect(panel).to_be_hidden()
    page.wait_for_function(NO_LIVE_TRACKS)
    expect(vin).to_have_value("")
    expect(scan_button(page)).to_be_focused()

    scan_button(page).click()
    expect(panel).to_be_visible()
    page.wait_for_function(LIVE_TRACKS_RUNNING)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    page.wait_for_function(NO_LIVE_TRACKS)


# The panel's video shows the camera while it runs; both ways to stop end its tracks.
LIVE_TRACKS_RUNNING = """() => [...document.querySelectorAll('video')].some(
  (v) => v.srcObject && v.srcObject.getTracks().some((t) => t.readyState === 'live'))"""
NO_LIVE_TRACKS = "() => [...document.querySelectorAll('video')].every((v) => !v.srcObject)"


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_without_a_camera_the_panel_says_so(page: Page, live_server: LiveServer):
    """The session's Chromium has no camera at all: the button explains, typing works."""
    wizard = audi_details(page, live_server)

    scan_button(page).click()

    panel = scan_panel(page)
    expect(panel.get_by_role("status")).to_contain_text(NO_CAMERA)
    wizard.audit("no camera")
    panel.get_by_role("button", name="Close").click()
    wizard.answer(Wizard.CHECK_HEADING, fields={VIN_LABEL: VIN})


def test_without_javascript_there_is_no_scan_button(nojs_page: Page, live_server: LiveServer):
    wizard = audi_details(nojs_page, live_server)

    expect(nojs_page.get_by_role("button", name=re.compile("Scan"))).to_have_count(0)
    expect(nojs_page.get_by_role("dialog")).to_have_count(0)
    wizard.answer(Wizard.CHECK_HEADING, fields={VIN_LABEL: VIN})


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_value_counts_only_after_two_identical_reads_in_a_row(
    page: Page, live_server: LiveServer
):
    audi_details(page, live_server)
    script = page.locator("template[data-scan-for]").get_attribute("data-scan-script")

    accepted = page.evaluate(
        """async (url) => {
          const { confirmer } = await import(url);
          const agree = confirmer();
          return ["A", "B", "A", "A", "C", "C"].map((value) => agree(value));
        }""",
        script,
    )

    assert accepted == [False, False, False, True, False, True]
