"""Page objects for the browser tests: what a person sees and does, found by role and label.

They work the same with JavaScript on (htmx swaps the page and pushes the URL) and off
(a full page load), because every method either acts or waits for something a person
would see. They never sleep: Playwright's `expect` retries until its timeout.

Every page and state they reach is audited for accessibility (tests/e2e/a11y.py): after each
wait for a page (`expect_heading`), on each error, and before each action, so a journey
written with them is checked wherever it goes.

    home = SignInPage(page).open().sign_in(email, password)
    wizard = home.connect_a_device()
    wizard.choose("Retrofit meter reader")
    wizard.continue_()
    wizard.expect_heading("Who made your retrofit meter reader?")
"""

from __future__ import annotations

import re
from re import Pattern

from playwright.sync_api import Locator, Page, expect

from tests.e2e.a11y import audit

ERROR_SUMMARY_TITLE = "There is a problem"


def path_pattern(*parts: str) -> Pattern[str]:
    """A URL pattern ending with `parts` joined by "/", where "{id}" stands for a UUID.

    path_pattern("onboarding", "{id}", "details") matches .../onboarding/<uuid>/details.
    """
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    path = "/".join(uuid if part == "{id}" else re.escape(part) for part in parts)
    return re.compile(rf"^[^?#]*/{path}(?:[?#].*)?$")


class AppPage:
    """Any page of the app: headings, fields, radios, buttons, links, errors and notices."""

    def __init__(self, page: Page) -> None:
        self.page = page

    # ------------------------------------------------------------ reading the page

    @property
    def heading(self) -> Locator:
        """The page's one level-1 heading."""
        return self.page.get_by_role("heading", level=1)

    def expect_heading(self, text: str | Pattern[str]) -> None:
        """Wait until the page's heading is `text` (also how to wait for the next page).

        The page is then audited for accessibility.
        """
        expect(self.heading).to_have_text(text)
        self.audit(f"heading {text if isinstance(text, str) else text.pattern!r}")

    def audit(self, where: str = "") -> None:
        """Fail unless the page as it is now passes the accessibility checks."""
        audit(self.page, where)

    def expect_url(self, pattern: str | Pattern[str]) -> None:
        expect(self.page).to_have_url(pattern)

    def expect_title(self, pattern: str | Pattern[str]) -> None:
        expect(self.page).to_have_title(pattern)

    def notice(self, text: str | Pattern[str]) -> Locator:
        """A status message on the page (a flash notice) holding `text`."""
        return self.page.get_by_role("status").filter(has_text=text)

    @property
    def progress(self) -> Locator:
        """The "Step 2 of 5" line above a question."""
        return self.page.get_by_text(re.compile(r"^Step \d+ of \d+$"))

    def back_link(self) -> Locator:
        return self.page.get_by_role("link", name="Back", exact=True)

    def answers(self) -> dict[str, str]:
        """A summary list (check answers, a device's details) as {key: value}."""
        keys = self.page.get_by_role("term")
        expect(keys.first).to_be_visible()
        rows: dict[str, str] = {}
        for key in keys.all():
            value = key.locator("xpath=following-sibling::dd[1]")
            rows[key.inner_text().strip()] = value.inner_text().strip()
        return rows

    # ------------------------------------------------------------ acting

    def field(self, label: str) -> Locator:
        """A form control found by its label text (exact)."""
        return self.page.get_by_label(label, exact=True)

    def fill(self, label: str, value: str) -> None:
        self.audit(f"before filling {label!r}")
        self.field(label).fill(value)

    def radio(self, label: str) -> Locator:
        return self.page.get_by_role("radio", name=label, exact=True)

    def choose(self, label: str) -> None:
        """Pick the radio whose label is `label`."""
        self.audit(f"before choosing {label!r}")
        self.radio(label).check()

    def button(self, name: str | Pattern[str]) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    def press(self, name: str | Pattern[str]) -> None:
        """Click the button called `name`."""
        self.audit(f"before pressing {name!r}")
        self.button(name).click()

    def continue_(self) -> None:
        """Submit a question with its "Continue" button."""
        self.press("Continue")

    def link(self, name: str | Pattern[str]) -> Locator:
        return self.page.get_by_role("link", name=name, exact=isinstance(name, str))

    def follow(self, name: str | Pattern[str]) -> None:
        """Click the link called `name`."""
        self.audit(f"before following {name!r}")
        self.link(name).click()

    # ------------------------------------------------------------ errors

    @property
    def error_summary(self) -> Locator:
        """The "There is a problem" box at the top of a page with errors."""
        return self.page.get_by_role("alert", name=ERROR_SUMMARY_TITLE)

    def error_messages(self) -> list[str]:
        """The messages listed in the error summary (each links to its field)."""
        expect(self.error_summary).to_be_visible()
        return [text.strip() for text in self.error_summary.get_by_role("link").all_inner_texts()]

    def expect_errors(self, *messages: str) -> None:
        """The error summary lists exactly `messages`, in order."""
        expect(self.error_summary.get_by_role("link")).to_have_text(list(messages))
        self.audit("error summary")

    def expect_field_error(self, label: str, message: str) -> None:
        """The field called `label` is marked invalid and `message` is shown with it."""
        control = self.field(label)
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(control).to_have_accessible_description(re.compile(re.escape(message)))

    def expect_error_page(self, label: str, message: str) -> None:
        """A question answered wrongly: title, summary, field and focus all say so.

        The summary's link leads to the field.
        """
        self.expect_errors(message)
        self.expect_field_error(label, message)
        self.expect_title(re.compile(r"^Error: "))
        expect(self.error_summary).to_be_focused()
        link = self.error_summary.get_by_role("link", name=message)
        field_id = self.field(label).get_attribute("id")
        expect(link).to_have_attribute("href", f"#{field_id}")
        self.audit(f"error on {label!r}")

    def expect_no_errors(self) -> None:
        expect(self.error_summary).to_have_count(0)
        expect(self.page).not_to_have_title(re.compile(r"^Error: "))


