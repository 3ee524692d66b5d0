"""Pages in English, Dutch, French and German: chosen by the browser, switched, remembered."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from app.i18n import COOKIE_MAX_AGE, in_sentence, translate
from app.identifiers import IdentifierError, validate_vin
from app.models import Entity
from app.onboarding.terms import TERMS_VERSION, terms_for
from app.templating import format_date, format_datetime
from tests.integration.helpers import (
    VIN,
    XENN_REFERENCE,
    answer,
    error_summary,
    field_errors,
    get_request,
    in_db,
    onboard_xenn,
    path_of,
    sign_in,
    start,
    submit,
    title_of,
    url,
    walk_to_check,
)

DUTCH = "nl-BE,nl;q=0.9,en;q=0.5"


def browser(app, accept_language: str | None = None):
    client = app.test_client()
    if accept_language:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return client


def signed_in(app, world, accept_language: str | None = None):
    client = browser(app, accept_language)
    sign_in(client, world.alice)
    return client


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]*)"', response.text)
    assert match, "no <html lang>"
    return match.group(1)


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def switch_links(response) -> list[str]:
    nav = re.search(r'<nav class="language-switch".*?</nav>', response.text, re.S)
    assert nav, "no language switch"
    return re.findall(r"<a [^>]*>", nav.group(0))


def dutch_field_errors(response) -> dict[str, str]:
    """The message next to each field, without the hidden "Fout:" (Dutch for "Error:")."""
    messages = field_errors(response)
    assert all(m.startswith("Fout: ") for m in messages.values()), messages
    return {field: m.removeprefix("Fout: ") for field, m in messages.items()}


def lang_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


# ---------------------------------------------------------------- the browser's language


@pytest.mark.parametrize(
    ("accept", "lang", "heading"),
    [
        (None, "en", "Sign in"),
        ("en-GB,en;q=0.8", "en", "Sign in"),
        (DUTCH, "nl", "Aanmelden"),
        ("fr-BE,fr;q=0.9", "fr", "Se connecter"),
        ("de-DE,de;q=0.9,en;q=0.3", "de", "Anmelden"),
        ("es-ES,es;q=0.9", "en", "Sign in"),  # not one of ours: English
        ("es;q=0.9,de;q=0.5", "de", "Anmelden"),  # the best of ours the browser accepts
    ],
)
def test_the_language_comes_from_the_browser(app, accept, lang, heading):
    page = browser(app, accept).get("/auth/login")

    assert page.status_code == 200
    assert html_lang(page) == lang
    assert f'<h1 class="heading-l">{heading}</h1>' in page.text
    assert "Accept-Language" in page.headers.get("Vary", "")


def test_dutch_sign_in_page_and_its_validation(app, world):
    client = browser(app, DUTCH)

    page = client.get("/auth/login")
    assert title_of(page) == "Aanmelden \u2013 Entity Onboarding"
    assert "Meld u aan om uw apparaten te verbinden en hun verbinding te volgen." in page.text
    assert ">E-mailadres</label>" in page.text
    assert ">Wachtwoord</label>" in page.text
    assert ">Naar de hoofdinhoud</a>" in page.text

    empty = client.post("/auth/login", data={"email": "", "password": ""})
    assert empty.status_code == 422
    assert title_of(empty).startswith("Fout: Aanmelden")
    assert "Er is een probleem" in empty.text
    assert error_summary(empty) == ["Vul uw e-mailadres in.", "Vul uw wachtwoord in."]

    wrong = client.post("/auth/login", data={"email": world.alice, "password": "nope"})
    assert error_summary(wrong) == ["Het e-mailadres of het wachtwoord klopt niet."]


def test_the_login_required_message_is_translated(app):
    client = browser(app, "de")

    response = client.get("/onboarding/new", follow_redirects=True)

    assert "Melden Sie sich an, um fortzufahren." in response.text


def test_flash_messages_are_translated(app, world):
    client = signed_in(app, world, "fr")

    page = client.post("/auth/logout", follow_redirects=True)

    assert "Votre session est fermée." in text_of(page)


def test_error_pages_are_translated(app, world):
    client = signed_in(app, world, "fr")

    missing = client.get("/onboarding/00000000-0000-0000-0000-000000000000/type")

    assert missing.status_code == 404
    assert "Page introuvable" in missing.text
    assert "Voir vos appareils" in missing.text


# ---------------------------------------------------------------- the wizard in Dutch


def test_dutch_wizard_questions_and_catalog_labels(app, world):
    client = signed_in(app, world, DUTCH)

    home = client.get("/")
    assert "Uw apparaten" in home.text
    assert "Een apparaat verbinden" in home.text

    question = client.get("/onboarding/new")
    assert html_lang(question) == "nl"
    assert "Welk soort apparaat wilt u verbinden?" in question.text
    assert "Stap 1 van" in question.text
    # Catalog labels and descriptions
    assert "Elektrische auto" in question.text
    assert "Een auto of bestelwagen die u oplaadt via het stroomnet." in question.text
    assert "Meteruitlezer" in question.text

    request_id = start(client, "EV")
    manufacturer = client.get(url(request_id, "manufacturer"))
    assert "Wie heeft uw elektrische auto gemaakt?" in manufacturer.text

    answer(client, request_id, "manufacturer", {"manufacturer": "Tesla"})
    details = client.get(url(request_id, "details"))
    assert "Over welke elektrische auto van Tesla gaat het?" in details.text
    assert ">Chassisnummer (VIN)</label>" in details.text
    assert "17 letters en cijfers. U vindt het op het inschrijvingsbewijs" in details.text
    assert ">Doorgaan</button>" in details.text


def test_dutch_validation_messages_from_the_identifier_rules(app, world):
    client = signed_in(app, world, DUTCH)
    request_id = start(client, "EV")
    answer(client, request_id, "manufacturer", {"manufacturer": "Tesla"})

    short = client.post(url(request_id, "details"), data={"vin": VIN[:16]})
    assert short.status_code == 422
    assert dutch_field_errors(short) == {"vin": "Een VIN heeft 17 tekens; dit heeft er 16."}
    assert VIN[:16] in short.text  # what was typed is kept

    letter_o = client.post(url(request_id, "details"), data={"vin": "WBA3A5C55CF2569O5"})
    assert dutch_field_errors(letter_o)["vin"] == (
        "Een VIN bevat alleen cijfers en de letters A tot Z behalve I, O en Q; "
        'dit VIN heeft "O" op positie 16, wat vaak een 0 (nul) is.'
    )

    empty = client.post(url(request_id, "details"), data={"vin": ""})
    # The catalog's own sentence for an empty VIN, translated.
    assert error_summary(empty) == ["Vul het VIN van uw voertuig in."]


def test_catalog_pattern_descriptions_are_translated_in_messages(app, world):
    client = signed_in(app, world, "de")
    request_id = start(client, "RetrofitMeter")
    answer(client, request_id, "manufacturer", {"manufacturer": "Xenn"})

    wrong = client.post(url(request_id, "details"), data={"reference": "P123"})

    # German keeps the capital of a noun inside a sentence.
    assert error_summary(wrong) == [
        "Erwartetes Format: P gefolgt von 10 Ziffern, zum Beispiel P1000000000."
    ]
    assert ">Xenn-Referenz</label>" in wrong.text
    assert "Angaben zu Ihrem Zähler-Lesegerät von Xenn" in wrong.text


def test_check_answers_and_consent_steps_in_french(app, world):
    client = signed_in(app, world, "fr")
    request_id = walk_to_check(
        client, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )

    check = client.get(url(request_id, "check"))
    assert "Vérifiez vos réponses" in check.text
    assert "Lecteur de compteur" in check.text
    assert "Référence Xenn" in check.text
    assert "Saisissez le code d'appairage" in html.unescape(check.text)

    submit(client, request_id)
    consent = client.get(url(request_id, "consent"))
    assert "Donnez votre consentement" in consent.text
    assert "Pas commencé" in consent.text


# ---------------------------------------------------------------- the terms


def test_the_terms_are_shown_and_hashed_in_the_language_read(app, world):
    client = signed_in(app, world, DUTCH)
    request_id = walk_to_check(
        client, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )
    submit(client, request_id)
    with app.test_request_context(), force_locale("nl"):
        dutch = terms_for("Acme Energy", "meteruitlezer", "Xenn")
    english = terms_for("Acme Energy", "retrofit meter reader", "Xenn")
    assert dutch.sha256 != english.sha256

    page = client.get(url(request_id, "steps/1"))
    assert html.escape(dutch.paragraphs[0], quote=False) in page.text
    assert f"Versie van de voorwaarden: {TERMS_VERSION}" in page.text
    assert 'name="language" value="nl"' in page.text

    # Read in Dutch; the browser's language changes before the answer is posted.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    response = client.post(
        url(request_id, "steps/1"), data={"version": TERMS_VERSION, "language": "nl"}
    )

    assert path_of(response) == url(request_id, "consent")
    step = get_request(app, request_id).steps[0]
    assert step.evidence["terms_version"] == TERMS_VERSION
    assert step.evidence["terms_sha256"] == dutch.sha256
    assert step.evidence["terms_language"] == "nl"


# ---------------------------------------------------------------- the switch


def test_every_page_has_the_language_switch(app, world):
    client = signed_in(app, world, "fr")

    page = client.get("/onboarding/new")

    links = switch_links(page)
    assert len(links) == 4
    for code in ("en", "nl", "fr", "de"):
        (link,) = [a for a in links if f'hreflang="{code}"' in a]
        assert f'lang="{code}"' in link
        assert f'href="/language/{code}"' in link
        assert ('aria-current="true"' in link) == (code == "fr")
    nav = re.search(r'<nav class="language-switch"[^>]*>', page.text).group(0)
    assert 'hx-boost="false"' in nav  # a full page load: the whole page changes language
    assert 'aria-label="Langue"' in nav
    assert ">Nederlands</a>" in page.text and ">Deutsch</a>" in page.text


def test_the_switch_goes_back_to_the_page_it_was_used_on(app, world):
    client = signed_in(app, world, "de")

    # After htmx swapped pages, the browser's Referer is the page now shown.
    response = client.get("/language/nl", headers={"Referer": "http://localhost/onboarding/new"})
    assert path_of(response) == "/onboarding/new"
    # Another site's Referer never leads there.
    response = client.get("/language/nl", headers={"Referer": "https://evil.example/x"})
    assert path_of(response) == "/"


def test_the_switch_sets_the_cookie_for_a_year_and_goes_back(app, world):
    client = signed_in(app, world, DUTCH)

    response = client.get("/language/fr?next=/onboarding/new")

    assert response.status_code == 302
    assert path_of(response) == "/onboarding/new"
    cookie = lang_cookie(response)
    assert cookie.startswith("lang=fr;")
    assert f"Max-Age={COOKIE_MAX_AGE}" in cookie
    assert COOKIE_MAX_AGE == 365 * 24 * 60 * 60
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie


def test_the_chosen_language_sticks_over_the_browsers(app, world):
    client = signed_in(app, world, DUTCH)
    assert html_lang(client.get("/")) == "nl"

    client.get("/language/de?next=/")

    for path in ("/", "/onboarding/new", "/auth/login"):
        page = client.get(path, follow_redirects=True)
        assert html_lang(page) == "de", path
    assert "Ihre Geräte" in client.get("/").text
    # Back to English, although the browser asks for Dutch.
    client.get("/language/en?next=/")
    assert html_lang(client.get("/")) == "en"
    assert "Your devices" in client.get("/").text


def test_the_query_of_the_page_comes_back_but_not_an_off_site_next(app):
    client = browser(app)

    referer = {"Referer": "http://localhost/auth/login?next=/onboarding/new"}
    response = client.get("/language/nl", headers=referer)
    assert path_of(response) == "/auth/login?next=/onboarding/new"

    evil = client.get("/auth/login?next=https://evil.example/")
    assert "evil.example" not in evil.text


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_the_switch_never_leads_off_site(app, next_url):
    response = browser(app).get("/language/nl", query_string={"next": next_url})

    assert response.status_code == 302
    assert path_of(response) == "/"
    assert lang_cookie(response).startswith("lang=nl;")


def test_the_switch_without_next_goes_home(app):
    response = browser(app).get("/language/de")

    assert path_of(response) == "/"


@pytest.mark.parametrize("code", ["es", "EN", "xx", "nl-BE"])
def test_an_unknown_language_is_not_found(app, code):
    response = browser(app).get(f"/language/{code}?next=/")

    assert response.status_code == 404
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang=")]


def test_a_broken_cookie_falls_back_to_the_browser(app):
    client = browser(app, "fr")
    client.set_cookie("lang", "klingon")

    assert html_lang(client.get("/auth/login")) == "fr"


def test_the_sandbox_pages_speak_the_language_too(app, world):
    client = browser(app, "de")
    page = client.get("/sandbox/tesla/authorize?client_id=nobody&redirect_uri=x")

    assert page.status_code == 400
    assert html_lang(page) == "de"
    assert "Diese Anmeldung kann nicht fortgesetzt werden" in page.text
    assert len(switch_links(page)) == 4


# ---------------------------------------------------------------- dates and numbers


MOMENT = datetime(2026, 11, 7, 18, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "date", "moment"),
    [
        ("en", "7 November 2026", "7 November 2026, 18:05 UTC"),
        ("nl", "7 november 2026", "7 november 2026 om 18:05 UTC"),
        ("fr", "7 novembre 2026", "7 novembre 2026 à 18:05 UTC"),
        ("de", "7. November 2026", "7. November 2026 um 18:05 UTC"),
    ],
)
def test_dates_follow_the_language(app, language, date, moment):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert format_date(MOMENT) == date
        assert format_datetime(MOMENT) == moment


def test_the_done_page_shows_the_date_in_german(app, world):
    client = signed_in(app, world, "de")
    request_id = onboard_xenn(client, str(world.household_id))
    with in_db(app) as session:
        entity = session.query(Entity).filter_by(request_id=request_id).one()
        created = entity.created_at
    with app.test_request_context(headers={"Accept-Language": "de"}):
        expected = format_datetime(created)
    assert ". " in expected and " um " in expected

    done = client.get(url(request_id, "done"))

    assert "Ihr Zähler-Lesegerät ist verbunden" in done.text
    assert expected in done.text
    assert ">Verbunden</strong>" in done.text


def test_counts_read_naturally_in_each_language(app, world):
    client = signed_in(app, world, "fr")
    request_id = start(client, "RetrofitMeter")
    assert "Pas encore envoyé · 1 réponse enregistrée" in client.get("/").text

    answer(client, request_id, "manufacturer", {"manufacturer": "Xenn"})

    home = client.get("/")
    assert "Pas encore envoyé · 2 réponses enregistrées" in home.text
    assert "Xenn (lecteur de compteur)" in home.text


# ---------------------------------------------------------------- domain messages


def test_translate_renders_domain_errors_in_the_current_language(app):
    try:
        validate_vin("WBA3A5C55CF25698")
    except IdentifierError as error:
        short = error
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert translate(short) == ("Un VIN compte 17 caractères\u00a0; celui-ci en compte 16.")
        assert in_sentence("Véhicule électrique") == "véhicule électrique"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert in_sentence("Elektrofahrzeug") == "Elektrofahrzeug"
    with app.test_request_context():
        assert translate(short) == short.message  # English is the message itself
        assert in_sentence("EAN code") == "EAN code"
