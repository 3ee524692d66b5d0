"""The web wizard, as its user meets it: questions, errors, order, privacy, consent, the entity."""

from __future__ import annotations

import re
import uuid

import pytest

from app.models import ConsentStep, Entity, Event, OnboardingRequest
from app.onboarding.states import Status, StepStatus
from app.onboarding.terms import TERMS_VERSION, terms_for
from tests.integration.helpers import (
    AUDI_VIN,
    DONGLE_CODE,
    EAN,
    HX,
    NORTH_AMERICAN_VIN,
    PAIRING_CODE,
    PASSWORD,
    TITLE_SUFFIX,
    VIN,
    WRONG_PAIRING_CODE,
    XENN_REFERENCE,
    accept_terms,
    answer,
    count,
    csrf_token,
    entities_of,
    error_summary,
    field_errors,
    get_request,
    in_db,
    make_world,
    onboard_xenn,
    pair,
    path_of,
    sign_in,
    signed_in_client,
    start,
    submit,
    title_of,
    url,
    walk_to_check,
)

ALREADY_SENT = "Your answers were already sent, so they were not changed."


@pytest.fixture
def alice(app, world):
    return signed_in_client(app, world.alice)


def radio_checked(response, value: str) -> bool:
    for tag in re.findall(r"<input[^>]*>", response.text):
        if f'value="{value}"' in tag and 'type="radio"' in tag:
            return re.search(r"\schecked\b", tag) is not None
    raise AssertionError(f"no radio with value {value!r}")


def notices(response) -> list[str]:
    return [
        " ".join(m.split())
        for m in re.findall(
            r'<div class="notice notice--\w+" role="status">(.*?)</div>', response.text, re.S
        )
    ]


def snapshot(app, request_id):
    """What a person could see change: answers, status, steps, timeline."""
    request = get_request(app, request_id)
    return (
        request.type,
        request.manufacturer,
        request.information,
        request.properties,
        request.collective_id,
        request.status,
        request.answered,
        [(s.kind, s.status) for s in request.steps],
        len(request.events),
    )


# ---------------------------------------------------------------- pages, full and htmx


def xenn_at_check(alice, world) -> uuid.UUID:
    return walk_to_check(
        alice, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )


QUESTION_PAGES = {
    "type": "What kind of device do you want to connect?",
    "manufacturer": "Who made your retrofit meter reader?",
    "details": "Which Xenn retrofit meter reader is it?",
    "collective": "Add this device to a group?",
    "check": "Check your answers",
}


def assert_full_page(response, title: str):
    assert response.status_code == 200, response.text[:300]
    assert response.text.lstrip().startswith("<!doctype html>")
    assert "<html" in response.text
    assert title_of(response) == title + TITLE_SUFFIX
    assert "HX-Request" in response.headers["Vary"]


def assert_fragment(response, title: str, status: int = 200):
    assert response.status_code == status, response.text[:300]
    assert "<html" not in response.text
    assert "<body" not in response.text
    assert title_of(response) == title + TITLE_SUFFIX
    assert "HX-Request" in response.headers["Vary"]


def test_start_page_full_and_fragment(app, alice):
    assert_full_page(alice.get("/onboarding/new"), QUESTION_PAGES["type"])
    assert_fragment(alice.get("/onboarding/new", headers=HX), QUESTION_PAGES["type"])

    refused = alice.post("/onboarding/new", data={}, headers=HX)
    assert_fragment(refused, "Error: " + QUESTION_PAGES["type"], status=422)
    started = alice.post("/onboarding/new", data={"type": "EV"}, headers=HX)
    assert path_of(started).endswith("/manufacturer")
    assert "HX-Request" in started.headers["Vary"]
    assert count(app, OnboardingRequest) == 1


@pytest.mark.parametrize("question", QUESTION_PAGES)
def test_question_pages_full_and_fragment(alice, world, question):
    request_id = xenn_at_check(alice, world)

    assert_full_page(alice.get(url(request_id, question)), QUESTION_PAGES[question])
    assert_fragment(alice.get(url(request_id, question), headers=HX), QUESTION_PAGES[question])


def test_consent_pages_full_and_fragment(app, alice, world):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)
    pages = [("consent", "Give your consent"), ("steps/1", "Agree to share your device's data")]
    for page, title in pages:
        assert_full_page(alice.get(url(request_id, page)), title.replace("'", "&#39;"))
        assert_fragment(alice.get(url(request_id, page), headers=HX), title.replace("'", "&#39;"))

    accept_terms(alice, request_id)
    assert_full_page(alice.get(url(request_id, "steps/2")), "Enter the pairing code")
    assert_fragment(alice.get(url(request_id, "steps/2"), headers=HX), "Enter the pairing code")

    pair(alice, request_id)
    done = "Your retrofit meter reader is connected"
    assert_full_page(alice.get(url(request_id, "done")), done)
    assert_fragment(alice.get(url(request_id, "done"), headers=HX), done)


VALID_ANSWERS = {
    "type": {"type": "RetrofitMeter"},
    "manufacturer": {"manufacturer": "Xenn"},
    "details": {"reference": XENN_REFERENCE},
    "collective": {"collective": "none"},
    "check": {},
}


