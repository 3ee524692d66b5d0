"""The support console: find a stalled request by whatever the caller has, read it, and get
it moving again — never consenting for the owner."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.catalog import current_catalog
from app.consent import links
from app.extensions import db
from app.models import ConsentLink, Event, OnboardingRequest, Role, Tenant, User, utcnow
from app.onboarding.audit import OWNER_LINK
from app.onboarding.states import Status, StepStatus
from app.onboarding.steps import complete_step, fail_step_attempt, start_step
from tests.integration.helpers import (
    AUDI_VIN,
    DONGLE_CODE,
    EAN,
    HX,
    World,
    add_user,
    field_errors,
    get_request,
    in_db,
    link_path,
    pending_request,
    sent_emails,
    signed_in_client,
    title_of,
)

SUPPORT = "sam@acme.example"
OTHER_VIN = "WAUZZZ8V0KA000001"


@pytest.fixture
def support(app: Flask, world: World) -> FlaskClient:
    with in_db(app) as session:
        acme = session.get(Tenant, world.acme_id)
        add_user(session, acme, SUPPORT, Role.SUPPORT)
        add_user(session, acme, "ada@acme.example", Role.ADMIN)
        add_user(session, acme, "ian@acme.example", Role.INSTALLER)
        add_user(session, session.get(Tenant, world.other_id), "sue@other.example", Role.SUPPORT)
        session.commit()
    return signed_in_client(app, SUPPORT)


def support_id(app: Flask) -> int:
    with in_db(app) as session:
        user = session.scalar(select(User).where(User.email == SUPPORT))
        assert user is not None
        return user.id


def idle(app: Flask, request_id: uuid.UUID, for_: timedelta) -> None:
    """The request's last activity was `for_` ago."""
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        request.last_activity_at = utcnow() - for_
        session.commit()


def listed(response) -> set[str]:
    """The request ids the list shows (from its links to the request pages)."""
    assert response.status_code == 200, response.text[:300]
    return set(re.findall(r"/support/requests/([0-9a-f-]{36})", response.text))


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def events(app: Flask, request_id: uuid.UUID, kind: str) -> list[Event]:
    with in_db(app) as session:
        found = list(
            session.scalars(select(Event).where(Event.request_id == request_id, Event.kind == kind))
        )
        session.expunge_all()
        return found


# ---------------------------------------------------------------- who reaches the console


def test_owners_and_installers_get_404_and_no_header_link(app: Flask, support, world) -> None:
    for email in (world.alice, "ian@acme.example"):
        client = signed_in_client(app, email)
        assert client.get("/support/").status_code == 404
        assert client.get("/support/funnel").status_code == 404
        assert "/support/" not in client.get("/").text
    page = support.get("/support/")
    assert page.status_code == 200
    assert 'href="/support/"' in page.text  # the header's Requests link
    admin = signed_in_client(app, "ada@acme.example")
    assert admin.get("/support/").status_code == 200


def test_another_tenants_request_is_404_to_support(app: Flask, support) -> None:
    request_id = pending_request(app)
    other = signed_in_client(app, "sue@other.example")
    assert other.get(f"/support/requests/{request_id}").status_code == 404
    assert listed(other.get("/support/?view=all")) == set()
    assert listed(other.get(f"/support/?view=all&q={request_id}")) == set()
    assert support.get(f"/support/requests/{request_id}").status_code == 200


# ---------------------------------------------------------------- stalled


def test_stalled_starts_just_past_the_threshold(app: Flask, support) -> None:
    app.config["STALLED_AFTER"] = timedelta(hours=48)
    over = pending_request(app, vin=AUDI_VIN)
    under = pending_request(app, vin=OTHER_VIN)
    idle(app, over, timedelta(hours=48, minutes=1))
    idle(app, under, timedelta(hours=47, minutes=59))
    shown = listed(support.get("/support/"))
    assert str(over) in shown and str(under) not in shown
    page = text_of(support.get("/support/"))
    assert "Waiting for the owner: Agree to share your device's data (step 1)" in page
    # 0 hours: every open request is stalled, a finished one never is.
    app.config["STALLED_AFTER"] = timedelta(0)
    canceled = pending_request(app, vin="WAUZZZ8V0KA000002")
    support.post(f"/support/requests/{canceled}/cancel", data={"reason": "duplicate"})
    shown = listed(support.get("/support/"))
    assert {str(over), str(under)} <= shown and str(canceled) not in shown


