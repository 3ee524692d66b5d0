"""The owner's journey as a whole: screens to the manufacturer for every catalog entry,
drafts that do not pile up, one account of the consent, a link that lands well, times in
the person's zone."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.catalog import Attribute, Manufacturer
from app.catalog.loader import load_catalog
from app.consent import links
from app.extensions import db
from app.i18n import in_sentence
from app.models import OnboardingRequest, Role, Tenant
from app.onboarding.audit import SYSTEM
from app.onboarding.intake import create_request
from app.onboarding.lifecycle import cancel_request
from app.onboarding.states import Status, StepStatus
from app.onboarding.steps import complete_step
from app.onboarding.terms import TERMS_VERSION, terms_for
from app.templating import format_datetime
from tests.integration.helpers import (
    EAN,
    HX,
    TITLE_SUFFIX,
    XENN_REFERENCE,
    add_user,
    declare,
    get_request,
    in_db,
    link_path,
    make_world,
    onboard_xenn,
    path_of,
    sign_in,
    signed_in_client,
    start,
    title_of,
    url,
    walk_to_check,
)

CATALOG = load_catalog()
AUDI_VIN = "WAUZZZ8V5KA106598"

# At most this many screens from the first wizard page to the manufacturer (its own page
# not counted), or to the step at the device or the app when there is no sign-in.
GOAL = 5
AUDI_GOAL = 5


@pytest.fixture
def alice(app, world):
    return signed_in_client(app, world.alice)


def vin_of(manufacturer: Manufacturer) -> str:
    """A VIN of this maker (its own WMI, so no question about the maker): one outside North
    America, where no check digit applies."""
    wmi = next((w for w in manufacturer.wmi if w[0].isalpha()), "WAU")
    return f"{wmi}ZZZ8V0KA000000"


def example_answer(attribute: Attribute, manufacturer: Manufacturer) -> str:
    """A valid answer for an identifying attribute, from the catalog's own examples."""
    if attribute.rule == "vin":
        return vin_of(manufacturer)
    if attribute.rule == "ean":
        return EAN
    if attribute.rule == "email":
        return "owner@example.com"
    if attribute.rule == "choice":
        return attribute.choices[0].value
    return attribute.example or "x"


def screens_to_manufacturer(client: FlaskClient, type_id: str, name: str) -> list[str]:
    """Drive the wizard as a person would, answering each page it shows, and return the
    pages shown until the owner leaves for the manufacturer or acts at the device."""
    manufacturer = CATALOG.manufacturer(type_id, name)
    assert manufacturer is not None
    shown = ["type"]
    assert client.get("/onboarding/new").status_code == 200
    response = client.post("/onboarding/new", data={"type": type_id})
    for _ in range(12):
        where = path_of(response)
        if where.startswith("/sandbox/") or not where.startswith("/"):
            return shown  # at the manufacturer's sign-in
        page = client.get(where)
        if page.status_code in (302, 303):
            response = page
            continue
        assert page.status_code == 200, (where, page.text[:300])
        name_of_page = where.rsplit("/", 2)[-1] if "/steps/" not in where else "step"
        shown.append(name_of_page)
        if name_of_page == "step":
            return shown  # the pairing code or the app: the owner acts at the device
        response = answer_page(client, where, name_of_page, page.text, manufacturer)
    raise AssertionError(f"no way to the manufacturer: {shown}")


def answer_page(client: FlaskClient, where: str, page: str, text: str, manufacturer: Manufacturer):
    if page == "manufacturer":
        return client.post(where, data={"manufacturer": manufacturer.name})
    if page == "details":
        data = {a.name: example_answer(a, manufacturer) for a in manufacturer.attributes}
        return client.post(where, data=data)
    if page == "check":
        version = re.search(r'name="version" value="([^"]+)"', text)
        assert version, "check answers ends in the declaration"
        return client.post(where, data={"version": version.group(1), "language": "en"})
    raise AssertionError(f"a screen nobody expected: {page}")