@pytest.mark.parametrize("question", VALID_ANSWERS)
@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_a_good_answer_redirects_to_the_next_page(alice, world, question, headers):
    request_id = xenn_at_check(alice, world)

    response = alice.post(url(request_id, question), data=VALID_ANSWERS[question], headers=headers)

    expected = "consent" if question == "check" else "check"
    assert path_of(response) == url(request_id, expected)
    assert "HX-Request" in response.headers["Vary"]


BAD_ANSWERS = {
    "type": ({"type": "Boiler"}, "type", "Choose the kind of device from the list."),
    "manufacturer": (
        {"manufacturer": "Tesla"},
        "manufacturer",
        "Choose the manufacturer from the list.",
    ),
    "details": (
        {"reference": "X123"},
        "reference",
        "This should be P followed by 10 digits, for example P1000000000.",
    ),
    "collective": ({"collective": "nobody"}, "collective", "Choose a group from the list."),
}


@pytest.mark.parametrize("question", BAD_ANSWERS)
@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_a_bad_answer_shows_the_page_again_with_the_error(alice, world, question, headers):
    request_id = xenn_at_check(alice, world)
    data, field, message = BAD_ANSWERS[question]

    response = alice.post(url(request_id, question), data=data, headers=headers)

    assert response.status_code == 422
    assert title_of(response) == f"Error: {QUESTION_PAGES[question]}{TITLE_SUFFIX}"
    assert ("<html" in response.text) is not bool(headers)
    assert "HX-Request" in response.headers["Vary"]
    assert field_errors(response) == {field: message}
    assert error_summary(response) == [message]


# ---------------------------------------------------------------- bad input, field by field


def at_details(client, type_id: str, manufacturer: str) -> uuid.UUID:
    request_id = start(client, type_id)
    answer(client, request_id, "manufacturer", {"manufacturer": manufacturer}, expect="details")
    return request_id


DETAIL_ERRORS = [
    # type, manufacturer, posted, field, message
    ("EV", "Audi", {"vin": ""}, "vin", "Enter your vehicle's VIN."),
    ("EV", "Audi", {"vin": " - "}, "vin", "Enter the VIN."),
    ("EV", "Audi", {"vin": "WBA3A5C55CF25698"}, "vin", "A VIN has 17 characters; this one has 16."),
    (
        "EV",
        "Audi",
        {"vin": "WBA3A5C55CF2569858"},
        "vin",
        "A VIN has 17 characters; this one has 18.",
    ),
    (
        "EV",
        "Tesla",
        {"vin": "WBA3A5C55CF25698O"},
        "vin",
        'A VIN has only digits and the letters A to Z except I, O and Q; this one has "O" at '
        "position 17, which is often a 0 (zero).",
    ),
    (
        "EV",
        "Tesla",
        {"vin": "1HGCM82643A004352"},
        "vin",
        "This VIN's check digit (the 9th character) does not match the others; check you typed "
        "it correctly.",
    ),
    (
        "SmartMeter",
        "Fluvius",
        {"ean": "54144882001234567", "flow": "B2C"},
        "ean",
        "An EAN has 18 digits; this one has 17.",
    ),
    (
        "SmartMeter",
        "Fluvius",
        {"ean": "541448820012345679", "flow": "B2C"},
        "ean",
        "This EAN's last digit (the check digit) does not match the others; check you typed it "
        "correctly.",
    ),
    (
        "SmartMeter",
        "Fluvius",
        {"ean": "641448820012345678", "flow": "B2C"},
        "ean",
        "An EAN of a Belgian or Dutch connection point starts with 54 or 87; this one starts "
        "with 64.",
    ),
    (
        "SmartMeter",
        "Fluvius",
        {"ean": "54144882001234567A", "flow": "B2C"},
        "ean",
        'An EAN has only digits; this one has "A" at position 18.',
    ),
    (
        "SmartMeter",
        "Fluvius",
        {"ean": "871694800000123452", "flow": "B2C"},
        "ean",
        "Fluvius connects Belgian connection points only, whose EAN starts with 54. Check the"
        " EAN on your energy bill.",
    ),
    (
        "SmartMeter",
        "Fluvius",
        {"ean": "", "flow": "B2C"},
        "ean",
        "Enter the EAN code of your connection point.",
    ),
    ("SmartMeter", "Fluvius", {"ean": EAN}, "flow", "Choose the type of contract."),
    ("SmartMeter", "Fluvius", {"ean": EAN, "flow": "B2X"}, "flow", "Choose the type of contract."),
    (
        "SmartMeter",
        "re.alto P1-Dongle",
        {"code": "RA1B2C3D4E5"},
        "code",
        "This should be 12 letters and digits, for example RA1B2C3D4E5F.",
    ),
    (
        "SmartMeter",
        "re.alto P1-Dongle",
        {"code": ""},
        "code",
        "Enter the code of your re.alto dongle.",
    ),
    ("RetrofitMeter", "Xenn", {"reference": ""}, "reference", "Enter your Xenn reference."),
    (
        "RetrofitMeter",
        "Xenn",
        {"reference": "P100000000"},
        "reference",
        "This should be P followed by 10 digits, for example P1000000000.",
    ),
    (
        "PV",
        "SMA",
        {"plantId": "12345", "email": "owner@example.be"},
        "plantId",
        "This should be 7 digits, for example 1234567.",
    ),
    (
        "PV",
        "SMA",
        {"plantId": "1234567", "email": "owner-at-example.be"},
        "email",
        "Enter an email address in the right format, like name@example.com.",
    ),
    (
        "PV",
        "SolarEdge",
        {"siteId": "12"},
        "siteId",
        "This should be 4 to 8 digits, for example 1234567.",
    ),
    (
        "PV",
        "Fronius",
        {"pvSystemId": "1F0A5D0C-3B8E-4C2D-9A1B"},
        "pvSystemId",
        "This should be 32 letters (A to F) and digits, often shown with hyphens, for example "
        "1F0A5D0C-3B8E-4C2D-9A1B-7E6F5D4C3B2A.",
    ),
    (
        "PV",
        "Enphase",
        {"systemId": "SYS1234"},
        "systemId",
        "This should be 5 to 9 digits, for example 4123456.",
    ),
]


