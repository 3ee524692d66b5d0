"""An admin walks the tenant admin area from the header: invites someone, changes a role,
creates and renames a group, creates an API key (copied) and revokes it after confirming,
adds a webhook endpoint and sends it a test event, sets the name and logo, and reads
the history of it all. Every page
is audited for accessibility on the way; with SCREENSHOTS=1 each is kept at desktop and
tablet width."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, Viewport
from tests.e2e.pages import AppPage, SignInPage

ADMIN = "admin@demo.example"
Screenshot = Callable[[Page, str], Path | None]
PNG = Path(__file__).resolve().parents[2] / "static" / "favicon.svg"


@pytest.mark.parametrize("viewport", ["tablet", "desktop"], indirect=True)
def test_an_admin_walks_the_admin_area(
    page: Page, live_server: LiveServer, viewport: Viewport, screenshot: Screenshot
) -> None:
    SignInPage(page).open().sign_in(ADMIN, live_server.users[ADMIN])
    admin = AppPage(page)

    def shot(name: str) -> None:
        screenshot(page, f"admin-{name}-{viewport.name}")

    admin.follow("Settings")
    admin.expect_heading("Users")
    shot("users")
    admin.fill("Email address", "nina@demo.example")
    admin.fill("Name (optional)", "Nina")
    admin.choose("Installer")
    admin.press("Send the invitation")
    expect(admin.notice(re.compile("nina@demo.example is invited"))).to_be_visible()
    admin.audit("after inviting")
    admin.follow("Nina")
    admin.expect_heading("Nina")
    shot("user")
    admin.choose("Support")
    admin.press("Save the role")
    expect(admin.notice("Nina's role is saved.")).to_be_visible()

    admin.follow("Groups")
    admin.expect_heading("Groups")
    admin.press("Create the group")
    assert admin.error_messages() == ["Enter a name for the group."]
    admin.audit("with an error")
    shot("groups-error")
    admin.fill("Name", "Oak Lane")
    admin.choose("Energy community")
    admin.press("Create the group")
    expect(admin.notice("The group Oak Lane is created.")).to_be_visible()
    shot("groups")
    admin.follow("Oak Lane")
    admin.expect_heading("Oak Lane")
    shot("group")

    admin.follow("API keys")
    admin.expect_heading("API keys")
    admin.fill("What is the key for?", "Partner app")
    admin.press("Create key")
    expect(page.locator("#new-api-key")).to_have_text(re.compile(r"^eo_"))
    expect(admin.button("Copy to the clipboard")).to_be_visible()  # JavaScript added it
    admin.audit("with the new key")
    shot("api-keys")
    page.get_by_role("link", name=re.compile(r"^Revoke")).first.click()
    admin.expect_heading(re.compile(r"^Revoke the key eo_"))
    shot("revoke-api-key")
    admin.press("Yes, revoke the key")
    expect(admin.notice(re.compile("is revoked"))).to_be_visible()

    admin.follow("Webhooks")
    admin.expect_heading("Webhooks")
    admin.fill("URL", "https://hooks.demo.example/in")
    admin.press("Add the endpoint")
    expect(page.locator("#new-webhook-secret")).to_have_text(re.compile(r"^whsec_"))
    admin.audit("with the new secret")
    shot("webhooks")
    admin.follow("https://hooks.demo.example/in")
    admin.expect_heading("https://hooks.demo.example/in")
    admin.press("Send a test event")
    expect(admin.notice(re.compile("A test event is on its way"))).to_be_visible()
    expect(page.get_by_text("webhook.test")).to_be_visible()
    admin.audit("with its delivery log")
    shot("webhook")

    admin.follow("Organisation")
    admin.expect_heading("Organisation")
    admin.field("Name").fill("Demo Energy Co-op")
    page.get_by_label("Logo (optional)").set_input_files(str(PNG))
    admin.press("Save")
    expect(admin.notice("The settings are saved.")).to_be_visible()
    expect(page.get_by_role("img", name="Logo of Demo Energy Co-op")).to_be_visible()
    admin.audit("with a logo")
    shot("settings")

    admin.follow("History")
    admin.expect_heading("History")
    expect(page.get_by_text("Changed the logo")).to_be_visible()
    expect(page.get_by_text("Invited Nina as Installer")).to_be_visible()
    shot("history")