def test_every_catalog_entry_reaches_the_manufacturer_within_the_goal(app, world, capsys):
    """The screen-count table: every type/manufacturer pair, its screens, its goal."""
    rows = []
    with app.app_context():
        pairs = [(t.id, m) for t in CATALOG.types.values() for m in t.manufacturers]
    for type_id, name in pairs:
        client = signed_in_client(app, world.alice)
        shown = screens_to_manufacturer(client, type_id, name)
        # Done with this pair: catalog examples repeat across manufacturers (SMA's plant ID
        # and SolarEdge's site ID are both 1234567), and a device under way is not asked
        # for again.
        with in_db(app) as session:
            for open_request in session.scalars(
                select(OnboardingRequest).where(OnboardingRequest.status == Status.PENDING)
            ):
                cancel_request(open_request, SYSTEM)
            session.commit()
        goal = AUDI_GOAL if (type_id, name) == ("EV", "Audi") else GOAL
        rows.append((type_id, name, len(shown), goal, " → ".join(shown)))
    with capsys.disabled():
        print("\n\nScreens before the manufacturer (its own page not counted)")
        print(f"{'type':<14}{'manufacturer':<20}{'screens':>8}{'goal':>6}  pages")
        for type_id, name, screens, goal, pages in rows:
            print(f"{type_id:<14}{name:<20}{screens:>8}{goal:>6}  {pages}")
    assert all(screens <= goal for _, _, screens, goal, _ in rows), rows
    audi = next(r for r in rows if r[:2] == ("EV", "Audi"))
    assert audi[2] <= 5
    # The tenant has groups, yet no pair is asked for one on the way.
    assert not any("collective" in r[4] for r in rows)


def test_the_declaration_records_the_terms_evidence_and_goes_to_audi(app, world):
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Phone/2.0")
    sign_in(client, world.alice)
    request_id = walk_to_check(client, "EV", "Audi", {"vin": AUDI_VIN})
    check = client.get(url(request_id, "check"))
    assert "What you agree to" in check.text
    assert f"Terms version {TERMS_VERSION}" in check.text
    assert "Agree and continue to Audi" in check.text
    assert 'class="terms" tabindex' not in check.text  # nothing scrolls inside

    response = declare(client, request_id)

    assert path_of(response).startswith("/sandbox/audi/")
    request = get_request(app, request_id)
    assert request.status == Status.PENDING
    terms_step, redirect_step = request.steps
    with app.test_request_context():
        terms = terms_for("Acme Energy", "electric vehicle", CATALOG.manufacturer("EV", "Audi"))
    assert terms_step.status == StepStatus.DONE
    assert terms_step.evidence["terms_version"] == TERMS_VERSION
    assert terms_step.evidence["terms_sha256"] == terms.sha256
    assert terms_step.evidence["terms_language"] == "en"
    assert terms_step.evidence["ip"] == "203.0.113.9"
    assert terms_step.evidence["user_agent"] == "Phone/2.0"
    assert redirect_step.status == StepStatus.WAITING


def test_the_declaration_of_an_older_version_sends_nothing(app, alice):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN})

    response = alice.post(url(request_id, "check"), data={"version": "2001-01-01"})

    assert path_of(response) == url(request_id, "check")
    assert get_request(app, request_id).status == Status.DRAFT
    assert (
        "The terms changed while you were reading them." in alice.get(url(request_id, "check")).text
    )


def test_the_declaration_leads_to_the_pairing_step_for_a_meter(app, alice):
    request_id = walk_to_check(alice, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE})
    check = alice.get(url(request_id, "check"))
    assert "After you agree: Enter the pairing code." in html.unescape(check.text)

    assert path_of(declare(alice, request_id)) == url(request_id, "steps/2")


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_check_answers_offers_the_group_instead_of_asking_it(app, alice, world, headers):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN})
    check = alice.get(url(request_id, "check"), headers=headers)
    assert check.status_code == 200
    assert title_of(check) == "Check your answers" + TITLE_SUFFIX
    assert f'href="{url(request_id, "collective")}"' in check.text
    assert "No group" in check.text

    chosen = alice.post(
        url(request_id, "collective"), data={"collective": str(world.household_id)}, headers=headers
    )

    assert path_of(chosen) == url(request_id, "check")
    assert "Alice&#39;s home" in alice.get(url(request_id, "check")).text


def test_no_group_row_when_the_tenant_has_none(app):
    world = make_world(app, acme_collectives=False)
    client = signed_in_client(app, world.alice)
    request_id = walk_to_check(client, "EV", "Audi", {"vin": AUDI_VIN})
    assert (
        f'href="{url(request_id, "collective")}"' not in client.get(url(request_id, "check")).text
    )
    assert path_of(client.get(url(request_id, "collective"))) == url(request_id, "check")