@pytest.mark.parametrize(
    ("type_id", "manufacturer", "posted", "field", "message"),
    DETAIL_ERRORS,
    ids=[f"{m}-{f}-{i}" for i, (_t, m, _p, f, _msg) in enumerate(DETAIL_ERRORS)],
)
def test_bad_detail_is_explained_next_to_the_field_and_kept(
    app, alice, type_id, manufacturer, posted, field, message
):
    request_id = at_details(alice, type_id, manufacturer)

    response = alice.post(url(request_id, "details"), data=posted)

    assert response.status_code == 422
    assert title_of(response).startswith("Error: Which ")
    assert field_errors(response) == {field: message}
    assert error_summary(response) == [message]
    assert f'<a href="#{field}">' in response.text  # the summary links to the field
    for name, typed in posted.items():  # everything typed is kept
        if name == "flow":
            if typed in ("B2C", "B2B"):
                assert radio_checked(response, typed)
        elif typed:
            assert f'value="{typed}"' in response.text, name
    assert "details" not in get_request(app, request_id).answered


def test_every_field_wrong_at_once_lists_each_in_the_summary(alice):
    request_id = at_details(alice, "PV", "SMA")

    response = alice.post(url(request_id, "details"), data={"plantId": "12", "email": "nope"})

    assert response.status_code == 422
    assert field_errors(response) == {
        "plantId": "This should be 7 digits, for example 1234567.",
        "email": "Enter an email address in the right format, like name@example.com.",
    }
    assert error_summary(response) == list(field_errors(response).values())
    assert 'value="12"' in response.text and 'value="nope"' in response.text


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({}, "Choose the kind of device."),
        ({"type": "Boiler"}, "Choose the kind of device from the list."),
    ],
    ids=["nothing chosen", "tampered"],
)
def test_starting_without_a_known_type_is_refused(app, alice, posted, message):
    response = alice.post("/onboarding/new", data=posted)

    assert response.status_code == 422
    assert title_of(response).startswith("Error: What kind of device")
    assert field_errors(response) == {"type": message}
    assert error_summary(response) == [message]
    assert count(app, OnboardingRequest) == 0


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({}, "Choose the manufacturer."),
        ({"manufacturer": "Huawei"}, "Choose the manufacturer from the list."),
        ({"manufacturer": "<b>Audi</b>"}, "Choose the manufacturer from the list."),
    ],
    ids=["nothing chosen", "another type's manufacturer", "made up"],
)
def test_manufacturer_not_in_the_catalog_is_refused(app, alice, posted, message):
    request_id = start(alice, "EV")

    response = alice.post(url(request_id, "manufacturer"), data=posted)

    assert response.status_code == 422
    assert field_errors(response) == {"manufacturer": message}
    assert error_summary(response) == [message]
    assert "<b>Audi</b>" not in response.text
    assert get_request(app, request_id).manufacturer is None


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (None, "Choose a group, or no group."),
        ("other-tenant", "Choose a group from the list."),
        ("random", "Choose a group from the list."),
        ("not-a-uuid", "Choose a group from the list."),
    ],
)
def test_collective_not_of_this_tenant_is_refused(app, alice, world, choice, message):
    request_id = at_details(alice, "EV", "Audi")
    answer(alice, request_id, "details", {"vin": AUDI_VIN}, expect="collective")
    posted = {
        None: {},
        "other-tenant": {"collective": str(world.other_collective_id)},
        "random": {"collective": str(uuid.uuid4())},
        "not-a-uuid": {"collective": "1 OR 1=1"},
    }[choice]

    response = alice.post(url(request_id, "collective"), data=posted)

    assert response.status_code == 422
    assert title_of(response).startswith("Error: Add this device to a group?")
    assert field_errors(response) == {"collective": message}
    assert error_summary(response) == [message]
    assert str(world.other_collective_id) not in response.text
    request = get_request(app, request_id)
    assert request.collective_id is None
    assert "collective" not in request.answered


def test_a_good_answer_after_errors_is_taken(app, alice):
    request_id = at_details(alice, "EV", "Tesla")
    alice.post(url(request_id, "details"), data={"vin": "5YJ3E1EA1KF000316"})

    answer(alice, request_id, "details", {"vin": " 5yj3e1ea0-kf000316 "}, expect="collective")

    assert get_request(app, request_id).information == {"vin": "5YJ3E1EA0KF000316"}


# ---------------------------------------------------------------- order of the pages


def test_details_and_check_before_a_manufacturer_go_to_the_manufacturer(alice):
    request_id = start(alice, "EV")

    for page in ("details", "collective", "check"):
        assert path_of(alice.get(url(request_id, page))) == url(request_id, "manufacturer")
        assert path_of(alice.post(url(request_id, page), data={"vin": AUDI_VIN})) == url(
            request_id, "manufacturer"
        )


