"""An owner whose Audi's grant was revoked at Audi reconnects it in the browser: the
home page says so, "Reconnect" leads to the Audi step alone, and the same device is
connected again. And the identifier step's word about a device already connected."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.jobs.tasks import check_grants
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import AppPage, HomePage, Wizard, path_pattern
from tests.e2e.test_consent_journeys import (
    EV,
    VIN,
    VIN_LABEL,
    answer_at_the_manufacturer,
    at_the_manufacturer,
    entities,
    expect_connected,
    send_request,
    to_sign_in_step,
)

Screenshot = Callable[[Page, str], Path | None]
SIGN_IN_STEP = "Sign in at Audi and allow access"


def connect_audi(page: Page, live_server: LiveServer, account: str) -> None:
    wizard = send_request(page, live_server)
    to_sign_in_step(wizard)
    answer_at_the_manufacturer(at_the_manufacturer(page), account)
    expect_connected(page)


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
def test_owner_reconnects_a_revoked_audi(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    connect_audi(page, live_server, "revoked@sandbox.example")
    [connected] = entities(live_server)
    check_grants.call_local()  # what the consumer does every 30 minutes

    home = HomePage(page).open()
    section = page.get_by_role("region", name="Needs reconnecting")
    expect(section).to_contain_text("Audi no longer gives us access to this device")
    expect(home.device_rows.first).to_contain_text("Needs reconnecting")
    home.audit("with a device that needs reconnecting")
    size = page.viewport_size or {"width": 0}
    screenshot(page, f"home-needs-reconnect-{size['width']}")

    section.get_by_role("button", name=re.compile(r"^Reconnect")).click()
    step = AppPage(page)
    step.expect_heading(SIGN_IN_STEP)  # one screen, then Audi's own pages
    step.expect_url(path_pattern("onboarding", "{id}", "steps", "1"))
    step.audit("the reconnect step")
    answer_at_the_manufacturer(at_the_manufacturer(page))

    expect_connected(page)
    [renewed] = entities(live_server)
    assert (renewed.id, renewed.status) == (connected.id, "Connected")
    assert renewed.request_id != connected.request_id
    home = HomePage(page).open()
    expect(page.get_by_role("region", name="Needs reconnecting")).to_have_count(0)
    expect(home.device_rows.first).to_contain_text("Connected")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_identifier_step_says_the_audi_is_connected(
    page: Page, live_server: LiveServer, screenshot: Screenshot
) -> None:
    connect_audi(page, live_server, "owner@sandbox.example")
    HomePage(page).open().connect_a_device()
    wizard = Wizard(page)
    wizard.answer(re.compile(r"^Who made your electric vehicle\?$"), choice=EV)
    wizard.answer(re.compile(r"^Which Audi electric vehicle is it\?$"), choice="Audi")
    wizard.fill(VIN_LABEL, VIN)
    wizard.continue_()

    notice = page.locator("#device-taken")
    expect(notice).to_contain_text("This Audi (WAUZZZ…000) is connected since")
    expect(wizard.field(VIN_LABEL)).to_have_value(VIN)
    wizard.audit("the device-already-connected notice")
    screenshot(page, "wizard-device-connected-1280")
    notice.get_by_role("link", name="See it among your devices").click()
    expect(page).to_have_url(re.compile(r"/#device-"))
    assert len(entities(live_server)) == 1
