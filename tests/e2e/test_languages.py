"""The owner's main journey (a Xenn meter, JavaScript on, then disconnecting it) in Dutch,
French and German: every page in the chosen language, its validation messages too, and every
page and state audited for accessibility on the way (tests/e2e/a11y.py) with the page's own
`lang`.

English runs in test_owner_journey.py at every size. Here each language runs at desktop size
and German, whose long words wrap worst, also on a phone. Dutch and German come from the
browser's Accept-Language; French is chosen with the header's switch, which is remembered.
The texts are the ones in app/translations/<lang>/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LiveServer, MakePage
from tests.e2e.pages import AppPage, path_pattern
from tests.e2e.test_owner_journey import OWNER, XENN, entity_count


@dataclass(frozen=True)
class Language:
    """What the owner reads and presses in one language."""

    code: str
    locale: str | None  # the browser's language; None: English, then the header's switch
    name: str  # as the switch shows it
    switch: str  # the switch's name
    sign_in: str
    email: str
    password: str
    home: str
    connect: str
    type_question: str
    device_kind: str
    change_group: str  # the Change link of the group row on check answers
    details_question: str
    field: str
    wrong_message: str
    group_question: str
    check_answers: str
    send: str
    consent: str
    continue_: str
    terms: str
    agree: str
    pairing: str
    pairing_code: str
    pair: str
    pairing_mismatch: str
    connected: str
    go_home: str
    there_is_a_problem: str
    error_prefix: str
    step_1_of_4: str
    device: str  # the connected device's name
    disconnect: str
    disconnect_question: str
    why_optional: str
    reason: str
    disconnected: str


DUTCH = Language(
    code="nl",
    locale="nl-BE",
    name="Nederlands",
    switch="Taal",
    sign_in="Aanmelden",
    email="E-mailadres",
    password="Wachtwoord",
    home="Uw apparaten",
    connect="Een apparaat verbinden",
    type_question="Welk soort apparaat wilt u verbinden?",
    device_kind="Meteruitlezer",
    change_group="Wijzigen groep",
    details_question="Over welke meteruitlezer van Xenn gaat het?",
    field="Xenn-referentie",
    wrong_message="Dit moet bestaan uit P gevolgd door 10 cijfers, bijvoorbeeld P1000000000.",
    group_question="Dit apparaat aan een groep toevoegen?",
    check_answers="Controleer uw antwoorden",
    send="Akkoord en verder",
    consent="Geef uw toestemming",
    continue_="Doorgaan",
    terms="Ga akkoord met het delen van de gegevens van uw apparaat",
    agree="Ik ga akkoord",
    pairing="Vul de koppelcode in",
    pairing_code="Koppelcode",
    pair="Apparaat koppelen",
    pairing_mismatch="Deze koppelcode hoort niet bij het apparaat. "
    "Controleer de code en probeer het opnieuw.",
    connected="Uw meteruitlezer is verbonden",
    go_home="Naar uw apparaten",
    there_is_a_problem="Er is een probleem",
    error_prefix="Fout:",
    step_1_of_4="Stap 1 van 4",
    device="Xenn meteruitlezer · P1000000000",
    disconnect="Loskoppelen",
    disconnect_question="Xenn meteruitlezer · P1000000000 loskoppelen?",
    why_optional="Waarom koppelt u het los? (optioneel)",
    reason="Ik wil de gegevens niet langer delen",
    disconnected="Xenn meteruitlezer · P1000000000 is losgekoppeld. De toegang is ingetrokken.",
)
FRENCH = Language(
    code="fr",
    locale=None,
    name="Français",
    switch="Langue",
    sign_in="Se connecter",
    email="Adresse e-mail",
    password="Mot de passe",
    home="Vos appareils",
    connect="Connecter un appareil",
    type_question="Quel type d'appareil voulez-vous connecter\xa0?",
    device_kind="Lecteur de compteur",
    change_group="Modifier groupe",
    details_question="De quel lecteur de compteur Xenn s'agit-il\xa0?",
    field="Référence Xenn",
    wrong_message="Format attendu\xa0: P suivi de 10 chiffres, par exemple P1000000000.",
    group_question="Ajouter cet appareil à un groupe\xa0?",
    check_answers="Vérifiez vos réponses",
    send="Accepter et continuer",
    consent="Donnez votre consentement",
    continue_="Continuer",
    terms="Acceptez le partage des données de votre appareil",
    agree="J'accepte",
    pairing="Saisissez le code d'appairage",
    pairing_code="Code d'appairage",
    pair="Appairer l'appareil",
    pairing_mismatch="Ce code d'appairage ne correspond pas à l'appareil. "
    "Vérifiez le code et réessayez.",
    connected="Votre lecteur de compteur est connecté",
    go_home="Voir vos appareils",
    there_is_a_problem="Il y a un problème",
    error_prefix="Erreur\xa0:",
    step_1_of_4="Étape 1 sur 4",
    device="Xenn (lecteur de compteur) · P1000000000",
    disconnect="Déconnecter",
    disconnect_question="Déconnecter Xenn (lecteur de compteur) · P1000000000\xa0?",
    why_optional="Pourquoi le déconnectez-vous\xa0? (facultatif)",
    reason="Je ne veux plus partager ses données",
    disconnected="Xenn (lecteur de compteur) · P1000000000 est déconnecté. Son accès a été retiré.",
)
GERMAN = Language(
    code="de",
    locale="de-DE",
    name="Deutsch",
    switch="Sprache",
    sign_in="Anmelden",
    email="E-Mail-Adresse",
    password="Passwort",
    home="Ihre Geräte",
    connect="Gerät verbinden",
    type_question="Welche Art von Gerät möchten Sie verbinden?",
    device_kind="Zähler-Lesegerät",
    change_group="Ändern Gruppe",
    details_question="Angaben zu Ihrem Zähler-Lesegerät von Xenn",
    field="Xenn-Referenz",
    wrong_message="Erwartetes Format: P gefolgt von 10 Ziffern, zum Beispiel P1000000000.",
    group_question="Dieses Gerät einer Gruppe hinzufügen?",
    check_answers="Prüfen Sie Ihre Antworten",
    send="Zustimmen und weiter",
    consent="Erteilen Sie Ihre Einwilligung",
    continue_="Weiter",
    terms="Stimmen Sie der Weitergabe der Daten Ihres Geräts zu",
    agree="Ich stimme zu",
    pairing="Geben Sie den Kopplungscode ein",
    pairing_code="Kopplungscode",
    pair="Gerät koppeln",
    pairing_mismatch="Dieser Kopplungscode passt nicht zum Gerät. "
    "Prüfen Sie den Code und versuchen Sie es erneut.",
    connected="Ihr Zähler-Lesegerät ist verbunden",
    go_home="Zu Ihren Geräten",
    there_is_a_problem="Es gibt ein Problem",
    error_prefix="Fehler:",
    step_1_of_4="Schritt 1 von 4",
    device="Xenn Zähler-Lesegerät · P1000000000",
    disconnect="Trennen",
    disconnect_question="Xenn Zähler-Lesegerät · P1000000000 trennen?",
    why_optional="Warum trennen Sie es? (optional)",
    reason="Ich möchte seine Daten nicht mehr teilen",
    disconnected="Xenn Zähler-Lesegerät · P1000000000 ist getrennt. Der Zugriff wurde entzogen.",
)


class LocalisedPage(AppPage):
    """A page of the app in `language`: the same checks, the language's own words."""

    def __init__(self, page: Page, language: Language) -> None:
        super().__init__(page)
        self.language = language

    def expect_heading(self, text: str | re.Pattern[str]) -> None:
        """The heading, in a page whose `lang` and switch both name the language."""
        super().expect_heading(text)
        expect(self.page.locator("html")).to_have_attribute("lang", self.language.code)
        switch = self.page.get_by_role("navigation", name=self.language.switch, exact=True)
        expect(switch.locator("a[aria-current=true]")).to_have_text(self.language.name)

    @property
    def error_summary(self) -> Locator:
        return self.page.get_by_role("alert", name=self.language.there_is_a_problem)

    def answer(
        self, then: str, *, choice: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        if choice is not None:
            self.choose(choice)
        for label, value in (fields or {}).items():
            self.fill(label, value)
        self.press(self.language.continue_)
        self.expect_heading(then)

    def expect_translated_error(self, field: str, message: str) -> None:
        """A validation message in the language: summary, field, title and focus."""
        self.expect_errors(message)
        self.expect_field_error(field, message)
        self.expect_title(re.compile(rf"^{re.escape(self.language.error_prefix)} "))
        expect(self.error_summary).to_be_focused()


def onboard_in(page: Page, live_server: LiveServer, lang: Language) -> None:
    """Sign in and connect a Xenn meter, reading every page in `lang`."""
    view = LocalisedPage(page, lang)
    page.goto("/auth/login")
    if lang.locale is None:
        view.follow(lang.name)  # the header's switch; the sign-in page comes back translated
    view.expect_heading(lang.sign_in)
    view.fill(lang.email, OWNER)
    view.fill(lang.password, live_server.users[OWNER])
    view.press(lang.sign_in)
    view.expect_heading(lang.home)

    view.follow(lang.connect)
    view.expect_heading(lang.type_question)
    expect(page.get_by_text(lang.step_1_of_4, exact=True)).to_be_visible()
    # Xenn is the only retrofit meter reader's maker: not asked.
    view.answer(lang.details_question, choice=lang.device_kind)

    view.fill(lang.field, XENN.wrong)
    view.press(lang.continue_)
    view.expect_translated_error(lang.field, lang.wrong_message)
    view.expect_heading(lang.details_question)
    view.answer(lang.check_answers, fields={lang.field: XENN.right})
    view.follow(lang.change_group)  # check answers offers the group
    view.expect_heading(lang.group_question)
    view.answer(lang.check_answers, choice="Home")  # a group's name is the tenant's own

    # The declaration on check answers: the terms step, then straight to the pairing code.
    view.press(lang.send)
    view.expect_heading(lang.pairing)
    view.expect_url(path_pattern("onboarding", "{id}", "steps", "2"))

    view.fill(lang.pairing_code, "000000")
    view.press(lang.pair)
    view.expect_translated_error(lang.pairing_code, lang.pairing_mismatch)
    view.fill(lang.pairing_code, XENN.pairing_code)
    view.press(lang.pair)
    view.expect_heading(lang.connected)
    view.expect_url(path_pattern("onboarding", "{id}", "done"))

    view.follow(lang.go_home)
    view.expect_heading(lang.home)
    assert entity_count(live_server) == 1

    # And disconnect it again: the reason is optional, one is given.
    view.follow(f"{lang.disconnect} {lang.device}")
    view.expect_heading(lang.disconnect_question)
    expect(page.get_by_text(lang.why_optional)).to_be_visible()
    view.choose(lang.reason)
    view.press(lang.disconnect)
    view.expect_heading(lang.home)
    expect(view.notice(lang.disconnected)).to_be_visible()


@pytest.mark.parametrize(
    ("lang", "size"),
    [
        pytest.param(DUTCH, "desktop", id="nl-desktop"),
        pytest.param(FRENCH, "desktop", id="fr-desktop"),
        pytest.param(GERMAN, "desktop", id="de-desktop"),
        pytest.param(GERMAN, "phone", id="de-phone"),
    ],
)
def test_owner_onboards_a_xenn_meter_in_each_language(
    make_page: MakePage, live_server: LiveServer, lang: Language, size: str
) -> None:
    options = {"locale": lang.locale} if lang.locale else {}
    page = make_page(size, **options)
    onboard_in(page, live_server, lang)
