"""The owner's Xenn journey in Dutch, French and German, checked with axe at every page.

The expected texts are the app's own translations (read through Flask-Babel), so the test
follows the catalogs; a missing translation fails the unit tests, a wrong page fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from app.i18n import in_sentence
from tests.e2e.pages import AppPage

Translate = Callable[..., str]


def translator(live_server, language: str) -> tuple[Translate, Callable[[str], str]]:
    """gettext in `language` with the app's catalogs, and the app's in_sentence there."""

    def translate(message: str, **params: object) -> str:
        with live_server.app.test_request_context(), force_locale(language):
            return gettext(message, **params)

    def sentence(text: str) -> str:
        with live_server.app.test_request_context(), force_locale(language):
            return in_sentence(text)

    return translate, sentence


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("nl", "desktop"), ("fr", "desktop"), ("de", "desktop"), ("nl", "phone")],
    indirect=["viewport"],
)
def test_the_xenn_journey_in_each_language(live_server, make_page, language, viewport):
    _, sentence = translator(live_server, language)
    page = make_page(viewport, extra_http_headers={"Accept-Language": f"{language},en;q=0.5"})
    app_page = AppPage(page)

    page.goto("/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", language)
    app_page.expect_heading(_("Sign in"))
    app_page.fill(_("Email address"), "owner@demo.example")
    app_page.fill(_("Password"), live_server.users["owner@demo.example"])
    app_page.press(_("Sign in"))
    app_page.expect_heading(_("Your devices"))

    app_page.follow(_("Connect a device"))
    app_page.expect_heading(_("What kind of device do you want to connect?"))
    device = _("Retrofit meter reader")
    app_page.choose(device)
    app_page.press(_("Continue"))
    app_page.expect_heading(_("Who made your %(type)s?", type=sentence(device)))
    app_page.choose("Xenn")
    app_page.press(_("Continue"))
    details = _("Which %(manufacturer)s %(type)s is it?", manufacturer="Xenn",
                type=sentence(device))
    app_page.expect_heading(details)

    # A wrong reference: the message in the language, next to the field and in the summary.
    reference = _("Xenn reference")
    app_page.fill(reference, "P123")
    app_page.press(_("Continue"))
    message = _("This should be %(description)s, for example %(example)s.",
                description=_("P followed by 10 digits"), example="P1000000000")
    app_page.expect_field_error(reference, message)
    expect(page).to_have_title(re.compile("^" + re.escape(_("Error:"))))

    app_page.fill(reference, "P1000000000")
    app_page.press(_("Continue"))
    app_page.expect_heading(_("Add this device to a group?"))
    app_page.choose(_("No group"))
    app_page.press(_("Continue"))
    app_page.expect_heading(_("Check your answers"))
    app_page.press(_("Send and continue"))
    app_page.expect_heading(_("Give your consent"))
    app_page.follow(_("Continue"))
    app_page.expect_heading(_("Agree to share your device's data"))
    app_page.press(_("I agree"))
    app_page.follow(_("Continue"))
    app_page.expect_heading(_("Enter the pairing code"))
    app_page.fill(_("Pairing code"), "123456")
    app_page.press(_("Pair the device"))
    app_page.expect_heading(_("Your %(type)s is connected", type=sentence(device)))
    app_page.audit("connected")