def test_stalled_view_shows_oldest_first_with_why(app: Flask, support) -> None:
    app.config["STALLED_AFTER"] = timedelta(0)
    newer = pending_request(app, vin=AUDI_VIN)
    older = pending_request(app, vin=OTHER_VIN)
    idle(app, older, timedelta(days=3))
    with in_db(app) as session:
        request = session.get(OnboardingRequest, newer)
        request.steps[0].status = StepStatus.FAILED
        request.steps[0].failure_reason = "denied"
        session.commit()
    page = support.get("/support/").text
    assert page.index(str(older)) < page.index(str(newer))
    assert "Why: access was refused" in text_of(support.get("/support/"))


# ---------------------------------------------------------------- search


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_search_finds_by_every_thing_a_caller_has(app: Flask, support, hx: bool) -> None:
    audi = pending_request(app, vin=AUDI_VIN, reference="ORDER-77", email="Jo@Example.com")
    meter = pending_request(app, "acme", "SmartMeter", "Fluvius", ean=EAN, flow="B2C")
    dongle = pending_request(app, "acme", "SmartMeter", "re.alto P1-Dongle", code=DONGLE_CODE)
    headers = {**HX, "HX-Target": "results"} if hx else {}
    spaced_vin = " ".join([AUDI_VIN[:3].lower(), AUDI_VIN[3:9], AUDI_VIN[9:]])
    spaced_ean = f"{EAN[:6]} {EAN[6:12]}-{EAN[12:]}"
    cases = {
        spaced_vin: audi,
        spaced_ean: meter,
        DONGLE_CODE.lower(): dongle,
        "ORDER-77": audi,
        "jo@example.COM": audi,
        str(audi)[:8]: audi,
        str(meter): meter,
        str(dongle).upper(): dongle,
    }
    for query, expected in cases.items():
        response = support.get(
            "/support/", query_string={"view": "all", "q": query}, headers=headers
        )
        assert listed(response) == {str(expected)}, query
        if hx:
            assert "<html" not in response.text and 'id="results"' in response.text
        else:
            assert title_of(response).startswith("Requests")
    # From the stalled view too: a search finds a request whatever its state.
    assert listed(support.get("/support/", query_string={"q": AUDI_VIN})) == {str(audi)}
    nothing = support.get("/support/", query_string={"view": "all", "q": "nobody@else.example"})
    assert listed(nothing) == set()
    assert "No request matches" in nothing.text


def test_search_finds_the_customer_an_installer_gave_and_looser_spellings(
    app: Flask, support
) -> None:
    """What a caller says on the phone: their name, their mobile number as they write it,
    the reference in another case, a longer piece of the request id."""
    audi = pending_request(app, vin=AUDI_VIN, reference="ORDER-77")
    with in_db(app) as session:
        request = session.get(OnboardingRequest, audi)
        request.customer_name = "Marie Dupont"
        request.customer_mobile = "+32470123456"
        session.commit()
    for query in (
        "order-77",
        "marie  DUPONT",
        "+32 470 12 34 56",
        "0032470123456",
        str(audi)[:13],
        str(audi)[:18].upper(),
    ):
        response = support.get("/support/", query_string={"view": "all", "q": query})
        assert listed(response) == {str(audi)}, query
    page = text_of(support.get(f"/support/requests/{audi}"))
    assert "Marie Dupont" in page and "+32470123456" in page
    assert "Marie Dupont" in text_of(support.get("/support/", query_string={"view": "all"}))
    for query in ("Marie", "0470123456", str(audi)[:7]):
        assert listed(support.get("/support/", query_string={"view": "all", "q": query})) == set()


def test_filters_combine_and_stay_in_the_url(app: Flask, support) -> None:
    audi = pending_request(app, vin=AUDI_VIN)
    meter = pending_request(app, "acme", "SmartMeter", "Fluvius", ean=EAN, flow="B2C")
    canceled = pending_request(app, vin=OTHER_VIN)
    support.post(f"/support/requests/{canceled}/cancel", data={"reason": "duplicate"})
    today = utcnow().date().isoformat()
    base = {"view": "all", "door": "api", "created_from": today, "created_to": today}
    assert listed(support.get("/support/", query_string={**base, "type": "EV"})) == {
        str(audi),
        str(canceled),
    }
    assert listed(
        support.get("/support/", query_string={**base, "type": "EV", "status": "Pending"})
    ) == {str(audi)}
    assert listed(support.get("/support/", query_string={**base, "manufacturer": "Fluvius"})) == {
        str(meter)
    }
    assert listed(support.get("/support/", query_string={**base, "door": "wizard"})) == set()
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    assert listed(support.get("/support/", query_string={**base, "created_to": yesterday})) == set()
    counts = text_of(support.get("/support/", query_string={**base, "type": "EV"}))
    assert "Waiting for consent 1" in counts and "Canceled 1" in counts
    # A wrong date is said next to its field; the rest of the filters still apply.
    wrong = support.get("/support/", query_string={**base, "created_from": "31/12"})
    assert field_errors(wrong) == {"created_from": "Enter a date like 2026-11-30."}