def test_collective_and_check_before_the_details_go_to_the_details(alice):
    request_id = at_details(alice, "EV", "Audi")

    assert path_of(alice.get(url(request_id, "collective"))) == url(request_id, "details")
    assert path_of(alice.get(url(request_id, "check"))) == url(request_id, "details")


def test_check_before_every_question_is_answered_goes_to_the_first_unanswered(alice):
    request_id = at_details(alice, "EV", "Audi")
    answer(alice, request_id, "details", {"vin": AUDI_VIN}, expect="collective")

    assert path_of(alice.get(url(request_id, "check"))) == url(request_id, "collective")
    assert path_of(alice.post(url(request_id, "check"))) == url(request_id, "collective")
    assert path_of(alice.get(url(request_id))) == url(request_id, "collective")


def test_no_collective_question_when_the_tenant_has_none(app):
    world = make_world(app, acme_collectives=False)
    alice = signed_in_client(app, world.alice)
    request_id = at_details(alice, "EV", "Audi")

    answer(alice, request_id, "details", {"vin": AUDI_VIN}, expect="check")

    assert path_of(alice.get(url(request_id, "collective"))) == url(request_id, "check")
    check = alice.get(url(request_id, "check"))
    assert "Group" not in check.text
    assert "Step 4 of 4" in check.text
    submit(alice, request_id)
    assert get_request(app, request_id).collective_id is None


def test_manufacturer_without_details_skips_the_details(app, alice):
    request_id = start(alice, "PV")

    answer(alice, request_id, "manufacturer", {"manufacturer": "Huawei"}, expect="collective")

    assert path_of(alice.get(url(request_id, "details"))) == url(request_id, "collective")


def test_consent_steps_are_taken_in_order(alice, world):
    request_id = xenn_at_check(alice, world)
    assert path_of(alice.get(url(request_id, "consent"))) == url(request_id, "check")
    assert path_of(alice.get(url(request_id, "done"))) == url(request_id, "check")
    submit(alice, request_id)

    assert path_of(alice.get(url(request_id, "steps/2"))) == url(request_id, "consent")
    assert path_of(pair(alice, request_id)) == url(request_id, "consent")
    assert path_of(alice.get(url(request_id, "done"))) == url(request_id, "consent")
    assert alice.get(url(request_id, "steps/3")).status_code == 404


def test_progress_and_back_links(alice, world):
    request_id = xenn_at_check(alice, world)

    details = alice.get(url(request_id, "details"))
    assert "Step 3 of 5" in details.text
    assert f'class="back-link" href="{url(request_id, "manufacturer")}"' in details.text
    manufacturer = alice.get(url(request_id, "manufacturer"))
    assert f'class="back-link" href="{url(request_id, "type")}"' in manufacturer.text
    assert 'class="back-link" href="/"' in alice.get(url(request_id, "type")).text


def test_manufacturer_search_answers_htmx_with_the_options_only(alice):
    request_id = start(alice, "EV")

    response = alice.get(
        url(request_id, "manufacturer") + "?q=vo",
        headers={**HX, "HX-Target": "manufacturer-options"},
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert re.findall(r'name="manufacturer" value="([^"]+)"', response.text) == [
        "Volkswagen",
        "Volvo",
    ]
    assert "HX-Request" in response.headers["Vary"]
    full = alice.get(url(request_id, "manufacturer") + "?q=zz")
    assert "No manufacturer matches" in full.text


# ---------------------------------------------------------------- nobody else's request


def wizard_urls(draft_id, done_id):
    """Every wizard URL of two requests (a Draft and a Succeeded one), with their method."""
    urls = [("GET", url(draft_id)), ("GET", url(done_id))]
    for request_id in (draft_id, done_id):
        for page in (
            "type",
            "manufacturer",
            "details",
            "collective",
            "check",
            "steps/1",
            "steps/2",
        ):
            urls += [("GET", url(request_id, page)), ("POST", url(request_id, page))]
        urls += [
            ("GET", url(request_id, "consent")),
            ("GET", url(request_id, "done")),
            ("POST", url(request_id, "cancel")),
        ]
    return urls


@pytest.mark.parametrize("intruder", ["bob", "carol"], ids=["same tenant", "other tenant"])
def test_another_persons_request_is_not_found_on_every_url(app, alice, world, intruder):
    draft_id = at_details(alice, "EV", "Audi")
    done_id = onboard_xenn(alice, str(world.household_id))
    before = snapshot(app, draft_id), snapshot(app, done_id)
    client = signed_in_client(app, getattr(world, intruder))

    for method, path in wizard_urls(draft_id, done_id):
        data = {
            "type": "PV",
            "manufacturer": "BMW",
            "vin": AUDI_VIN,
            "collective": "none",
            "code": PAIRING_CODE,
            "version": TERMS_VERSION,
        }
        response = client.open(path, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Page not found" in response.text
        assert "Audi" not in response.text and XENN_REFERENCE not in response.text

    assert (snapshot(app, draft_id), snapshot(app, done_id)) == before
    assert "Continue where you left off" not in client.get("/").text


def test_unknown_request_ids_are_not_found(alice):
    assert alice.get(url(uuid.uuid4(), "type")).status_code == 404
    assert alice.get("/onboarding/not-a-uuid/type").status_code == 404


# ---------------------------------------------------------------- changing answers


def test_changing_the_type_drops_the_manufacturer_and_its_details(app, alice, world):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, str(world.household_id))

    answer(alice, request_id, "type", {"type": "PV"}, expect="manufacturer")

    request = get_request(app, request_id)
    assert (request.type, request.manufacturer, request.information) == ("PV", None, {})
    assert path_of(alice.get(url(request_id, "details"))) == url(request_id, "manufacturer")
    assert path_of(alice.get(url(request_id, "check"))) == url(request_id, "manufacturer")
    page = alice.get(url(request_id, "manufacturer"))
    assert "Who made your solar inverter?" in page.text
    assert " checked" not in page.text


def test_choosing_the_same_type_again_keeps_everything(app, alice, world):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, str(world.household_id))

    answer(alice, request_id, "type", {"type": "EV"}, expect="check")

    request = get_request(app, request_id)
    assert (request.manufacturer, request.information) == ("Audi", {"vin": AUDI_VIN})