class SignInPage(AppPage):
    """/auth/login."""

    def open(self, path: str = "/auth/login") -> SignInPage:
        self.page.goto(path)
        self.expect_heading("Sign in")
        return self

    def sign_in(self, email: str, password: str) -> HomePage:
        """Sign in and land on the home page."""
        self.fill("Email address", email)
        self.fill("Password", password)
        self.press("Sign in")
        home = HomePage(self.page)
        home.expect_heading(HomePage.HEADING)
        return home


class HomePage(AppPage):
    """The signed-in home page: unfinished requests and connected devices."""

    HEADING = "Your devices"

    def open(self) -> HomePage:
        self.page.goto("/")
        self.expect_heading(self.HEADING)
        return self

    def connect_a_device(self) -> AppPage:
        """Start a new request: lands on the first question."""
        self.follow("Connect a device")
        wizard = AppPage(self.page)
        wizard.expect_heading("What kind of device do you want to connect?")
        return wizard

    @property
    def unfinished(self) -> Locator:
        """The "Continue where you left off" section."""
        return self.page.get_by_role("region", name="Continue where you left off")

    def continue_with(self, device: str | Pattern[str]) -> AppPage:
        """Resume an unfinished request by its device name ("Xenn retrofit meter reader")."""
        name = (
            device
            if isinstance(device, Pattern)
            else re.compile(rf"^Continue with {re.escape(device)}")
        )
        self.audit("before continuing an unfinished request")
        self.unfinished.get_by_role("link", name=name).click()
        return AppPage(self.page)

    @property
    def connected(self) -> Locator:
        """The "Connected devices" section."""
        return self.page.get_by_role("region", name="Connected devices")

    @property
    def device_rows(self) -> Locator:
        """One table row per connected device (the header row left out)."""
        return self.connected.get_by_role("row").filter(
            has_not=self.page.get_by_role("columnheader")
        )


class Wizard(AppPage):
    """The owner's wizard: question pages, check answers, consent steps."""

    TYPE_HEADING = "What kind of device do you want to connect?"
    GROUP_HEADING = "Add this device to a group?"
    CHECK_HEADING = "Check your answers"
    CONSENT_HEADING = "Give your consent"
    TERMS_HEADING = "Agree to share your device's data"
    PAIRING_HEADING = "Enter the pairing code"

    def answer(
        self,
        then: str | Pattern[str],
        *,
        choice: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        """Pick `choice` and/or fill `fields` (label -> value), continue, and wait for `then`."""
        if choice is not None:
            self.choose(choice)
        for label, value in (fields or {}).items():
            self.fill(label, value)
        self.continue_()
        self.expect_heading(then)

    def start(
        self,
        device_kind: str,
        manufacturer: str,
        fields: dict[str, str],
        group: str | None = "Home",
    ) -> None:
        """From the first question to "Check your answers", every answer valid.

        The manufacturer question is skipped when the type has only one. `group` is chosen
        from check answers ("Change group"); None leaves the device in no group (or the
        tenant has none).
        """
        self.expect_heading(self.TYPE_HEADING)
        details = re.compile(
            rf"^Which {re.escape(manufacturer)} {re.escape(device_kind.lower())} is it\?$"
        )
        asked = re.compile(rf"^Who made your {re.escape(device_kind.lower())}\?$")
        after_type = details if fields else re.compile(rf"^{self.CHECK_HEADING}$")
        self.answer(re.compile(f"{asked.pattern}|{after_type.pattern}"), choice=device_kind)
        if asked.match(self.heading.inner_text().strip()):
            self.answer(after_type, choice=manufacturer)
        if fields:
            self.answer(self.CHECK_HEADING, fields=fields)
        if group is not None:
            self.choose_group(group)

    def choose_group(self, group: str) -> None:
        """Check answers offers the group: change it there, and come back."""
        self.expect_heading(self.CHECK_HEADING)
        self.follow("Change group")
        self.answer(self.CHECK_HEADING, choice=group)

    def send(self, then: str | Pattern[str] | None = None) -> None:
        """Agree on check answers (the declaration): the request is sent and the terms
        agreed; lands on the next step's page (`then`), or at the manufacturer."""
        self.press(re.compile(r"^Agree and continue"))
        if then is not None:
            self.expect_heading(then)

    def next_step(self, heading: str | Pattern[str]) -> None:
        """From the consent task list, continue to the next step."""
        self.expect_heading(self.CONSENT_HEADING)
        self.follow("Continue")
        self.expect_heading(heading)

    def agree_to_terms(self) -> None:
        """Accept the data-sharing terms on their own page (a request sent from another
        door): back on the task list."""
        self.expect_heading(self.TERMS_HEADING)
        self.press("I agree")
        self.expect_heading(self.CONSENT_HEADING)

    def enter_pairing_code(self, code: str) -> None:
        """Type a pairing code and send it (the caller checks where it led)."""
        self.expect_heading(self.PAIRING_HEADING)
        self.fill("Pairing code", code)
        self.press("Pair the device")