def test_keyset_pages_are_stable_while_requests_arrive(app: Flask, support) -> None:
    ids = [pending_request(app, vin=f"WAUZZZ8V0KA{n:06d}", reference=f"R{n}") for n in range(30)]
    first = support.get("/support/?view=all")
    on_first = listed(first)
    assert len(on_first) == 25
    following = re.search(r'<a rel="next" href="([^"]+)"', first.text)
    assert following
    # Five new requests arrive while support reads the first page.
    for n in range(30, 35):
        pending_request(app, vin=f"WAUZZZ8V0KA{n:06d}")
    second = support.get(html.unescape(following.group(1)), headers={**HX, "HX-Target": "results"})
    on_second = listed(second)
    assert on_first.isdisjoint(on_second)
    assert on_first | on_second == {str(i) for i in ids}
    assert 'rel="next"' not in second.text
    assert "OFFSET" not in str(app.config)  # the page parameter is a cursor, not a number
    assert "after=" in following.group(1)


# ---------------------------------------------------------------- the request page


def test_request_page_shows_answers_steps_and_timeline(app: Flask, support) -> None:
    request_id = pending_request(app, vin=AUDI_VIN, reference="ORDER-9")
    page = support.get(f"/support/requests/{request_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert AUDI_VIN in text and "ORDER-9" in text
    assert "Agree to share your device's data" in text and "Sign in at Audi" in text
    assert "Created through the API" in text
    assert "Status: Waiting for consent" in text
    hx = support.get(f"/support/requests/{request_id}", headers=HX)
    assert "<html" not in hx.text and "Timeline" in hx.text
    # Back leads to the list the person came from, filters and all.
    came_from = "http://localhost/support/?view=all&status=Pending"
    page = support.get(f"/support/requests/{request_id}", headers={"Referer": came_from})
    assert 'class="back-link" href="/support/?view=all&amp;status=Pending"' in page.text
    elsewhere = support.get(
        f"/support/requests/{request_id}", headers={"Referer": "https://evil.example/support/"}
    )
    assert 'class="back-link" href="/support/"' in elsewhere.text


# ---------------------------------------------------------------- actions


def test_resend_by_email_revokes_older_links(app: Flask, support) -> None:
    request_id = pending_request(app, vin=AUDI_VIN, email="jo@example.com")
    with app.test_request_context():
        old = link_path(links.consent_url(db.session.get(OnboardingRequest, request_id)))
        db.session.commit()
    page = support.get(f"/support/requests/{request_id}")
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page.text)
    assert key
    data = {"channel": "email", "to": "jo@example.com", "submission_key": key.group(1)}
    sent = support.post(f"/support/requests/{request_id}/send-link", data=data)
    assert sent.status_code == 302
    assert "Older links no longer work" in text_of(support.get(sent.location))
    # The same form posted again sends nothing more.
    support.post(f"/support/requests/{request_id}/send-link", data=data)
    assert len(sent_emails(app)) == 1
    new = re.search(r"https?://\S+/c/\S+", sent_emails(app)[0].body)
    assert new
    owner = app.test_client()
    assert owner.get(old).status_code == 410
    assert owner.get(link_path(new.group(0).rstrip("."))).status_code in (200, 302)
    [event] = events(app, request_id, "message_sent")
    assert event.actor == f"user:{support_id(app)}"


def test_resend_to_a_wrong_address_says_so_and_keeps_it(app: Flask, support) -> None:
    request_id = pending_request(app, vin=AUDI_VIN)
    data = {"channel": "email", "to": "jo@", "submission_key": "k1"}
    response = support.post(f"/support/requests/{request_id}/send-link", data=data)
    assert response.status_code == 422
    assert "to" in field_errors(response)
    assert 'value="jo@"' in response.text
    assert sent_emails(app) == []