def test_changing_the_manufacturer_within_a_type_keeps_the_vin(app, alice, world):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, str(world.household_id))

    answer(alice, request_id, "manufacturer", {"manufacturer": "BMW"}, expect="details")

    assert get_request(app, request_id).information == {"vin": AUDI_VIN}
    details = alice.get(url(request_id, "details"))
    assert "Which BMW electric vehicle is it?" in details.text
    assert f'value="{AUDI_VIN}"' in details.text
    answer(alice, request_id, "details", {"vin": VIN}, expect="check")
    check = alice.get(url(request_id, "check"))
    assert "BMW" in check.text and VIN in check.text and "Audi" not in check.text


def test_changing_the_manufacturer_drops_details_that_no_longer_apply(app, alice, world):
    request_id = walk_to_check(
        alice,
        "PV",
        "SMA",
        {"plantId": "1234567", "email": "owner@example.be"},
        str(world.household_id),
    )

    answer(alice, request_id, "manufacturer", {"manufacturer": "Enphase"}, expect="details")

    assert get_request(app, request_id).information == {}


CHANGE_LINKS = {
    "type": {"type": "EV"},
    "manufacturer": {"manufacturer": "Audi"},
    "details": {"vin": "WAUZZZ8V5KA106598"},
    "collective": {"collective": "community"},
}


@pytest.mark.parametrize("question", CHANGE_LINKS)
def test_change_link_returns_to_check_answers(app, alice, world, question):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, str(world.household_id))
    check = alice.get(url(request_id, "check"))
    change = url(request_id, question)
    assert f'<a href="{change}">Change' in check.text

    assert alice.get(change).status_code == 200
    posted = dict(CHANGE_LINKS[question])
    if posted.get("collective") == "community":
        posted["collective"] = str(world.community_id)
    answer(alice, request_id, question, posted, expect="check")

    check = alice.get(url(request_id, "check"))
    assert check.status_code == 200
    if question == "details":
        assert "WAUZZZ8V5KA106598" in check.text
    if question == "collective":
        assert "Sunny Street" in check.text


def test_answers_are_shown_back_on_their_pages(alice, world):
    request_id = walk_to_check(
        alice, "SmartMeter", "Fluvius", {"ean": EAN, "flow": "B2B"}, str(world.community_id)
    )

    assert radio_checked(alice.get(url(request_id, "type")), "SmartMeter")
    assert radio_checked(alice.get(url(request_id, "manufacturer")), "Fluvius")
    details = alice.get(url(request_id, "details"))
    assert f'value="{EAN}"' in details.text and radio_checked(details, "B2B")
    assert radio_checked(alice.get(url(request_id, "collective")), str(world.community_id))


# ---------------------------------------------------------------- after submission


@pytest.mark.parametrize("question", VALID_ANSWERS)
def test_reposting_a_question_after_submission_changes_nothing(app, alice, world, question):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, str(world.household_id))
    submit(alice, request_id)
    before = snapshot(app, request_id)
    posted = {"type": "PV", "manufacturer": "BMW", "vin": NORTH_AMERICAN_VIN, "collective": "none"}

    response = alice.post(url(request_id, question), data=posted)

    assert path_of(response) == url(request_id, "consent")
    consent = alice.get(url(request_id, "consent"))
    assert ALREADY_SENT in notices(consent)
    assert snapshot(app, request_id) == before


@pytest.mark.parametrize("question", ["type", "manufacturer", "details", "collective", "check"])
def test_questions_after_submission_lead_to_the_consent_page(alice, world, question):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)

    response = alice.get(url(request_id, question))

    assert path_of(response) == url(request_id, "consent")
    assert ALREADY_SENT not in notices(alice.get(url(request_id, "consent")))


def test_submitting_twice_creates_the_steps_once(app, alice, world):
    request_id = xenn_at_check(alice, world)

    submit(alice, request_id)
    assert path_of(alice.post(url(request_id, "check"))) == url(request_id, "consent")

    request = get_request(app, request_id)
    assert request.status == Status.PENDING
    assert [(s.position, s.kind, s.status) for s in request.steps] == [
        (1, "terms", StepStatus.TODO),
        (2, "pairing_code", StepStatus.TODO),
    ]
    assert count(app, ConsentStep) == 2
    assert [e.data["to"] for e in request.events if e.kind == "status"] == ["Pending"]
    assert request.submitted_at is not None