# ---------------------------------------------------------------- drafts


def drafts_of(app: Flask) -> list[OnboardingRequest]:
    with in_db(app) as session:
        found = list(
            session.scalars(select(OnboardingRequest).where(OnboardingRequest.status == "Draft"))
        )
        session.expunge_all()
        return found


def test_starting_again_reuses_a_draft_that_holds_only_its_first_answer(app, alice):
    first = start(alice, "EV")
    again = start(alice, "EV")
    other_type = start(alice, "PV")

    assert first == again == other_type
    [draft] = drafts_of(app)
    assert draft.type == "PV" and draft.answered == ["type"]


def test_a_draft_with_more_answers_is_kept_and_a_new_one_started(app, alice):
    first = start(alice, "EV")
    alice.post(url(first, "manufacturer"), data={"manufacturer": "Audi"})

    second = start(alice, "EV")

    assert second != first
    assert len(drafts_of(app)) == 2


def test_another_owners_blank_draft_is_never_reused(app, world, alice):
    bob = signed_in_client(app, world.bob)
    assert start(alice, "EV") != start(bob, "EV")


def test_each_draft_card_says_what_it_is_and_how_far_it_got_once(app, alice):
    audi = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN})
    start(alice, "EV")

    home = alice.get("/")

    cards = re.findall(r'<li class="card">(.*?)</li>', home.text, re.S)
    assert len(cards) == 2
    for card in cards:
        assert card.count("Not sent yet") == 1
    assert any(
        "Answers ready to check" in c and f"Audi electric vehicle · {AUDI_VIN}" in c for c in cards
    )
    assert any("Question 2 of 3" in c and "Electric vehicle" in c for c in cards)
    assert f'href="/onboarding/{audi}/discard?next=/"' in home.text


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_a_draft_is_discarded_after_a_confirmation(app, alice, headers):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN})

    confirm = alice.get(url(request_id, "discard") + "?next=/", headers=headers)

    assert confirm.status_code == 200
    assert title_of(confirm) == "Discard this draft?" + TITLE_SUFFIX
    assert ("<html" in confirm.text) is not bool(headers)
    assert 'href="/"' in confirm.text  # "Keep it" goes back home
    assert get_request(app, request_id).status == Status.DRAFT

    done = alice.post(url(request_id, "discard"), headers=headers)

    assert path_of(done) == "/"
    request = get_request(app, request_id)
    assert request.status == Status.CANCELED
    assert request.failure_reason == "discarded"
    assert any(e.kind == "status" and e.data.get("to") == "Canceled" for e in request.events)
    home = alice.get("/")
    assert "The draft was discarded." in home.text
    assert AUDI_VIN not in home.text  # neither under way nor in the unfinished list


def test_a_sent_request_cannot_be_discarded(app, alice):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN})
    declare(alice, request_id)
    assert path_of(alice.post(url(request_id, "discard"))) == url(request_id, "consent")
    assert get_request(app, request_id).status == Status.PENDING


def test_requests_that_did_not_finish_open_their_page(app, alice):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN})
    declare(alice, request_id)
    alice.post(url(request_id, "cancel"))

    home = alice.get("/")

    assert f'href="{url(request_id, "consent")}"' in home.text
    page = alice.get(url(request_id, "consent"))
    assert "This request is canceled" in page.text


# ---------------------------------------------------------------- cancel and disconnect


def test_canceling_a_request_asks_for_confirmation(app, alice):
    request_id = walk_to_check(alice, "EV", "Audi", {"vin": AUDI_VIN})
    declare(alice, request_id)
    overview = alice.get(url(request_id, "consent"))
    assert f'href="{url(request_id, "cancel")}"' in overview.text

    confirm = alice.get(url(request_id, "cancel"))

    assert title_of(confirm) == "Cancel this request?" + TITLE_SUFFIX
    assert get_request(app, request_id).status == Status.PENDING
    assert path_of(alice.post(url(request_id, "cancel"))) == "/"
    assert get_request(app, request_id).status == Status.CANCELED