def test_show_link_shows_the_owners_link_and_revokes_nothing(app: Flask, support) -> None:
    """Support on the phone with a customer shows the link they already have: showing it
    twice (a retry) shows the same one, and the link the customer was sent keeps working."""
    request_id = pending_request(app, vin=AUDI_VIN)
    with app.test_request_context():
        old = link_path(links.consent_url(db.session.get(OnboardingRequest, request_id)))
        db.session.commit()
    shown = []
    for _ in range(2):
        response = support.post(f"/support/requests/{request_id}/show-link")
        assert response.status_code == 302
        page = support.get(response.location)
        assert "<svg" in page.text and "qr-code" in page.text and "data-copy=" in page.text
        shown.append(re.search(r'data-copy="([^"]+)"', page.text)[1])
    assert shown[0] == shown[1] and link_path(shown[0]) == old
    assert app.test_client().get(old).status_code != 410
    assert [e.data["revoked"] for e in events(app, request_id, "link_created")] == [0]


def _done_for_owner(
    app: Flask, request_id: uuid.UUID, positions: list[int], started: int | None = None
) -> None:
    """The owner took the steps at `positions`, and started the one at `started`."""
    with app.test_request_context(), in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        for step in request.steps:
            if step.position in positions:
                complete_step(request, step, OWNER_LINK, {"account": "jo"})
            elif step.position == started:
                start_step(request, step, OWNER_LINK)
        session.commit()


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_fixing_the_vin_keeps_a_wrong_try_and_resets_the_device_steps(
    app: Flask, support, hx: bool
) -> None:
    request_id = pending_request(app, "acme", "EV", "Kia", vin=AUDI_VIN)
    _done_for_owner(app, request_id, [1], started=2)  # the Kia app was asked to approve
    headers = HX if hx else {}
    url = f"/support/requests/{request_id}/identifier"
    assert support.get(url, headers=headers).status_code == 200
    wrong = support.post(url, data={"vin": "WAUZZZ8V0KA00000"}, headers=headers)
    assert wrong.status_code == 422
    assert "vin" in field_errors(wrong)
    assert 'value="WAUZZZ8V0KA00000"' in wrong.text
    fixed = support.post(url, data={"vin": OTHER_VIN.lower()}, headers=headers)
    assert fixed.status_code in (200, 302)
    request = get_request(app, request_id)
    assert request.device_id == OTHER_VIN
    assert [s.status for s in request.steps] == [StepStatus.DONE, StepStatus.TODO]
    assert request.status == Status.PENDING
    [corrected] = events(app, request_id, "information_corrected")
    assert corrected.data == {"before": {"vin": AUDI_VIN}, "after": {"vin": OTHER_VIN}}
    assert corrected.actor == f"user:{support_id(app)}"
    [reset] = events(app, request_id, "step_reset")
    assert reset.data["position"] == 2 and reset.data["was"] == "waiting"
    page = text_of(support.get(f"/support/requests/{request_id}"))
    assert "The owner must take these steps again: 2. Allow access in the Kia app" in page
    # The owner, opening a link, is told what to redo for the corrected device.
    with app.test_request_context():
        link = link_path(links.consent_url(db.session.get(OnboardingRequest, request_id)))
        db.session.commit()
    owner = text_of(app.test_client().get(link, follow_redirects=True))
    assert (
        f"Your device's details were corrected to {OTHER_VIN}. Take these steps again for it: "
        "Allow access in the Kia app" in owner
    )


def test_after_a_fix_the_failed_step_says_the_new_vin_was_not_tried(
    app: Flask, support: FlaskClient
) -> None:
    request_id = pending_request(app, "acme", "EV", "Audi", vin=AUDI_VIN)
    _done_for_owner(app, request_id, [1])
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        fail_step_attempt(request, request.steps[1], OWNER_LINK, "device_not_found", AUDI_VIN)
        session.commit()
    untried = f"The identifier was changed to {OTHER_VIN} since; that one has not been tried yet."
    assert untried not in text_of(support.get(f"/support/requests/{request_id}"))

    support.post(f"/support/requests/{request_id}/identifier", data={"vin": OTHER_VIN})

    page = text_of(support.get(f"/support/requests/{request_id}"))
    assert "the device is not on the account" in page
    assert untried in page


def test_a_correction_that_keeps_the_device_resets_nothing(app: Flask, world: World) -> None:
    request_id = pending_request(app, "acme", "SmartMeter", "Fluvius", ean=EAN, flow="B2C")
    _done_for_owner(app, request_id, [1])
    with app.test_request_context(), in_db(app) as session:
        from app.onboarding.audit import SYSTEM
        from app.onboarding.steps import correct_information

        request = session.get(OnboardingRequest, request_id)
        reset = correct_information(request, {"ean": EAN, "flow": "B2B"}, current_catalog(), SYSTEM)
        assert reset == []
        session.commit()