def test_consent_page_lists_the_steps(alice, world):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)

    consent = alice.get(url(request_id, "consent"))

    assert "You have done 0 of 2 steps." in consent.text
    assert f'href="{url(request_id, "steps/1")}"' in consent.text
    assert "Enter the pairing code" in consent.text
    assert "Cannot start yet" in consent.text


# ---------------------------------------------------------------- consent steps


def test_accepting_the_terms_records_the_evidence(app, world):
    tablet = app.test_client()
    tablet.environ_base.update(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Installer Tablet/1.0")
    sign_in(tablet, world.alice)
    request_id = xenn_at_check(tablet, world)
    submit(tablet, request_id)
    terms = terms_for("Acme Energy", "retrofit meter reader", "Xenn")
    page = tablet.get(url(request_id, "steps/1"))
    assert terms.paragraphs[0] in page.text
    assert f"Terms version {TERMS_VERSION}" in page.text

    response = tablet.post(url(request_id, "steps/1"), data={"version": TERMS_VERSION})

    assert path_of(response) == url(request_id, "consent")
    step = get_request(app, request_id).steps[0]
    assert step.status == StepStatus.DONE
    assert step.evidence["terms_version"] == TERMS_VERSION
    assert step.evidence["terms_sha256"] == terms.sha256
    assert len(step.evidence["terms_sha256"]) == 64
    assert step.evidence["ip"] == "203.0.113.7"
    assert step.evidence["user_agent"] == "Installer Tablet/1.0"
    assert step.actor.startswith("user:")
    assert step.completed_at is not None


def test_terms_of_another_version_are_not_accepted(app, alice, world):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)

    response = alice.post(url(request_id, "steps/1"), data={"version": "2001-01-01"})

    assert path_of(response) == url(request_id, "steps/1")
    assert "The terms changed while you were reading them." in " ".join(
        notices(alice.get(url(request_id, "steps/1")))
    )
    assert get_request(app, request_id).steps[0].status == StepStatus.TODO


def test_wrong_pairing_code_keeps_the_step_open_then_the_right_one_completes(app, alice, world):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)
    accept_terms(alice, request_id)

    wrong = pair(alice, request_id, WRONG_PAIRING_CODE)

    message = "This pairing code does not match the device. Check the code and try again."
    assert wrong.status_code == 422
    assert title_of(wrong).startswith("Error: Enter the pairing code")
    assert field_errors(wrong) == {"code": message}
    assert error_summary(wrong) == [message]
    assert f'value="{WRONG_PAIRING_CODE}"' in wrong.text
    request = get_request(app, request_id)
    assert request.status == Status.PENDING
    assert (request.steps[1].status, request.steps[1].attempts) == (StepStatus.FAILED, 1)
    assert entities_of(app, request_id) == []
    assert "Try again" in alice.get(url(request_id, "consent")).text

    right = pair(alice, request_id, "482 913")

    assert path_of(right) == url(request_id, "done")
    request = get_request(app, request_id)
    assert request.status == Status.SUCCEEDED
    assert (request.steps[1].status, request.steps[1].attempts) == (StepStatus.DONE, 2)
    assert request.steps[1].evidence["code_last_digits"] == "13"
    assert PAIRING_CODE not in str(request.steps[1].evidence)


def test_consent_steps_answer_htmx_posts(app, alice, world):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)

    terms = alice.post(url(request_id, "steps/1"), data={"version": TERMS_VERSION}, headers=HX)
    assert path_of(terms) == url(request_id, "consent")
    assert "HX-Request" in terms.headers["Vary"]

    wrong = alice.post(url(request_id, "steps/2"), data={"code": "12"}, headers=HX)
    assert_fragment(wrong, "Error: Enter the pairing code", status=422)
    assert field_errors(wrong) == {"code": "This should be 6 digits, for example 750218."}

    right = alice.post(url(request_id, "steps/2"), data={"code": PAIRING_CODE}, headers=HX)
    assert path_of(right) == url(request_id, "done")
    assert get_request(app, request_id).status == Status.SUCCEEDED


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the code."),
        ("48291", "This should be 6 digits, for example 750218."),
        ("ABCDEF", "This should be 6 digits, for example 750218."),
    ],
)
def test_malformed_pairing_code_is_explained(app, alice, world, code, message):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)
    accept_terms(alice, request_id)

    response = pair(alice, request_id, code)

    assert response.status_code == 422
    assert field_errors(response) == {"code": message}
    assert error_summary(response) == [message]
    if code:
        assert f'value="{code}"' in response.text
    assert get_request(app, request_id).status == Status.PENDING


def test_last_step_creates_exactly_one_entity_in_the_chosen_collective(app, alice, world):
    request_id = onboard_xenn(alice, str(world.community_id))

    request = get_request(app, request_id)
    assert request.status == Status.SUCCEEDED
    assert request.finished_at is not None
    [entity] = entities_of(app, request_id)
    assert entity.collective_id == world.community_id
    assert entity.tenant_id == world.acme_id
    assert entity.owner_id == request.owner_id
    assert (entity.type, entity.manufacturer) == ("RetrofitMeter", "Xenn")
    assert entity.information == {"reference": XENN_REFERENCE}
    assert entity.status == "Connected"
    assert [e.data["to"] for e in request.events if e.kind == "status"] == [
        "Pending",
        "InProgress",
        "Succeeded",
    ]
    done = alice.get(url(request_id, "done"))
    assert "Your retrofit meter reader is connected" in done.text
    assert str(entity.id) in done.text and "Sunny Street" in done.text