def test_disconnecting_needs_no_reason(app, alice, world):
    request_id = onboard_xenn(alice)
    entity_id = get_request(app, request_id).entity.id
    page = alice.get(f"/devices/{entity_id}/disconnect")
    assert "Why do you disconnect it? (optional)" in page.text

    assert path_of(alice.post(f"/devices/{entity_id}/disconnect", data={})) == "/"

    request = get_request(app, request_id)
    assert request.entity.status == "Disconnected"
    assert request.steps[0].revoke_reason == "not given"


# ---------------------------------------------------------------- one account of the consent


def consent_sentences(text: str) -> list[str]:
    return [
        re.sub(r"[ \t\n]+", " ", html.unescape(m)).strip()
        for m in re.findall(r"<p data-consent-scope>(.*?)</p>", text, re.S)
    ]


@pytest.mark.parametrize(
    ("manufacturer", "commands"),
    [("Renault", False), ("Audi", True)],
    ids=["read-only", "read-and-command"],
)
@pytest.mark.parametrize("language", ["en", "nl", "fr", "de"])
def test_the_consent_says_the_same_on_every_page(app, world, manufacturer, commands, language):
    client = signed_in_client(app, world.alice)
    client.set_cookie("lang", language)
    vin = vin_of(CATALOG.manufacturer("EV", manufacturer))
    request_id = walk_to_check(client, "EV", manufacturer, {"vin": vin})
    on_check = consent_sentences(client.get(url(request_id, "check")).text)
    # Sent without the declaration, the terms have their own page.
    client.post(url(request_id, "check"))
    on_terms = consent_sentences(client.get(url(request_id, "steps/1")).text)
    on_overview = consent_sentences(client.get(url(request_id, "consent")).text)
    client.post(url(request_id, "steps/1"), data={"version": TERMS_VERSION, "language": language})
    on_manufacturer_step = consent_sentences(client.get(url(request_id, "steps/2")).text)

    assert len(on_check) == 2
    assert on_check == on_terms == on_overview == on_manufacturer_step
    with app.test_request_context(), force_locale(language):
        terms = terms_for(
            "Acme Energy",
            in_sentence(gettext("Electric vehicle")),
            CATALOG.manufacturer("EV", manufacturer),
        )
    assert on_check == list(terms.scope)
    if language == "en":
        reads, sends = on_check
        assert "battery level and charging status" in reads
        if commands:
            assert sends.startswith("Acme Energy may also send it commands: start and stop")
        else:
            assert sends == (
                "Acme Energy cannot send commands to your electric vehicle: it only reads its data."
            )


def test_a_meter_is_never_said_to_have_a_state_of_charge(app, alice):
    request_id = walk_to_check(alice, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE})
    text = alice.get(url(request_id, "check")).text
    assert "state of charge" not in text and "battery" not in text
    assert "electricity taken from the grid and electricity fed into the grid" in text
    assert "cannot send commands" in text


# ---------------------------------------------------------------- the hosted link


def partner_request(app: Flask, return_url: str | None) -> tuple[uuid.UUID, str]:
    """An Audi request from a partner's API, and the consent link it hands the owner."""
    with app.test_request_context(), in_db(app) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "acme"))
        request = create_request(
            tenant, "EV", "Audi", {"vin": AUDI_VIN}, CATALOG, SYSTEM, return_url=return_url
        )
        session.commit()
        link = links.consent_url(db.session.get(OnboardingRequest, request.id), SYSTEM)
        db.session.commit()
        return request.id, link_path(link)


def test_the_link_lands_with_who_asks_what_and_how_long(app, world):
    request_id, link = partner_request(app, "https://partner.example/back?x=1")
    owner = app.test_client()

    landing = owner.get(path_of(owner.get(link)))

    text = html.unescape(landing.text)
    assert "Acme Energy asks you to connect your Audi electric vehicle." in text
    assert AUDI_VIN in text
    assert "It takes about 3 minutes, in 2 steps:" in text
    assert len(consent_sentences(landing.text)) == 2
    assert f'href="{url(request_id, "decline")}"' in landing.text
    assert "Not now: decline this request" in text