def test_cancel_asks_first_and_records_the_reason(app: Flask, support) -> None:
    request_id = pending_request(app, vin=AUDI_VIN)
    confirm = support.get(f"/support/requests/{request_id}/cancel")
    assert confirm.status_code == 200 and "This cannot be undone" in text_of(confirm)
    missing = support.post(f"/support/requests/{request_id}/cancel", data={"reason": "other"})
    assert missing.status_code == 422
    assert field_errors(missing) == {"other": "Type the reason."}
    done = support.post(
        f"/support/requests/{request_id}/cancel",
        data={"reason": "other", "other": "Customer bought another car"},
        headers=HX,
    )
    assert done.status_code in (200, 302)
    assert get_request(app, request_id).status == Status.CANCELED
    [reason] = events(app, request_id, "cancel_reason")
    assert reason.data == {"reason": "Customer bought another car"}
    assert reason.actor == f"user:{support_id(app)}"
    assert "Customer bought another car" in text_of(support.get(f"/support/requests/{request_id}"))
    # The same form again (its answer was lost): nothing more, and no contradicting message.
    again = support.post(
        f"/support/requests/{request_id}/cancel",
        data={"reason": "other", "other": "Customer bought another car"},
        follow_redirects=True,
    )
    assert "cannot be canceled" not in again.text
    assert len(events(app, request_id, "cancel_reason")) == 1


def test_a_note_is_on_the_timeline_and_never_shown_to_the_owner(app: Flask, support) -> None:
    request_id = pending_request(app, vin=AUDI_VIN)
    empty = support.post(f"/support/requests/{request_id}/notes", data={"text": " "})
    assert empty.status_code == 422 and field_errors(empty) == {"text": "Write the note."}
    for _ in range(2):  # the same form sent again (a retry on a bad network) adds it once
        support.post(
            f"/support/requests/{request_id}/notes",
            data={"text": "Called, no answer\nTry again Monday", "submission_key": "n1"},
        )
    [note] = events(app, request_id, "note")
    assert note.data == {"text": "Called, no answer\nTry again Monday", "key": "n1"}
    assert note.actor == f"user:{support_id(app)}"
    with app.test_request_context():
        link = link_path(links.consent_url(db.session.get(OnboardingRequest, request_id)))
        db.session.commit()
    owner = app.test_client()
    page = owner.get(link, follow_redirects=True)
    assert page.status_code == 200 and "Called, no answer" not in page.text


def test_support_cannot_take_any_consent_step(app: Flask, support) -> None:
    request_id = pending_request(app, vin=AUDI_VIN)
    for position in (1, 2):
        path = f"/onboarding/{request_id}/steps/{position}"
        assert support.get(path).status_code == 403
        assert support.post(path, data={"version": "x"}).status_code == 403
    request = get_request(app, request_id)
    assert all(s.status == StepStatus.TODO for s in request.steps)
    with in_db(app) as session:
        assert (
            session.scalar(select(ConsentLink).where(ConsentLink.request_id == request_id)) is None
        )


# ---------------------------------------------------------------- the funnel


def test_funnel_counts_each_stage_and_links_to_who_stopped(app: Flask, support) -> None:
    stuck = pending_request(app, vin=AUDI_VIN)
    halfway = pending_request(app, vin=OTHER_VIN)
    _done_for_owner(app, halfway, [1])
    page = support.get("/support/funnel?days=7&type=EV&manufacturer=Audi")
    assert page.status_code == 200
    assert "<svg" in page.text and "<table" in page.text
    rows = dict(
        (html.unescape(label).strip(), int(n))
        for label, n in re.findall(r'<th scope="row">([^<]+)</th>\s*<td>(\d+)</td>', page.text)
    )
    assert rows["Created"] == 2
    assert rows["Sent to the owner"] == 2
    assert rows["Done: Agree to share your device's data"] == 1
    assert rows["Done: Sign in at Audi and allow access"] == 0
    assert rows["Connected"] == 0
    stopped = re.search(r'href="(/support/\?[^"]*stage=11[^"]*)"', page.text)
    assert stopped
    assert listed(support.get(html.unescape(stopped.group(1)))) == {str(halfway)}
    at_submitted = re.search(r'href="(/support/\?[^"]*stage=10[^"]*)"', page.text)
    assert at_submitted
    assert listed(support.get(html.unescape(at_submitted.group(1)))) == {str(stuck)}


def test_status_counts_stop_at_the_cap(app: Flask, support, monkeypatch) -> None:
    from app.onboarding import console

    monkeypatch.setattr(console, "COUNT_CAP", 2)
    for n in range(3):
        pending_request(app, vin=f"WAUZZZ8V0KA00000{n}")
    page = text_of(support.get("/support/?view=all"))
    assert "Waiting for consent 2+" in page and "Canceled 0" in page