def test_posting_the_last_step_twice_creates_one_entity(app, alice, world):
    request_id = onboard_xenn(alice, str(world.household_id))

    again = pair(alice, request_id)

    assert path_of(again) == url(request_id, "done")
    assert "That step is already done." in notices(alice.get(url(request_id, "done")))
    assert len(entities_of(app, request_id)) == 1
    assert count(app, Entity) == 1
    assert get_request(app, request_id).status == Status.SUCCEEDED
    assert path_of(alice.post(url(request_id, "steps/1"), data={"version": TERMS_VERSION})) == url(
        request_id, "done"
    )
    assert count(app, Entity) == 1


def test_p1_dongle_onboarding_without_a_group(app, alice):
    request_id = walk_to_check(
        alice, "SmartMeter", "re.alto P1-Dongle", {"code": "ra1b-2c3d-4e5f"}, "none"
    )
    submit(alice, request_id)
    accept_terms(alice, request_id)

    assert path_of(pair(alice, request_id)) == url(request_id, "done")

    [entity] = entities_of(app, request_id)
    assert entity.collective_id is None
    assert entity.information == {"code": DONGLE_CODE}


# ---------------------------------------------------------------- Fluvius smart meter


def test_fluvius_needs_an_ean_and_a_flow_stored_under_properties(app, alice, world):
    request_id = at_details(alice, "SmartMeter", "Fluvius")
    details = alice.get(url(request_id, "details"))
    assert 'name="ean"' in details.text and 'name="flow"' in details.text

    answer(
        alice,
        request_id,
        "details",
        {"ean": "54 1448 8200 1234 5678", "flow": "B2B"},
        expect="collective",
    )
    answer(alice, request_id, "collective", {"collective": str(world.household_id)}, expect="check")

    request = get_request(app, request_id)
    assert request.information == {"ean": EAN}
    assert request.properties == {"flow": "B2B"}
    check = alice.get(url(request_id, "check"))
    assert EAN in check.text and "Business (B2B)" in check.text
    submit(alice, request_id)
    request = get_request(app, request_id)
    assert [s.kind for s in request.steps] == ["terms", "redirect"]
    assert request.properties == {"flow": "B2B"}


# ---------------------------------------------------------------- home page and resuming


def test_home_shows_drafts_to_continue_at_the_right_step(alice, world):
    at_collective = at_details(alice, "EV", "Audi")
    answer(alice, at_collective, "details", {"vin": AUDI_VIN}, expect="collective")
    at_manufacturer = start(alice, "PV")

    home = alice.get("/")

    assert "Continue where you left off" in home.text
    assert f'href="{url(at_collective, "collective")}"' in home.text
    assert f'href="{url(at_manufacturer, "manufacturer")}"' in home.text
    assert f"Audi electric vehicle · {AUDI_VIN}" in home.text
    assert "No device is connected yet." in home.text


def test_a_draft_resumes_after_signing_out_and_in_again(app, alice, world):
    request_id = at_details(alice, "SmartMeter", "Fluvius")
    answer(alice, request_id, "details", {"ean": EAN, "flow": "B2C"}, expect="collective")
    alice.post("/auth/logout")
    assert path_of(alice.get(url(request_id, "collective"))).startswith("/auth/login")

    later = app.test_client()  # another browser, another day
    sign_in(later, world.alice)
    home = later.get("/")
    assert f'href="{url(request_id, "collective")}"' in home.text
    assert path_of(later.get(url(request_id))) == url(request_id, "collective")

    details = later.get(url(request_id, "details"))
    assert f'value="{EAN}"' in details.text and radio_checked(details, "B2C")
    answer(later, request_id, "collective", {"collective": "none"}, expect="check")
    check = later.get(url(request_id, "check"))
    assert EAN in check.text and "Home (B2C)" in check.text


def test_home_lists_connected_devices_and_pending_requests(alice, world):
    onboard_xenn(alice, str(world.household_id))
    pending = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN}, "none")
    submit(alice, pending)

    home = alice.get("/")

    table = home.text[home.text.index("Connected devices") :]
    assert "Xenn retrofit meter reader" in table
    assert XENN_REFERENCE in table and "Alice&#39;s home" in table and "Connected" in table
    assert "No device is connected yet." not in home.text
    assert f'href="{url(pending, "consent")}"' in home.text
    assert "0 of 2 steps done" in home.text


def test_home_shows_only_my_own_requests(app, alice, world):
    at_details(alice, "EV", "Audi")
    bob = signed_in_client(app, world.bob)

    assert "Continue where you left off" not in bob.get("/").text


# ---------------------------------------------------------------- cancel


def test_cancel_a_draft(app, alice, world):
    request_id = at_details(alice, "EV", "Audi")

    response = alice.post(url(request_id, "cancel"))

    assert path_of(response) == "/"
    home = alice.get("/")
    assert "The request was canceled. Nothing was connected." in notices(home)
    assert "Requests that did not finish" in home.text
    assert "Continue where you left off" not in home.text
    request = get_request(app, request_id)
    assert request.status == Status.CANCELED
    assert request.finished_at is not None
    assert path_of(alice.get(url(request_id, "details"))) == url(request_id, "consent")
    assert "This request is canceled" in alice.get(url(request_id, "consent")).text
    assert path_of(alice.post(url(request_id, "details"), data={"vin": AUDI_VIN})) == url(
        request_id, "consent"
    )
    assert get_request(app, request_id).information == {}


