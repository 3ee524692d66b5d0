"""Too many failed sign-ins: the form says how long to wait, at every size and in Dutch."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, Viewport
from tests.e2e.pages import SignInPage
from tests.e2e.test_accessibility import Screenshot, switch_language
from tests.e2e.test_owner_journey import OWNER


def test_too_many_failed_sign_ins_say_how_long_to_wait(
    page: Page, live_server: LiveServer, viewport: Viewport, screenshot: Screenshot
) -> None:
    live_server.app.config["SIGN_IN_ACCOUNT_LIMIT"] = "2 per 10 minutes"
    view = SignInPage(page).open()
    for _ in range(2):
        view.fill("Email address", OWNER)
        view.fill("Password", "not the password")
        view.press("Sign in")
        view.expect_errors("The email address or the password is not right.")

    view.fill("Password", "not the password either")
    view.press("Sign in")

    view.expect_errors("Too many failed sign-ins. Wait 10 minutes, then try again.")
    expect(view.field("Email address")).to_have_value(OWNER)
    view.audit("sign-in: too many tries")
    screenshot(page, f"sign-in-too-many-{viewport.name}")
    switch_language(page, "nl")
    page.locator("input[name=email]").fill(OWNER)
    page.locator("input[name=password]").fill("not the password")
    view.press("Aanmelden")
    expect(page.locator("[data-error-summary]")).to_contain_text("Te veel mislukte aanmeldpogingen")
    view.audit("sign-in: too many tries (nl)")