@pytest.mark.parametrize("headers", [{}, HX], ids=["plain", "htmx"])
def test_declining_returns_to_the_partner_with_status_canceled(app, world, headers):
    request_id, link = partner_request(app, "https://partner.example/back?x=1")
    owner = app.test_client()
    owner.get(link)

    confirm = owner.get(url(request_id, "decline"), headers=headers)
    assert title_of(confirm) == "Decline this request?" + TITLE_SUFFIX
    assert get_request(app, request_id).status == Status.PENDING
    response = owner.post(url(request_id, "decline"), headers=headers)

    back = response.headers.get("HX-Redirect") or response.headers["Location"]
    parts = urlsplit(back)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "partner.example", "/back")
    assert parse_qs(parts.query) == {"x": ["1"], "id": [str(request_id)], "status": ["Canceled"]}
    request = get_request(app, request_id)
    assert request.status == Status.CANCELED
    assert request.failure_reason == "declined"
    assert [e.data["reason"] for e in request.events if e.kind == "status"][-1] == "declined"


def test_declining_without_a_return_url_says_it_was_declined(app, world):
    request_id, link = partner_request(app, None)
    owner = app.test_client()
    owner.get(link)

    response = owner.post(url(request_id, "decline"))

    assert path_of(response) == url(request_id, "consent")
    page = html.unescape(owner.get(url(request_id, "consent")).text)
    assert "You declined the request. Nothing was connected." in page
    assert "it was declined" in page


def test_a_stranger_cannot_decline(app, world):
    request_id, _link = partner_request(app, None)
    stranger = app.test_client()
    assert path_of(stranger.post(url(request_id, "decline"))).startswith("/auth/login")
    assert get_request(app, request_id).status == Status.PENDING


def test_the_done_page_is_for_the_owner_and_the_link_holder_only(app, world):
    alice = signed_in_client(app, world.alice)
    request_id = onboard_xenn(alice)
    done = html.unescape(alice.get(url(request_id, "done")).text)
    assert "What happens next" in done and "How to disconnect" in done
    assert "choose Disconnect beside this one" in done

    with in_db(app) as session:
        tenant = session.get(Tenant, world.acme_id)
        add_user(session, tenant, "sam@acme.example", Role.SUPPORT)
        session.commit()
    support = signed_in_client(app, "sam@acme.example")
    assert support.get(url(request_id, "done")).status_code == 404
    assert signed_in_client(app, world.bob).get(url(request_id, "done")).status_code == 404


def test_the_done_page_tells_a_link_holder_how_to_disconnect(app, world):
    request_id, link = partner_request(app, None)
    owner = app.test_client()
    owner.get(link)
    owner.post(url(request_id, "steps/1"), data={"version": TERMS_VERSION, "language": "en"})
    with app.test_request_context(), in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        complete_step(request, request.steps[1], SYSTEM, {})
        session.commit()

    done = html.unescape(owner.get(url(request_id, "done")).text)

    assert "ask Acme Energy to disconnect it" in done
    assert "You can close this page now." in done


# ---------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Europe/Brussels", "7 November 2026, 19:05 CET"),
        ("America/New_York", "7 November 2026, 13:05 EST"),
        ("Not/AZone", "7 November 2026, 18:05 UTC"),
        ("../../etc/passwd", "7 November 2026, 18:05 UTC"),
        ("", "7 November 2026, 18:05 UTC"),
    ],
)
def test_times_are_shown_in_the_persons_zone(app, zone, shown):
    moment = datetime(2026, 11, 7, 18, 5, tzinfo=UTC)
    with app.test_request_context(headers={"Cookie": f"tz={zone}"}):
        assert format_datetime(moment) == shown


def test_the_home_page_shows_times_in_the_zone_of_the_browser(app, alice):
    start(alice, "EV")
    alice.set_cookie("tz", "Asia/Tokyo")
    assert "JST" in alice.get("/").text


def test_the_waiting_page_offers_a_refresh_without_javascript(app, world):
    alice = signed_in_client(app, world.alice)
    request_id = walk_to_check(
        alice, "EV", "Kia", {"vin": vin_of(CATALOG.manufacturer("EV", "Kia"))}
    )
    assert path_of(declare(alice, request_id)) == url(request_id, "steps/2")
    alice.post(url(request_id, "steps/2"))

    waiting = alice.get(url(request_id, "steps/2"))

    assert '<noscript><p><a class="button button--secondary"' in waiting.text
    assert ">Refresh</a>" in waiting.text
    # The promise is made only where JavaScript shows it.
    assert "<p data-needs-js hidden>This page updates by itself.</p>" in waiting.text
    assert waiting.text.count("updates by itself") == 1
