"""The identifier step's catalog-driven details, as an owner meets them: the Fluvius EAN
pattern, full-width input, the number pad, whole-sentence messages in every language, the
VIN's maker cross-checked with the chosen manufacturer, and "My brand is not listed"."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Event, Role, Tenant
from app.onboarding.makers import BRAND_REQUESTED
from tests.integration.helpers import (
    AUDI_VIN,
    EAN,
    HX,
    World,
    add_user,
    answer,
    error_summary,
    field_errors,
    get_request,
    in_db,
    path_of,
    signed_in_client,
    start,
    title_of,
    url,
)

VOLKSWAGEN_VIN = "WVWZZZ1KZAW000001"
TOYOTA_VIN = "JTDKB20U000000001"
DUTCH_EAN = "871694800000123452"
FLUVIUS_MESSAGE = (
    "Fluvius connects Belgian connection points only, whose EAN starts with 54."
    " Check the EAN on your energy bill."
)
BOTH = pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])


@pytest.fixture
def alice(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, world.alice)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def at_details(client: FlaskClient, type_id: str, manufacturer: str) -> uuid.UUID:
    request_id = start(client, type_id)
    answer(client, request_id, "manufacturer", {"manufacturer": manufacturer}, expect="details")
    return request_id


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def input_tag(response, name: str) -> str:
    [tag] = re.findall(rf'<input[^>]*name="{name}"[^>]*>', response.text)
    return tag


# ---------------------------------------------------------------- the rules, in the wizard


@BOTH
def test_fluvius_refuses_a_dutch_ean_beside_the_field_and_keeps_it(app, alice, headers):
    request_id = at_details(alice, "SmartMeter", "Fluvius")

    response = alice.post(
        url(request_id, "details"), data={"ean": DUTCH_EAN, "flow": "B2C"}, headers=headers
    )

    assert response.status_code == 422
    assert field_errors(response) == {"ean": FLUVIUS_MESSAGE}
    assert error_summary(response) == [FLUVIUS_MESSAGE]
    assert f'value="{DUTCH_EAN}"' in response.text
    assert ("<html" in response.text) == (not headers)
    page = alice.get(url(request_id, "details"))
    assert "18 digits starting with 54." in text_of(page)  # the hint says what the rule does


@BOTH
def test_full_width_input_is_stored_normalised(app, alice, headers):
    request_id = at_details(alice, "SmartMeter", "Fluvius")

    answer_page = alice.post(
        url(request_id, "details"),
        data={"ean": full_width("5414 4882 0012 3456 78"), "flow": "B2B"},
        headers=headers,
    )

    assert answer_page.status_code in (302, 303)
    assert get_request(app, request_id).information == {"ean": EAN}
    xenn = at_details(alice, "RetrofitMeter", "Xenn")
    answer(alice, xenn, "details", {"reference": full_width("p1000000000")})
    assert get_request(app, xenn).information == {"reference": "P1000000000"}


def test_digit_codes_get_the_number_pad_and_vins_capitals(alice):
    fluvius = alice.get(url(at_details(alice, "SmartMeter", "Fluvius"), "details"))
    sma = alice.get(url(at_details(alice, "PV", "SMA"), "details"))
    audi = alice.get(url(at_details(alice, "EV", "Audi"), "details"))
    xenn = alice.get(url(at_details(alice, "RetrofitMeter", "Xenn"), "details"))

    for tag in (input_tag(fluvius, "ean"), input_tag(sma, "plantId")):
        assert 'inputmode="numeric"' in tag and 'autocomplete="off"' in tag
        assert "pattern=" not in tag  # spaces, dashes, full-width digits are folded later
    vin = input_tag(audi, "vin")
    assert 'autocapitalize="characters"' in vin and "inputmode" not in vin
    reference = input_tag(xenn, "reference")  # "P" and digits: letters needed
    assert 'autocapitalize="characters"' in reference and "inputmode" not in reference


def test_the_pairing_code_gets_the_number_pad(app, alice, world):
    from tests.integration.helpers import XENN_REFERENCE, accept_terms, submit, walk_to_check

    request_id = walk_to_check(
        alice, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )
    submit(alice, request_id)
    accept_terms(alice, request_id)

    page = alice.get(url(request_id, "steps/2"))

    code = input_tag(page, "code")
    assert 'inputmode="numeric"' in code and "autocapitalize" not in code


# ---------------------------------------------------------------- messages, four languages

EMPTY_MESSAGES = {
    "en": "Enter your Xenn reference.",
    "nl": "Vul uw Xenn-referentie in.",
    "fr": "Saisissez votre référence Xenn.",
    "de": "Geben Sie Ihre Xenn-Referenz ein.",
}


@pytest.mark.parametrize("language", EMPTY_MESSAGES)
def test_an_empty_xenn_reference_keeps_the_brands_capital_in_every_language(alice, language):
    request_id = at_details(alice, "RetrofitMeter", "Xenn")
    alice.set_cookie("lang", language)

    response = alice.post(url(request_id, "details"), data={"reference": " "})

    assert error_summary(response) == [EMPTY_MESSAGES[language]]


def test_the_fluvius_message_in_dutch(alice):
    request_id = at_details(alice, "SmartMeter", "Fluvius")
    alice.set_cookie("lang", "nl")

    response = alice.post(url(request_id, "details"), data={"ean": DUTCH_EAN, "flow": "B2C"})

    assert error_summary(response) == [
        (
            "Fluvius verbindt alleen Belgische aansluitpunten, waarvan de EAN-code met 54 begint."
            " Controleer de EAN-code op uw energiefactuur."
        )
    ]


def test_a_brand_keeps_its_capital_in_the_change_link(app, alice, world):
    from tests.integration.helpers import walk_to_check

    request_id = walk_to_check(
        alice, "RetrofitMeter", "Xenn", {"reference": "P1000000000"}, str(world.household_id)
    )

    check = text_of(alice.get(url(request_id, "check")))

    assert "Change Xenn reference" in check and "xenn reference" not in check


# ---------------------------------------------------------------- the VIN's maker


@BOTH
def test_a_vin_of_another_maker_asks_before_going_on(app, alice, headers):
    request_id = at_details(alice, "EV", "Audi")

    response = alice.post(url(request_id, "details"), data={"vin": VOLKSWAGEN_VIN}, headers=headers)

    assert path_of(response) == url(request_id, "vin-maker")
    question = alice.get(url(request_id, "vin-maker"), headers=headers)
    assert question.status_code == 200
    heading = "This VIN belongs to a Volkswagen. Continue with Audi or switch?"
    assert title_of(question).startswith(heading)
    assert f'<h1 class="heading-l">{heading}</h1>' in question.text.replace("\n", "")
    assert ("<html" in question.text) == (not headers)
    assert 'value="switch">Switch to Volkswagen</button>' in question.text
    assert 'value="continue">Continue with Audi</button>' in question.text
    assert get_request(app, request_id).information == {"vin": VOLKSWAGEN_VIN}


@BOTH
def test_continue_keeps_the_manufacturer(app, alice, headers):
    request_id = at_details(alice, "EV", "Audi")
    answer(alice, request_id, "details", {"vin": VOLKSWAGEN_VIN}, expect="vin-maker")

    response = alice.post(
        url(request_id, "vin-maker"), data={"answer": "continue"}, headers=headers
    )

    assert path_of(response) == url(request_id, "check")
    request = get_request(app, request_id)
    assert (request.manufacturer, request.information) == ("Audi", {"vin": VOLKSWAGEN_VIN})


@BOTH
def test_switch_takes_the_vins_maker_and_keeps_the_vin(app, alice, headers):
    request_id = at_details(alice, "EV", "Audi")
    answer(alice, request_id, "details", {"vin": VOLKSWAGEN_VIN}, expect="vin-maker")

    response = alice.post(url(request_id, "vin-maker"), data={"answer": "switch"}, headers=headers)

    assert path_of(response) == url(request_id, "check")
    request = get_request(app, request_id)
    assert (request.manufacturer, request.information) == ("Volkswagen", {"vin": VOLKSWAGEN_VIN})
    assert "details" in request.answered
    # The question is settled: nothing asks it again.
    assert path_of(alice.get(url(request_id, "vin-maker"))) == url(request_id, "check")


def test_a_maker_not_in_the_catalog_switches_to_the_list(app, alice):
    request_id = at_details(alice, "EV", "Audi")
    answer(alice, request_id, "details", {"vin": TOYOTA_VIN}, expect="vin-maker")

    question = alice.get(url(request_id, "vin-maker"))
    assert "This VIN belongs to a Toyota. Continue with Audi or switch?" in text_of(question)
    assert "Choose another manufacturer" in question.text

    response = alice.post(url(request_id, "vin-maker"), data={"answer": "switch"})

    assert path_of(response) == url(request_id, "manufacturer")
    assert get_request(app, request_id).information == {"vin": TOYOTA_VIN}


def test_an_audi_by_its_own_vin_is_not_asked(alice):
    request_id = at_details(alice, "EV", "Audi")

    answer(alice, request_id, "details", {"vin": AUDI_VIN}, expect="check")

    assert path_of(alice.get(url(request_id, "vin-maker"))) == url(request_id, "check")


def test_english_says_an_before_a_vowel_and_dutch_asks_too(alice):
    request_id = at_details(alice, "EV", "Volkswagen")
    answer(alice, request_id, "details", {"vin": AUDI_VIN}, expect="vin-maker")

    assert "This VIN belongs to an Audi. Continue with Volkswagen or switch?" in text_of(
        alice.get(url(request_id, "vin-maker"))
    )
    alice.set_cookie("lang", "nl")
    assert "Dit VIN hoort bij een Audi. Doorgaan met Volkswagen of wisselen?" in text_of(
        alice.get(url(request_id, "vin-maker"))
    )


# ---------------------------------------------------------------- "My brand is not listed"


@BOTH
def test_the_manufacturer_page_offers_the_way_out(alice, headers):
    request_id = start(alice, "EV")

    page = alice.get(url(request_id, "manufacturer"), headers=headers)

    assert f'href="{url(request_id, "brand-not-listed")}">My brand is not listed</a>' in page.text
    form = alice.get(url(request_id, "brand-not-listed"), headers=headers)
    assert form.status_code == 200
    assert title_of(form).startswith("Your brand is not in the list")


BAD_BRANDS = [
    ("", "Enter the brand of your device."),
    # A tab is refused by the site's text rule; an invisible joiner by the brand's own.
    (
        "Zap\ttec",
        "This has a character that cannot be used here (an invisible control character). "
        "Type it again without it.",
    ),
    (
        "Zap\u200dtec",
        "A brand name is one line of letters, digits and spaces; remove the other signs.",
    ),
    ("x" * 61, "A brand name can be at most 60 characters; this one has 61."),
    ("audi", "Audi is in the list: go back and choose it."),
]


@BOTH
@pytest.mark.parametrize(("typed", "message"), BAD_BRANDS)
def test_a_bad_brand_is_explained_beside_the_field(app, alice, headers, typed, message):
    request_id = start(alice, "EV")

    response = alice.post(
        url(request_id, "brand-not-listed"), data={"brand": typed}, headers=headers
    )

    assert response.status_code == 422
    assert field_errors(response) == {"brand": message}
    if typed.strip() and "\t" not in typed:
        assert f'value="{typed}"' in response.text
    assert brand_events(app, request_id) == []


@BOTH
def test_a_brand_asked_for_is_recorded_and_the_next_steps_said(app, alice, headers):
    request_id = start(alice, "EV")

    response = alice.post(
        url(request_id, "brand-not-listed"), data={"brand": "  Zaptec "}, headers=headers
    )

    assert path_of(response) == url(request_id, "brand-not-listed/noted")
    assert brand_events(app, request_id) == [{"brand": "Zaptec", "type": "EV"}]
    noted = alice.get(url(request_id, "brand-not-listed/noted"), headers=headers)
    text = text_of(noted)
    assert "Thank you: Zaptec is noted" in text
    assert "We cannot connect a Zaptec device yet" in text
    assert "We will not contact you about it." in text
    assert f'href="{url(request_id, "manufacturer")}"' in noted.text


def test_the_noted_page_without_a_brand_goes_to_the_question(alice):
    request_id = start(alice, "EV")

    response = alice.get(url(request_id, "brand-not-listed/noted"))

    assert path_of(response) == url(request_id, "brand-not-listed")


def brand_events(app: Flask, request_id: uuid.UUID) -> list[dict]:
    with in_db(app) as session:
        return list(
            session.scalars(
                select(Event.data).where(
                    Event.request_id == request_id, Event.kind == BRAND_REQUESTED
                )
            )
        )


@pytest.fixture
def support(app: Flask, world: World) -> FlaskClient:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "sam@acme.example", Role.SUPPORT)
        session.commit()
    return signed_in_client(app, "sam@acme.example")


def test_the_support_funnel_counts_the_brands_asked_for(app, alice, world, support, sql):
    for typed in ("Zaptec", "zaptec", "Easee"):
        request_id = start(alice, "EV")
        alice.post(url(request_id, "brand-not-listed"), data={"brand": typed})
    carol = signed_in_client(app, world.carol)  # another tenant's wish is not counted
    alice_elsewhere = start(carol, "EV")
    carol.post(url(alice_elsewhere, "brand-not-listed"), data={"brand": "Secret"})

    one_brand = sql.of(lambda: support.get("/support/funnel"))
    page = text_of(one_brand.response)

    assert "Brands asked for" in page
    assert re.search(r"Zaptec 2 Easee 1", page), page
    assert "Secret" not in page
    # One aggregate statement, however many brands.
    for typed in ("Wallbox", "Alfen", "Peblar"):
        alice.post(url(start(alice, "EV"), "brand-not-listed"), data={"brand": typed})
    assert sql.of(lambda: support.get("/support/funnel")).count == one_brand.count
