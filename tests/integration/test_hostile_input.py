"""Hostile input never reaches a 500: the corpus of hand-made requests that once did, and
their neighbours, through the API and the web forms.

Each answer is a 4xx with a message: problem+json naming the field for the API, the
message beside the field (what was typed kept) for a form.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.api.bodies import MAX_JSON_DEPTH
from app.models import ApiKey, Role, Tenant
from tests.integration.helpers import (
    AUDI_VIN,
    VIN,
    World,
    add_user,
    field_errors,
    in_db,
    signed_in_client,
    start,
    url,
)

API = "/api/v1"
PROBLEM = "application/problem+json"
# A lone surrogate (JSON's "\ud800" escape), NUL, ESC, DEL, a C1 control.
BAD_CHARACTERS = ["\ud800", "\udfff", "\x00", "\x1b", "\x7f", "\x85"]
CREATE = {"type": "EV", "manufacturer": "Audi", "vin": AUDI_VIN}


@pytest.fixture
def key(app: Flask, world: World) -> dict[str, str]:
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    with in_db(app) as session:
        api_key, secret = ApiKey.issue(session.get(Tenant, world.acme_id), "hostile")
        session.add(api_key)
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def send(client: FlaskClient, method: str, path: str, body: Any, headers: dict[str, str]):
    """`body` as JSON text exactly (json.dumps keeps a lone surrogate as its escape)."""
    return client.open(
        API + path,
        method=method,
        data=json.dumps(body) if not isinstance(body, bytes) else body,
        headers={**headers, "Content-Type": "application/json"},
    )


def assert_problem(response, status: int | tuple[int, ...], field: str | None = None) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.mimetype == PROBLEM, response.mimetype
    body = response.json
    if field is not None:
        assert field in (body.get("errors") or {}), body
    return body


def created(client: FlaskClient, key: dict[str, str]) -> str:
    answer = send(client, "POST", "/onboarding/entities", CREATE, key)
    assert answer.status_code == 201, answer.text
    return answer.json["id"]


# ---------------------------------------------------------------- text in API bodies


TEXT_FIELDS = [
    ("/onboarding/entities", {**CREATE}, "reference"),
    ("/onboarding/entities", {**CREATE}, "email"),
    ("/onboarding/entities", {**CREATE}, "returnUrl"),
    ("/onboarding/entities", {**CREATE}, "model"),
    ("/onboarding/entities", {**CREATE}, "vin"),
    ("/onboarding/entities", {**CREATE}, "manufacturer"),
    ("/collectives", {"type": "Household"}, "name"),
    ("/webhooks", {"url": "https://example.com/hook", "eventTypes": ["entity.connected"]}, "url"),
    (
        "/webhooks",
        {"url": "https://example.com/hook", "eventTypes": ["entity.connected"]},
        "description",
    ),
]


@pytest.mark.parametrize(("path", "body", "field"), TEXT_FIELDS, ids=lambda v: str(v)[:20])
def test_a_refused_character_in_api_text_is_a_422_naming_the_field(
    client: FlaskClient, key: dict[str, str], path: str, body: dict, field: str
) -> None:
    for character in BAD_CHARACTERS:
        value = f"{body.get(field, 'abc')}{character}def"
        response = send(client, "POST", path, {**body, field: value}, key)
        problem = assert_problem(response, 422, field)
        if field != "url":  # a URL's pattern may say no first
            assert "character that cannot be used" in problem["errors"][field][0], ascii(character)


def test_a_refused_character_in_a_cancel_or_offboarding_reason_is_a_422(
    client: FlaskClient, key: dict[str, str]
) -> None:
    request_id = created(client, key)
    for character in BAD_CHARACTERS:
        _refused_reason(client, key, request_id, f"sold{character}")


def _refused_reason(client: FlaskClient, key: dict[str, str], request_id: str, text: str) -> None:
    reason = {"reason": text}
    assert_problem(
        send(client, "POST", f"/onboarding/entities/{request_id}/cancel", reason, key),
        422,
        "reason",
    )
    offboarding = {"entityId": str(uuid.uuid4()), **reason}
    assert_problem(send(client, "POST", "/offboarding/entities", offboarding, key), 422, "reason")


def test_a_refused_character_in_a_query_parameter_is_a_400_naming_it(
    client: FlaskClient, key: dict[str, str]
) -> None:
    # A query string is percent-encoded UTF-8: a lone surrogate cannot be sent in one.
    for character in ("\x00", "\x1b", "\x7f", "\x85"):
        for name in ("reference", "type", "manufacturer", "tenantId", "cursor"):
            response = client.get(
                f"{API}/onboarding/entities", query_string={name: f"a{character}"}, headers=key
            )
            assert_problem(response, 400, name)


@pytest.mark.parametrize("tenant_id", ["acme", " 1", "1e3", "-1", "\u0661"])
def test_a_tenant_id_that_is_not_our_number_is_refused_by_its_schema(
    client: FlaskClient, key: dict[str, str], tenant_id: str
) -> None:
    assert_problem(
        send(client, "POST", "/collectives", {"name": "Home", "tenantId": tenant_id}, key),
        422,
        "tenantId",
    )
    response = client.get(f"{API}/collectives", query_string={"tenantId": tenant_id}, headers=key)
    assert_problem(response, 400, "tenantId")


# ---------------------------------------------------------------- bodies: depth and size


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_a_400_before_anything_parses_it(
    client: FlaskClient, key: dict[str, str], depth: int, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "1" + closer * depth).encode()
    for path in ("/onboarding/entities", "/collectives", "/webhooks"):
        problem = assert_problem(send(client, "POST", path, body, key), 400)
        assert "nested" in problem["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(
    client: FlaskClient, key: dict[str, str]
) -> None:
    response = send(client, "POST", "/collectives", {"name": "[[[[" * 40 + '"{{'}, key)
    assert response.status_code == 201, response.text


TWENTY_MB = b'{"name":"' + b"x" * (20 * 1024 * 1024) + b'"}'


def test_a_large_body_with_content_length_is_a_413(
    client: FlaskClient, key: dict[str, str]
) -> None:
    problem = assert_problem(send(client, "POST", "/collectives", TWENTY_MB, key), 413)
    assert "too large" in problem["detail"]


def test_a_large_chunked_body_is_a_413_not_invalid_json(
    client: FlaskClient, key: dict[str, str]
) -> None:
    # As gunicorn and werkzeug's server pass a chunked body: no Content-Length, and the
    # server ends the stream (wsgi.input_terminated).
    response = client.post(
        f"{API}/collectives",
        input_stream=io.BytesIO(TWENTY_MB),
        headers={**key, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    problem = assert_problem(response, 413)
    assert "too large" in problem["detail"]


def test_a_small_chunked_body_is_read_whole(client: FlaskClient, key: dict[str, str]) -> None:
    response = client.post(
        f"{API}/collectives",
        input_stream=io.BytesIO(b'{"name": "Chunked home"}'),
        headers={**key, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------- times and cursors


@pytest.mark.parametrize(
    "query",
    [
        "createdAfter=0001-01-01T00:00:00%2B01:00",
        "createdBefore=0001-01-01T00:59:59%2B01:00",
        "createdAfter=9999-12-31T23:59:59-01:00",
        "createdBefore=9999-12-31T23:00:00-23:59",
        "createdAfter=10000-01-01T00:00:00Z",
        "createdAfter=99999999999999999999",
    ],
)
def test_times_outside_the_calendar_are_a_400(
    client: FlaskClient, key: dict[str, str], query: str
) -> None:
    response = client.get(f"{API}/onboarding/entities?{query}", headers=key)
    assert_problem(response, 400, query.split("=")[0])


def test_times_at_the_edges_of_the_calendar_in_utc_are_fine(
    client: FlaskClient, key: dict[str, str]
) -> None:
    for query in ("createdAfter=0001-01-01T00:00:00Z", "createdBefore=9999-12-31T23:59:59Z"):
        assert client.get(f"{API}/onboarding/entities?{query}", headers=key).status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "MQ",  # base64 of "1"
        "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTAxOjAwIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0",
        "-1.00000000000000000000000000000000",
        "1." + "g" * 32,
        "9" * 18 + "." + "0" * 32,
        "%00",
    ],
)
def test_a_forged_cursor_is_a_400(client: FlaskClient, key: dict[str, str], cursor: str) -> None:
    for path in ("/onboarding/entities", "/entities", "/collectives", "/webhooks"):
        response = client.get(f"{API}{path}", query_string={"cursor": cursor}, headers=key)
        assert_problem(response, 400, "cursor")


def test_any_cursor_of_the_published_shape_is_a_position(
    client: FlaskClient, key: dict[str, str]
) -> None:
    for cursor in ("0." + "0" * 32, "9" * 17 + "." + "f" * 32):
        response = client.get(f"{API}/onboarding/entities?cursor={cursor}", headers=key)
        assert response.status_code == 200, response.text


# ---------------------------------------------------------------- every 4xx is problem+json


def test_flasks_own_4xx_answers_under_the_api_are_problems(
    app: Flask, client: FlaskClient, key: dict[str, str]
) -> None:
    assert_problem(client.get(f"{API}/nothing", headers=key), 404)
    assert_problem(client.get("/api/v2/nothing", headers=key), 404)
    assert_problem(client.delete(f"{API}/collectives", headers=key), 405)
    assert_problem(
        client.post(f"{API}/collectives", data="name=x", headers=key, content_type="text/plain"),
        415,
    )
    app.config["API_RATE_LIMIT"] = "1 per minute"
    client.get(f"{API}/collectives", headers=key)
    assert_problem(client.get(f"{API}/collectives", headers=key), 429)


@pytest.mark.parametrize("idempotency_key", ["a\x01b", "a\x7fb", "é", "a\tb", ""])
def test_an_idempotency_key_with_a_control_character_is_a_400_problem(
    client: FlaskClient, key: dict[str, str], idempotency_key: str
) -> None:
    response = send(
        client,
        "POST",
        "/collectives",
        {"name": "Home"},
        {**key, "Idempotency-Key": idempotency_key},
    )
    assert_problem(response, 400, "Idempotency-Key")


# ---------------------------------------------------------------- web forms and query strings


@pytest.fixture
def owner(app: Flask, world: World) -> FlaskClient:
    return signed_in_client(app, world.alice)


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x85"], ids=ascii)
def test_a_refused_character_in_a_wizard_answer_shows_beside_the_field(
    owner: FlaskClient, character: str
) -> None:
    request_id = start(owner, "EV")
    owner.post(url(request_id, "manufacturer"), data={"manufacturer": "Audi"})
    typed = f"{VIN[:8]}{character}{VIN[8:]}"
    for headers in ({}, {"HX-Request": "true"}):
        page = owner.post(url(request_id, "details"), data={"vin": typed}, headers=headers)
        assert page.status_code in (200, 422)
        assert "character that cannot be used" in field_errors(page)["vin"]


@pytest.fixture
def installer(app: Flask, world: World) -> FlaskClient:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "ian@acme.example", Role.INSTALLER)
        session.commit()
    return signed_in_client(app, "ian@acme.example")


@pytest.mark.parametrize("field", ["customer_name", "customer_email", "customer_mobile"])
def test_a_refused_character_in_the_installers_customer_form_shows_beside_the_field(
    installer: FlaskClient, field: str
) -> None:
    started = installer.post("/installer/new", data={"device": "EV/Audi", "start_key": "k"})
    details = started.headers["Location"]
    data = {
        "vin": AUDI_VIN,
        "customer_name": "Jan Peeters",
        "customer_email": "jan@example.com",
        "customer_mobile": "+32 470 12 34 56",
        "collective": "none",
    }
    data[field] = data[field][:3] + "\x00" + data[field][3:]
    page = installer.post(details, data=data)
    assert page.status_code == 422
    # The name meets the text rule; the address and number their own rules first.
    assert field_errors(page)[field]
    assert "Jan" in page.text  # what was typed is kept


def test_a_support_note_may_hold_line_breaks_but_not_nul(
    app: Flask, world: World, installer: FlaskClient
) -> None:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "sam@acme.example", Role.SUPPORT)
        session.commit()
    support = signed_in_client(app, "sam@acme.example")
    request_id = start(signed_in_client(app, world.alice), "EV")
    notes = f"/support/requests/{request_id}/notes"
    refused = support.post(notes, data={"text": "called\x00back"})
    assert refused.status_code == 422
    assert "character that cannot be used" in field_errors(refused)["text"]
    assert support.post(notes, data={"text": "called\r\nback\tlater"}).status_code in (302, 303)


@pytest.mark.parametrize(
    "path",
    [
        "/onboarding/{id}/manufacturer?q=Au%00di",
        "/support?q=%00",
        "/consent/callback/audi?state=%00&code=x",
        "/?next=%1b",
    ],
)
def test_a_refused_character_in_a_page_query_string_is_a_400_page(
    app: Flask, owner: FlaskClient, world: World, path: str
) -> None:
    request_id = start(owner, "EV")
    response = owner.get(path.format(id=request_id))
    assert response.status_code == 400
    assert response.mimetype == "text/html"
