"""Accessibility beyond what every journey already checks (tests/e2e/a11y.py audits each page
and state the page objects reach): a journey done with the keyboard alone, the main journey
at 320 px wide with reduced motion, the waiting page that updates by itself, and the pages no
journey passes through (sign-in errors, 404 and 403, the API keys page, the API reference,
the sandbox's problem pages) at every size and in every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import ElementHandle, Locator, Page, expect

from app.consent.providers import get_provider
from tests.e2e.a11y import audit, focus_is_visible
from tests.e2e.conftest import LiveServer, MakePage, Viewport
from tests.e2e.pages import AppPage, HomePage, SignInPage, Wizard
from tests.e2e.test_owner_journey import OWNER, XENN, onboard, shooter

ADMIN = "admin@demo.example"
LANGUAGES = ("en", "nl", "fr", "de")
Screenshot = Callable[[Page, str], Path | None]
desktop_only = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
NARROW = Viewport("narrow", 320, 640, mobile=True)  # WCAG 1.4.10: reflow at 320 CSS px

# ---------------------------------------------------------------- the keyboard alone


class Keyboard:
    """Drives a page with keys only, and checks that every stop shows where focus is."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops: list[str] = []  # every element Tab stopped on, for the failure message

    def _focused(self, target: ElementHandle) -> bool:
        return self.page.evaluate("(el) => el === document.activeElement", target)

    def _active(self) -> str:
        return self.page.evaluate(
            """() => { const el = document.activeElement;
              return `<${el.tagName.toLowerCase()}> ${(el.innerText || el.value || "")
                .replace(/\\s+/g, " ").trim().slice(0, 40)}`; }"""
        )

    def tab_to(self, target: Locator, *, backwards: bool = False, limit: int = 30) -> None:
        """Press Tab (Shift+Tab) until `target` has focus; each stop must show its focus."""
        expect(target).to_be_visible()
        handle = target.element_handle()
        assert handle is not None
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            self.stops.append(self._active())
            assert focus_is_visible(self.page), f"focus is not visible on {self.stops[-1]}"
            if self._focused(handle):
                return
        raise AssertionError(f"{target} never got focus; Tab stopped on: {self.stops[-limit:]}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def replace(self, text: str) -> None:
        """Select what the focused field holds and type `text` over it."""
        self.page.keyboard.press("ControlOrMeta+A")
        self.page.keyboard.type(text)

    def arrow_to(self, radio: Locator, limit: int = 10) -> None:
        """Move through a radio group with the arrow keys until `radio` is chosen."""
        handle = radio.element_handle()
        assert handle is not None
        for _ in range(limit):
            if self._focused(handle):
                break
            self.press("ArrowDown")
            assert focus_is_visible(self.page), f"focus is not visible on {self._active()}"
        expect(radio).to_be_focused()
        expect(radio).to_be_checked()


def expect_swapped_to(wizard: AppPage, heading: str | re.Pattern[str]) -> None:
    """After an htmx swap the new page's h1 has focus (and the page passes its audit)."""
    wizard.expect_heading(heading)
    expect(wizard.heading).to_be_focused()


@desktop_only
def test_owner_connects_a_xenn_meter_with_the_keyboard_alone(
    page: Page, live_server: LiveServer
) -> None:
    keys = Keyboard(page)
    wizard = Wizard(page)
    signin = SignInPage(page).open()

    # Sign in: the password first, then back to the email with Shift+Tab.
    keys.tab_to(signin.field("Password"))
    keys.type(live_server.users[OWNER])
    keys.tab_to(signin.field("Email address"), backwards=True)
    keys.type(OWNER)
    keys.press("Enter")
    home = HomePage(page)
    home.expect_heading(HomePage.HEADING)

    # The skip link is the first stop and leads into the page.
    keys.tab_to(page.get_by_role("link", name="Skip to main content"), limit=1)
    keys.press("Enter")
    keys.tab_to(home.link("Connect a device"))
    keys.press("Enter")
    expect_swapped_to(wizard, Wizard.TYPE_HEADING)

    keys.tab_to(page.get_by_role("radio").first, limit=1)
    keys.arrow_to(wizard.radio(XENN.kind))
    keys.tab_to(wizard.button("Continue"))
    keys.press("Enter")
    expect_swapped_to(wizard, "Who made your retrofit meter reader?")

    keys.tab_to(wizard.radio("Xenn"), limit=1)
    keys.press("Space")
    expect(wizard.radio("Xenn")).to_be_checked()
    keys.tab_to(wizard.button("Continue"))
    keys.press("Enter")
    details = "Which Xenn retrofit meter reader is it?"
    expect_swapped_to(wizard, details)

    # A wrong reference: focus goes to the error summary, whose link leads to the field.
    keys.tab_to(wizard.field(XENN.field), limit=1)
    keys.type(XENN.wrong)
    keys.press("Enter")
    wizard.expect_errors(XENN.wrong_message)
    expect(wizard.error_summary).to_be_focused()
    keys.tab_to(wizard.error_summary.get_by_role("link", name=XENN.wrong_message), limit=1)
    keys.press("Enter")
    expect(wizard.field(XENN.field)).to_be_focused()
    keys.replace(XENN.right)
    keys.press("Enter")
    expect_swapped_to(wizard, Wizard.GROUP_HEADING)

    keys.tab_to(wizard.radio("Home"), limit=1)
    keys.press("Space")
    expect(wizard.radio("Home")).to_be_checked()
    keys.tab_to(wizard.button("Continue"))
    keys.press("Enter")
    expect_swapped_to(wizard, Wizard.CHECK_HEADING)

    keys.tab_to(wizard.button("Send and continue"))
    keys.press("Enter")
    expect_swapped_to(wizard, Wizard.CONSENT_HEADING)

    keys.tab_to(page.get_by_role("link", name="Continue", exact=True))
    keys.press("Enter")
    expect_swapped_to(wizard, Wizard.TERMS_HEADING)

    # The terms scroll in a box of their own, which takes focus so keys can scroll it.
    keys.tab_to(page.get_by_role("region", name=re.compile("^Data-sharing terms")), limit=1)
    keys.tab_to(wizard.button("I agree"), limit=1)
    keys.press("Enter")
    expect_swapped_to(wizard, Wizard.CONSENT_HEADING)

    keys.tab_to(page.get_by_role("link", name="Continue", exact=True))
    keys.press("Enter")
    expect_swapped_to(wizard, Wizard.PAIRING_HEADING)

    keys.tab_to(wizard.field("Pairing code"), limit=1)
    keys.type("000000")
    keys.press("Enter")
    wizard.expect_errors(
        "This pairing code does not match the device. Check the code and try again."
    )
    expect(wizard.error_summary).to_be_focused()
    keys.tab_to(wizard.field("Pairing code"), limit=2)
    keys.replace(XENN.pairing_code)
    keys.press("Enter")
    expect_swapped_to(wizard, "Your retrofit meter reader is connected")
    assert wizard.answers()["Status"] == "Connected"


# ---------------------------------------------------------------- narrow, and less motion


def test_owner_journey_at_320_px_dark_with_reduced_motion(
    make_page: MakePage, live_server: LiveServer, screenshot: Screenshot
) -> None:
    # Every audit on the way checks that nothing scrolls sideways and nothing moves, and axe
    # checks the dark scheme's contrast.
    page = make_page(NARROW, reduced_motion="reduce", color_scheme="dark")
    onboard(
        page, live_server, XENN, shooter(page, screenshot, "owner-xenn-js-320"), javascript=True
    )


LOADING_BAR_ANIMATION = """() => {
  const bar = document.getElementById("loading");
  bar.classList.add("htmx-request");  // what htmx does while a request is on its way
  const style = getComputedStyle(bar, "::before");
  const result = [style.animationName, parseFloat(style.animationDuration)];
  bar.classList.remove("htmx-request");
  return result;
}"""


@desktop_only
def test_the_loading_bar_moves_only_for_readers_who_accept_motion(
    page: Page, make_page: MakePage
) -> None:
    page.goto("/auth/login")
    name, duration = page.evaluate(LOADING_BAR_ANIMATION)
    assert name != "none" and duration > 0  # so the check below means something

    calm = make_page("desktop", reduced_motion="reduce")
    calm.goto("/auth/login")
    name, duration = calm.evaluate(LOADING_BAR_ANIMATION)
    assert name == "none" or duration == 0, (name, duration)


def test_app_approval_waiting_page_is_announced_and_calm(
    make_page: MakePage, live_server: LiveServer
) -> None:
    # Phone size, reduced motion: the page that updates by itself, then moves on by itself.
    page = make_page("phone", reduced_motion="reduce")
    SignInPage(page).open().sign_in(OWNER, live_server.users[OWNER]).connect_a_device()
    wizard = Wizard(page)
    wizard.start(
        "Electric vehicle", "Kia", {"Vehicle identification number (VIN)": "KNAZZZ8V0KA000000"}
    )
    wizard.send()
    wizard.next_step(Wizard.TERMS_HEADING)
    wizard.agree_to_terms()
    wizard.next_step("Allow access in the Kia app")
    wizard.press("Send the request to my Kia app")

    live = page.locator("[aria-live=polite]").filter(
        has_text="Waiting for your approval in the Kia app"
    )
    expect(live).to_be_visible()
    wizard.audit("waiting for the app")  # the polling element sits in the live region
    spinner = live.locator(".spinner")
    assert spinner.evaluate("(el) => getComputedStyle(el).animationName") == "none"

    app_tab = page.context.new_page()
    app_tab.goto(
        live.get_by_role("link", name=re.compile(r"^Open the Kia app")).get_attribute("href") or ""
    )
    app_screen = AppPage(app_tab)
    app_screen.expect_heading("Kia app (sandbox)")
    app_screen.press("Approve")
    expect(app_screen.notice("You approved the request.")).to_be_visible()

    wizard.expect_heading("Your electric vehicle is connected")
    # The news is in a status region, so it is announced without moving focus.
    expect(
        page.get_by_role("status").filter(has_text="Your electric vehicle is connected")
    ).to_be_visible()


# ---------------------------------------------------------------- pages no journey reaches


def switch_language(page: Page, code: str) -> None:
    """Use the header's switch (it is remembered); the page comes back in that language."""
    page.locator(f".language-switch a[hreflang={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def sandbox_sign_in_url(live_server: LiveServer, provider: str = "audi") -> str:
    """The sandbox's sign-in page as our app would send an owner there (a made-up state)."""
    with live_server.app.test_request_context(base_url=live_server.url):
        sandbox = get_provider(provider)
        return (
            sandbox.authorize_url
            + "?"
            + urlencode(
                {
                    "response_type": "code",
                    "client_id": sandbox.client_id,
                    "redirect_uri": sandbox.redirect_uri,
                    "scope": sandbox.scope,
                    "state": "made-up",
                    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                    "code_challenge_method": "S256",
                }
            )
        )


def test_pages_outside_the_journeys_in_every_language(
    page: Page, live_server: LiveServer, viewport: Viewport
) -> None:
    if viewport.name == "tablet":
        page.emulate_media(color_scheme="dark")  # one size in the dark scheme too
    view = AppPage(page)
    view.page.goto("/auth/login")
    for code in LANGUAGES:
        switch_language(page, code)
        view.audit(f"sign-in ({code})")
        page.locator("form button[type=submit]").last.click()  # nothing typed: errors
        expect(view.page.locator("[data-error-summary]")).to_be_focused()
        view.audit(f"sign-in errors ({code})")
        page.goto("/no-such-page")
        expect(view.heading).to_be_visible()
        view.audit(f"404 ({code})")
        page.goto("/sandbox/audi/authorize?client_id=unknown")
        expect(view.heading).to_be_visible()
        view.audit(f"sandbox problem ({code})")
        page.goto(sandbox_sign_in_url(live_server))
        page.locator("input[name=account]").fill("silent@sandbox.example")
        view.audit(f"sandbox sign-in ({code})")
        page.locator("button[value=allow]").click()  # this account never comes back
        expect(page.locator("html")).to_have_attribute("lang", code)
        expect(view.heading).not_to_have_text(re.compile("Audi"))
        view.audit(f"sandbox window closed ({code})")
        page.goto("/consent/callback/audi?state=made-up&code=nothing")
        expect(view.heading).to_be_visible()
        view.audit(f"sign-in callback problem ({code})")
        page.goto("/auth/login")

    switch_language(page, "en")
    SignInPage(page).open().sign_in(ADMIN, live_server.users[ADMIN])
    for code in LANGUAGES:
        switch_language(page, code)
        view.audit(f"home ({code})")
        page.goto("/admin/api-keys")
        expect(view.heading).to_be_visible()
        page.locator("main form button[type=submit]").last.click()  # no name: an error
        summary = page.locator("[data-error-summary]")  # its title is in the page's language
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
        view.audit(f"API keys, an error ({code})")
        page.locator("#name").fill(f"Partner app {code}")
        page.locator("main form button[type=submit]").last.click()
        expect(page.locator("#new-api-key")).to_be_visible()
        view.audit(f"API keys, a new key ({code})")
        page.locator("table a.link-button--warning").first.click()  # revoke: asks first
        expect(page.locator("main form button.button--warning")).to_be_visible()
        view.audit(f"API keys, revoke? ({code})")
        page.locator("main form button.button--warning").click()
        expect(page.locator("table .tag--canceled")).not_to_have_count(0)
        view.audit(f"API keys, a key revoked ({code})")
        page.goto("/no-such-page")
        view.audit(f"404 signed in ({code})")

    # Signed in as someone who may not see the admin area: it is not there for them.
    owner = SignInPage(page)
    page.context.clear_cookies()
    owner.open().sign_in(OWNER, live_server.users[OWNER])
    page.goto("/admin/api-keys")
    view.expect_heading("Page not found")

    page.goto("/api/v1/docs")
    expect(page.get_by_text("Create an Entity Onboarding Request").first).to_be_visible()
    view.audit("the API reference")


# ---------------------------------------------------------------- the audit itself


BREAKAGES = {
    # what to break (run in the page) -> what the audit must say
    "image-alt": "document.querySelector('main').append(document.createElement('img'))",
    "scrolls sideways": "(() => { const wide = document.createElement('div');"
    " wide.style.width = '2000px'; wide.textContent = 'wide';"
    " document.querySelector('main').append(wide); })()",
    "target smaller than 44x44px": "(() => { const b = document.createElement('button');"
    " b.textContent = 'x'; b.style.minHeight = '0';"
    " b.style.padding = '0'; b.style.width = 'auto';"
    " document.querySelector('main').append(b); })()",
    "updates by itself outside an aria-live region": (
        "document.querySelector('main p').setAttribute('hx-trigger', 'every 60s')"
    ),
    "after an htmx swap focus is on": "window.__a11ySwapped = true; document.activeElement.blur()",
}


@desktop_only
@pytest.mark.parametrize("rule", list(BREAKAGES))
def test_the_audit_fails_a_page_that_breaks(page: Page, rule: str) -> None:
    page.goto("/auth/login")
    audit(page, "as served")
    page.evaluate(BREAKAGES[rule])
    with pytest.raises(AssertionError, match=re.escape(rule)):
        audit(page, f"broken: {rule}", force=True)
    page.reload()  # the test ends on a clean page, which the teardown audits again


def test_the_audit_runs_axe_without_javascript_too(nojs_page: Page) -> None:
    # axe waits on timers, which never fire with scripts off; the audit works around it.
    nojs_page.goto("/auth/login")
    audit(nojs_page, "as served")
    nojs_page.evaluate(BREAKAGES["image-alt"])
    with pytest.raises(AssertionError, match="image-alt"):
        audit(nojs_page, "broken: image-alt", force=True)
    nojs_page.reload()


def test_the_audit_fails_motion_when_less_was_asked(make_page: MakePage) -> None:
    page = make_page("desktop", reduced_motion="reduce")
    page.goto("/auth/login")
    audit(page, "as served")
    # A CSS animation that beats the stylesheet's reduced-motion rule...
    page.evaluate(
        "document.querySelector('h1').style"
        ".setProperty('animation', 'spin 1s infinite', 'important')"
    )
    with pytest.raises(AssertionError, match=r"animates despite .*<h1.* \(spin\)"):
        audit(page, "broken: CSS motion", force=True)
    page.reload()
    # ...and one started by a script.
    page.evaluate(
        "document.querySelector('h1').animate("
        "[{opacity: 0}, {opacity: 1}], {duration: 1000, iterations: Infinity})"
    )
    with pytest.raises(AssertionError, match="animates despite prefers-reduced-motion"):
        audit(page, "broken: scripted motion", force=True)
    page.reload()