def test_cancel_a_pending_request_then_its_steps_are_closed(app, alice, world):
    request_id = xenn_at_check(alice, world)
    submit(alice, request_id)

    alice.post(url(request_id, "cancel"))

    assert get_request(app, request_id).status == Status.CANCELED
    assert path_of(alice.get(url(request_id, "steps/1"))) == url(request_id, "consent")
    assert path_of(alice.post(url(request_id, "steps/1"), data={"version": TERMS_VERSION})) == url(
        request_id, "consent"
    )
    assert get_request(app, request_id).steps[0].status == StepStatus.TODO


def test_cancelling_twice_or_after_success_changes_nothing(app, alice, world):
    draft = at_details(alice, "EV", "Audi")
    alice.post(url(draft, "cancel"))
    events = len(get_request(app, draft).events)
    alice.post(url(draft, "cancel"))
    assert len(get_request(app, draft).events) == events

    done = onboard_xenn(alice, "none")
    assert path_of(alice.post(url(done, "cancel"))) == "/"
    assert get_request(app, done).status == Status.SUCCEEDED


def test_cancel_is_post_only(alice):
    request_id = start(alice, "EV")

    assert alice.get(url(request_id, "cancel")).status_code == 405


# ---------------------------------------------------------------- CSRF on every step


def csrf_client(app, email):
    """A signed-in client whose every request carries the CSRF header, as htmx sends it."""
    client = app.test_client()
    token = csrf_token(client.get("/auth/login"))
    client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client.get("/"))
    return client


def post_without_token(client, path, data):
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    try:
        return client.post(path, data=data)
    finally:
        client.environ_base["HTTP_X_CSRFTOKEN"] = token


@pytest.mark.csrf
def test_every_wizard_post_without_a_csrf_token_is_refused(app, world):
    client = csrf_client(app, world.alice)
    assert (
        post_without_token(client, "/onboarding/new", {"type": "RetrofitMeter"}).status_code == 400
    )
    assert count(app, OnboardingRequest) == 0

    request_id = start(client, "RetrofitMeter")
    for page, data in [
        ("type", {"type": "RetrofitMeter"}),
        ("manufacturer", {"manufacturer": "Xenn"}),
        ("details", {"reference": XENN_REFERENCE}),
        ("collective", {"collective": "none"}),
        ("check", {}),
    ]:
        before = snapshot(app, request_id)
        refused = post_without_token(client, url(request_id, page), data)
        assert refused.status_code == 400, page
        assert "Something in the request was not right" in refused.text
        assert snapshot(app, request_id) == before
        client.post(url(request_id, page), data=data)  # with the header: taken
    assert get_request(app, request_id).status == Status.PENDING

    for position, data in [(1, {"version": TERMS_VERSION}), (2, {"code": PAIRING_CODE})]:
        before = snapshot(app, request_id)
        assert (
            post_without_token(client, url(request_id, f"steps/{position}"), data).status_code
            == 400
        )
        assert snapshot(app, request_id) == before
        client.post(url(request_id, f"steps/{position}"), data=data)
    assert get_request(app, request_id).status == Status.SUCCEEDED

    other = start(client, "EV")
    assert post_without_token(client, url(other, "cancel"), {}).status_code == 400
    assert get_request(app, other).status == Status.DRAFT


@pytest.mark.csrf
def test_htmx_wizard_post_with_the_csrf_header_passes(app, world):
    client = csrf_client(app, world.alice)
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")

    response = client.post(
        "/onboarding/new", data={"type": "EV"}, headers={**HX, "X-CSRFToken": token}
    )

    assert response.status_code == 302
    assert count(app, OnboardingRequest) == 1


@pytest.mark.csrf
def test_a_form_token_passes_without_the_header(app, world):
    client = csrf_client(app, world.alice)
    page = client.get("/onboarding/new")
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert token
    client.environ_base.pop("HTTP_X_CSRFTOKEN")

    response = client.post("/onboarding/new", data={"type": "EV", "csrf_token": token.group(1)})

    assert response.status_code == 302


def test_events_record_who_answered(app, alice):
    request_id = at_details(alice, "EV", "Audi")

    with in_db(app) as session:
        events = session.query(Event).filter_by(request_id=request_id).order_by(Event.id).all()
        assert [e.kind for e in events] == ["created", "answer"]
        assert all(e.actor.startswith("user:") for e in events)


def test_a_step_url_of_a_draft_leads_back_to_its_question(alice):
    request_id = start(alice, "RetrofitMeter")
    response = alice.get(url(request_id, "steps/1"))
    assert path_of(response) == url(request_id, "manufacturer")


def test_answering_a_canceled_draft_does_not_claim_it_was_sent(alice):
    request_id = start(alice, "RetrofitMeter")
    alice.post(url(request_id, "cancel"))
    response = alice.post(
        url(request_id, "manufacturer"), data={"manufacturer": "Xenn"}, follow_redirects=True
    )
    assert "already sent" not in response.text
    assert "canceled" in response.text.lower()
