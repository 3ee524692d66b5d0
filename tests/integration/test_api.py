"""The JSON API as a partner's client meets it: every endpoint, every error, tenants, retries."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.api import auth as api_auth
from app.catalog import current_catalog
from app.consent.links import LinkChannel, new_link
from app.extensions import db
from app.identifiers import validate_ean, validate_vin
from app.models import (
    ApiKey,
    ConsentLink,
    ConsentStep,
    Entity,
    Event,
    IdempotencyRecord,
    OnboardingRequest,
    Role,
    Tenant,
    User,
    utcnow,
)
from app.onboarding import drafts, steps
from app.onboarding.access import Principal
from app.onboarding.audit import OWNER_LINK, Actor
from app.onboarding.states import Status, StepStatus
from tests.integration.helpers import (
    EAN,
    VIN,
    XENN_REFERENCE,
    add_user,
    count,
    csrf_token,
    in_db,
    signed_in_client,
)

API = "/api/v1"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
PROBLEM = "application/problem+json"


# ---------------------------------------------------------------- helpers


class Partner:
    """A partner app's client: one API key of one tenant."""

    def __init__(self, client: FlaskClient, secret: str, tenant_id: int, key_id: int) -> None:
        self.client = client
        self.secret = secret
        self.tenant_id = tenant_id
        self.key_id = key_id

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}", **extra}

    def get(self, path: str, **kwargs: Any):
        return self.client.get(API + path, headers=self.headers(), **kwargs)

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ):
        return self.client.post(
            API + path, json=body, headers={**self.headers(), **(headers or {})}, **kwargs
        )

    def onboard(self, **body: Any) -> dict[str, Any]:
        response = self.post(
            "/onboarding/entities", {"type": "EV", "manufacturer": "Audi", "vin": VIN, **body}
        )
        assert response.status_code == 201, response.json
        return response.json


def issue_key(app: Flask, tenant_id: int, name: str = "partner") -> tuple[str, int]:
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, tenant_id), name)
        session.add(key)
        session.commit()
        return secret, key.id


@pytest.fixture
def acme(app: Flask, client: FlaskClient, world) -> Partner:
    secret, key_id = issue_key(app, world.acme_id)
    return Partner(client, secret, world.acme_id, key_id)


@pytest.fixture
def other(app: Flask, world) -> Partner:
    secret, key_id = issue_key(app, world.other_id)
    return Partner(app.test_client(), secret, world.other_id, key_id)


def assert_problem(response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status
    assert body["title"] and body["detail"]
    if field is not None:
        assert field in body["errors"], body
    return body


def succeed(app: Flask, request_id: str) -> str:
    """Take every consent step of a request as its owner would; return the entity's id."""
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(request_id))
        for step in list(onboarding.steps):
            steps.complete_step(onboarding, step, OWNER_LINK, {})
        session.commit()
        assert onboarding.entity is not None
        return str(onboarding.entity.id)


def docs_examples() -> list[tuple[str, str, dict[str, Any] | None]]:
    """Each curl example of docs/api.md: (method, path, JSON body)."""
    examples = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S):
        if "curl" not in block:
            continue
        method = re.search(r"-X (\w+)", block)
        path = re.search(r"\$BASE(/[^\s\"'\\]*)", block)
        data = re.search(r"-d '(.*?)'", block, re.S)
        assert path, block
        examples.append(
            (
                method.group(1) if method else ("POST" if data else "GET"),
                path.group(1),
                json.loads(data.group(1)) if data else None,
            )
        )
    return examples


# ---------------------------------------------------------------- the docs' own example


def test_the_audi_example_from_the_docs_creates_a_pending_request(acme: Partner) -> None:
    method, path, body = docs_examples()[0]
    assert (method, path) == ("POST", "/api/v1/onboarding/entities")
    assert body == {"type": "EV", "manufacturer": "Audi", "vin": body["vin"]}

    response = acme.client.post(path, json=body, headers=acme.headers())

    assert response.status_code == 201
    created = response.json
    assert created["requestType"] == "Entity"
    assert created["status"] == "Pending"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created["created"])
    assert created["action"]["type"] == "Redirect"
    assert re.fullmatch(r"http://localhost/c/[\w.-]+", created["action"]["redirectLink"])
    assert created["action"]["documentationLink"] == "http://localhost/api/v1/docs"
    entity = created["data"]["entity"]
    assert entity == {
        "id": None,
        "type": "EV",
        "manufacturer": "Audi",
        "information": {"vin": body["vin"]},
        "properties": {},
        "tenantId": str(acme.tenant_id),
        "collectiveId": None,
    }
    assert created["data"]["tenant"] == {"id": str(acme.tenant_id), "name": "Acme Energy"}
    assert created["data"]["collective"] is None
    assert [s["kind"] for s in created["steps"]] == ["terms", "redirect"]
    assert uuid.UUID(created["id"])


def test_every_docs_example_path_exists_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get(f"{API}/openapi.json").json["paths"]
    for method, path, _body in docs_examples():
        template = re.sub(r"/[0-9a-f-]{36}", "/{id}", path.split("?")[0])
        known = {re.sub(r"\{\w+\}", "{id}", p): ops for p, ops in paths.items()}
        assert method.lower() in known[template], (method, path)


def test_the_redirect_link_opens_the_hosted_consent_pages(acme: Partner) -> None:
    link = acme.onboard()["action"]["redirectLink"]
    browser = acme.client.application.test_client()

    response = browser.get(link.removeprefix("http://localhost"))

    assert response.status_code == 302
    assert "/consent" in response.headers["Location"]


def test_the_redirect_link_stays_the_same_across_reads(app: Flask, acme: Partner) -> None:
    created = acme.onboard()
    link = created["action"]["redirectLink"]

    again = acme.get(f"/onboarding/entities/{created['id']}").json["action"]["redirectLink"]
    listed = acme.get("/onboarding/entities").json["data"][0]["action"]["redirectLink"]

    assert again == link and listed == link
    with in_db(app) as session:
        [made] = session.scalars(select(ConsentLink)).all()
        assert (made.channel, made.created_by) == ("api", f"api-key:{acme.key_id}")


def test_the_redirect_link_follows_a_resend(app: Flask, acme: Partner) -> None:
    created = acme.onboard()
    old = created["action"]["redirectLink"]
    with app.test_request_context():
        onboarding = db.session.get(OnboardingRequest, uuid.UUID(created["id"]))
        new_link(onboarding, Actor("user:1"), LinkChannel.EMAIL)
        db.session.commit()

    now = acme.get(f"/onboarding/entities/{created['id']}").json["action"]["redirectLink"]

    assert now != old
    browser = acme.client.application.test_client()
    assert browser.get(old.removeprefix("http://localhost")).status_code == 410
    assert browser.get(now.removeprefix("http://localhost")).status_code == 302


# ---------------------------------------------------------------- creating requests


def test_identifiers_are_normalised_and_checked_with_the_wizards_words(acme: Partner) -> None:
    created = acme.onboard(vin=" wba3a5c5-5cf256985 ")
    assert created["data"]["entity"]["information"] == {"vin": VIN}

    short = acme.post(
        "/onboarding/entities", {"type": "EV", "manufacturer": "Audi", "vin": VIN[:-1]}
    )
    body = assert_problem(short, 422, "vin")
    with pytest.raises(ValueError) as wizard:
        validate_vin(VIN[:-1])
    assert body["errors"]["vin"] == [str(wizard.value)]
    assert body["errors"]["vin"] == ["A VIN has 17 characters; this one has 16."]

    bad_ean = EAN[:-1] + str((int(EAN[-1]) + 1) % 10)
    fluvius = acme.post(
        "/onboarding/entities", {"type": "SmartMeter", "manufacturer": "Fluvius", "ean": bad_ean}
    )
    body = assert_problem(fluvius, 422)
    with pytest.raises(ValueError) as wizard:
        validate_ean(bad_ean)
    assert body["errors"]["ean"] == [str(wizard.value)]
    # A property's error is named where it is sent: in `properties`.
    assert body["errors"]["properties.flow"] == ["Choose the type of contract."]


def test_full_width_is_folded_and_fluvius_takes_belgian_eans_only(acme: Partner) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in VIN)  # as a CJK keyboard types it
    assert acme.onboard(vin=full_width)["data"]["entity"]["information"] == {"vin": VIN}

    dutch = acme.post(
        "/onboarding/entities",
        {
            "type": "SmartMeter",
            "manufacturer": "Fluvius",
            "ean": "871694800000123452",
            "properties": {"flow": "B2C"},
        },
    )

    body = assert_problem(dutch, 422, "ean")
    assert body["errors"]["ean"] == [
        "Fluvius connects Belgian connection points only, whose EAN starts with 54."
        " Check the EAN on your energy bill."
    ]


def test_properties_and_catalog_attributes_reach_the_request(acme: Partner) -> None:
    fluvius = acme.onboard(
        type="SmartMeter", manufacturer="fluvius", vin=None, ean=EAN, properties={"flow": "B2B"}
    )
    entity = fluvius["data"]["entity"]
    assert (entity["manufacturer"], entity["information"], entity["properties"]) == (
        "Fluvius",
        {"ean": EAN},
        {"flow": "B2B"},
    )

    sma = acme.onboard(
        type="PV", manufacturer="SMA", vin=None, plantId="1234567", email="Owner@Example.COM"
    )
    assert sma["data"]["entity"]["information"] == {
        "plantId": "1234567",
        "email": "Owner@example.com",
    }

    xenn = acme.onboard(
        type="RetrofitMeter", manufacturer="Xenn", vin=None, reference="p 1000-000000"
    )
    assert xenn["data"]["entity"]["information"] == {"reference": XENN_REFERENCE}
    assert xenn["reference"] == XENN_REFERENCE
    assert [s["kind"] for s in xenn["steps"]] == ["terms", "pairing_code"]


def test_reference_email_model_and_return_url_are_kept(app: Flask, acme: Partner) -> None:
    created = acme.onboard(
        reference="crm-42",
        email="owner@example.com",
        model="Q4 e-tron",
        returnUrl="https://partner.example/done?x=1",
    )
    assert created["reference"] == "crm-42"
    assert created["returnUrl"] == "https://partner.example/done?x=1"
    assert created["data"]["entity"]["information"] == {"vin": VIN, "model": "Q4 e-tron"}
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(created["id"]))
        assert (onboarding.channel, onboarding.email) == ("api", "owner@example.com")
        assert onboarding.status == Status.PENDING
        kinds = [e.kind for e in onboarding.events]
        # The redirectLink is a consent link the API key made.
        assert kinds == ["created", "status", "link_created"]
        assert {e.actor for e in onboarding.events} == {f"api-key:{acme.key_id}"}


@pytest.mark.parametrize(
    "return_url", ["javascript:alert(1)", "ftp://example.com/x", "/relative/path", "https://"]
)
def test_only_http_return_urls_are_accepted(acme: Partner, return_url: str) -> None:
    response = acme.post(
        "/onboarding/entities",
        {"type": "EV", "manufacturer": "Audi", "vin": VIN, "returnUrl": return_url},
    )
    body = assert_problem(response, 422, "returnUrl")
    assert "https://" in body["errors"]["returnUrl"][0]


def test_unknown_type_and_manufacturer_say_which_exist(acme: Partner) -> None:
    body = assert_problem(
        acme.post("/onboarding/entities", {"type": "Boat", "manufacturer": "X"}), 422, "type"
    )
    assert "EV, PV, SmartMeter, RetrofitMeter" in body["errors"]["type"][0]

    body = assert_problem(
        acme.post("/onboarding/entities", {"type": "EV", "manufacturer": "Trabant"}), 422
    )
    assert "Audi" in body["errors"]["manufacturer"][0]

    body = assert_problem(acme.post("/onboarding/entities", {}), 422)
    assert set(body["errors"]) == {"type"}
    body = assert_problem(acme.post("/onboarding/entities", {"type": "EV"}), 422)
    assert body["errors"]["manufacturer"][0].startswith("Enter the manufacturer")


def test_wrong_json_types_get_plain_words(acme: Partner) -> None:
    body = assert_problem(
        acme.post(
            "/onboarding/entities",
            {
                "type": "EV",
                "manufacturer": "Audi",
                "vin": 12345678901234567,
                "collectiveId": "nope",
            },
        ),
        422,
    )
    assert body["errors"]["vin"] == ["This must be text."]
    assert body["errors"]["collectiveId"][0].startswith("This must be an id like")
    assert_problem(acme.post("/onboarding/entities", ["EV", "Audi"]), 422, "body")
    assert_problem(
        acme.post("/onboarding/entities", {"type": "EV\x00", "manufacturer": "Audi"}), 422, "type"
    )


def test_collective_of_the_caller_is_used_and_another_tenants_is_404(acme: Partner, world) -> None:
    created = acme.onboard(collectiveId=str(world.household_id))
    assert created["data"]["entity"]["collectiveId"] == str(world.household_id)
    assert created["data"]["collective"]["name"] == "Alice's home"
    assert created["data"]["collective"]["type"] == "Household"

    foreign = acme.post(
        "/onboarding/entities",
        {
            "type": "EV",
            "manufacturer": "Audi",
            "vin": VIN,
            "collectiveId": str(world.other_collective_id),
        },
    )
    assert_problem(foreign, 404, "collectiveId")
    missing = acme.post(
        "/onboarding/entities",
        {"type": "EV", "manufacturer": "Audi", "vin": VIN, "collectiveId": str(uuid.uuid4())},
    )
    assert missing.json == {**foreign.json, "detail": missing.json["detail"]}


# ---------------------------------------------------------------- tenants


def test_tenant_id_defaults_to_the_keys_tenant_and_may_be_given(acme: Partner) -> None:
    assert acme.onboard()["data"]["entity"]["tenantId"] == str(acme.tenant_id)
    assert acme.onboard(tenantId=acme.tenant_id)["data"]["tenant"]["id"] == str(acme.tenant_id)
    assert acme.onboard(tenantId=str(acme.tenant_id))["data"]["entity"]["tenantId"] == str(
        acme.tenant_id
    )
    assert acme.get(f"/onboarding/entities?tenantId={acme.tenant_id}").status_code == 200


def test_another_tenants_id_is_404_like_a_missing_one(acme: Partner, other: Partner) -> None:
    foreign = acme.post(
        "/onboarding/entities",
        {"type": "EV", "manufacturer": "Audi", "vin": VIN, "tenantId": other.tenant_id},
    )
    missing = acme.post(
        "/onboarding/entities",
        {"type": "EV", "manufacturer": "Audi", "vin": VIN, "tenantId": 999999},
    )
    assert_problem(foreign, 404, "tenantId")
    assert foreign.json == missing.json
    assert_problem(
        acme.post(
            "/onboarding/entities",
            {"type": "EV", "manufacturer": "Audi", "vin": VIN, "tenantId": "acme"},
        ),
        422,
        "tenantId",
    )
    for path in ("/onboarding/entities", "/entities", "/collectives"):
        assert_problem(acme.get(f"{path}?tenantId={other.tenant_id}"), 404)
    assert_problem(acme.post("/collectives", {"name": "X", "tenantId": other.tenant_id}), 404)


def test_a_caller_without_a_single_tenant_must_name_one(
    app: Flask, client: FlaskClient, world, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No key is without a tenant today; a platform-wide caller would be.
    platform = Principal.for_api_key(0, tenant_id=None)
    monkeypatch.setattr(api_auth, "load_principal", lambda: platform)
    body = {"type": "EV", "manufacturer": "Audi", "vin": VIN}

    response = client.post(f"{API}/onboarding/entities", json=body)

    problem = assert_problem(response, 400, "tenantId")
    assert "tenantId" in problem["detail"]
    assert_problem(client.get(f"{API}/onboarding/entities"), 400, "tenantId")
    named = client.post(f"{API}/onboarding/entities", json={**body, "tenantId": world.other_id})
    assert named.status_code == 201
    assert named.json["data"]["tenant"]["name"] == "Other Power"


def test_other_tenants_ids_answer_404_on_every_endpoint(
    app: Flask, acme: Partner, other: Partner, world
) -> None:
    request_id = acme.onboard()["id"]
    done_id = acme.onboard()["id"]
    entity_id = succeed(app, done_id)

    for path in (f"/onboarding/entities/{request_id}", f"/entities/{entity_id}"):
        assert acme.get(path).status_code == 200
        assert other.get(path).json == {
            **assert_problem(other.get(path), 404),
            "instance": f"{API}{path}",
        }
    assert_problem(other.post(f"/onboarding/entities/{request_id}/cancel"), 404)
    assert_problem(other.post("/offboarding/entities", {"entityId": entity_id}), 404, "entityId")
    assert_problem(
        other.post(
            "/onboarding/entities",
            {
                "type": "EV",
                "manufacturer": "Audi",
                "vin": VIN,
                "collectiveId": str(world.household_id),
            },
        ),
        404,
        "collectiveId",
    )
    # Lists show only the caller's own.
    assert other.get("/onboarding/entities").json["data"] == []
    assert other.get("/entities").json["data"] == []
    assert [c["name"] for c in other.get("/collectives").json["data"]] == ["Carol's home"]
    # Nothing changed for acme.
    assert acme.get(f"/onboarding/entities/{request_id}").json["status"] == "Pending"
    assert acme.get(f"/entities/{entity_id}").json["status"] == "Connected"


# ---------------------------------------------------------------- reading and listing


def test_get_answers_the_request_as_created_and_its_progress(app: Flask, acme: Partner) -> None:
    created = acme.onboard(
        type="RetrofitMeter", manufacturer="Xenn", vin=None, reference=XENN_REFERENCE
    )
    # The redirect link is signed anew each time; everything else is as created.
    fetched = acme.get(f"/onboarding/entities/{created['id']}").json
    assert {k: v for k, v in fetched.items() if k != "action"} == {
        k: v for k, v in created.items() if k != "action"
    }

    entity_id = succeed(app, created["id"])
    finished = acme.get(f"/onboarding/entities/{created['id']}").json
    assert finished["status"] == "Succeeded"
    assert finished["action"]["type"] is None
    assert finished["action"]["redirectLink"] is None
    assert finished["data"]["entity"]["id"] == entity_id
    assert [s["status"] for s in finished["steps"]] == ["done", "done"]


def test_wizard_drafts_never_appear(app: Flask, acme: Partner) -> None:
    with in_db(app) as session:
        alice = session.scalar(select(User).where(User.email == "alice@acme.example"))
        draft = drafts.start_draft(alice.tenant, alice, "EV", current_catalog(), Actor.user(alice))
        session.commit()
        draft_id = str(draft.id)
    assert_problem(acme.get(f"/onboarding/entities/{draft_id}"), 404)
    assert_problem(acme.post(f"/onboarding/entities/{draft_id}/cancel"), 404)
    assert acme.get("/onboarding/entities").json["data"] == []
    assert_problem(acme.get("/onboarding/entities?status=Draft"), 400, "status")


def test_list_filters(app: Flask, acme: Partner) -> None:
    audi = acme.onboard(reference="a-1")
    bmw = acme.onboard(manufacturer="BMW", reference="b-1")
    xenn = acme.onboard(
        type="RetrofitMeter", manufacturer="Xenn", vin=None, reference=XENN_REFERENCE
    )
    acme.post(f"/onboarding/entities/{bmw['id']}/cancel")

    def ids(query: str) -> list[str]:
        response = acme.get(f"/onboarding/entities?{query}")
        assert response.status_code == 200, response.json
        return [r["id"] for r in response.json["data"]]

    assert ids("") == [audi["id"], bmw["id"], xenn["id"]]
    assert ids("type=EV") == [audi["id"], bmw["id"]]
    assert ids("manufacturer=BMW") == [bmw["id"]]
    assert ids("status=Canceled") == [bmw["id"]]
    assert ids("status=Pending&type=EV") == [audi["id"]]
    assert ids("reference=a-1") == [audi["id"]]
    assert ids(f"reference={XENN_REFERENCE}") == [xenn["id"]]
    assert ids(f"createdAfter={audi['created']}") == [audi["id"], bmw["id"], xenn["id"]]
    assert ids("createdBefore=2000-01-01T00:00:00Z") == []
    assert ids("createdAfter=2000-01-01T00:00:00") == [audi["id"], bmw["id"], xenn["id"]]
    assert_problem(acme.get("/onboarding/entities?createdAfter=yesterday"), 400, "createdAfter")
    assert_problem(acme.get("/onboarding/entities?limit=500"), 400, "limit")
    assert_problem(acme.get("/onboarding/entities?cursor=not-ours"), 400, "cursor")


def test_a_listed_request_reads_as_it_does_alone(app: Flask, acme: Partner, world) -> None:
    """The list reads rows, not objects: each item is still the single read's answer."""
    household = acme.post("/collectives", {"name": "Flat 3"}).json
    pending = acme.onboard(collectiveId=household["id"], reference="pending")
    canceled = acme.onboard(manufacturer="BMW", reference="canceled")
    acme.post(f"/onboarding/entities/{canceled['id']}/cancel")
    waiting = acme.onboard(
        type="PV", manufacturer="SolarEdge", vin=None, siteId="1234567", reference="waiting"
    )
    connected = acme.onboard(
        type="RetrofitMeter", manufacturer="Xenn", vin=None, reference=XENN_REFERENCE
    )
    succeed(app, connected["id"])
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(waiting["id"]))
        first, second = onboarding.steps
        steps.complete_step(onboarding, first, OWNER_LINK, {})
        steps.start_step(onboarding, second, OWNER_LINK)  # SolarEdge asks in its app
        # The pending request's link is past the half of its life when it is given out again.
        [old] = session.scalars(
            select(ConsentLink).where(ConsentLink.request_id == uuid.UUID(pending["id"]))
        ).all()
        old.created_at -= app.config["CONSENT_LINK_MAX_AGE"] * 0.6
        session.commit()

    listed = acme.get("/onboarding/entities").json["data"]

    alone = [acme.get(f"/onboarding/entities/{item['id']}").json for item in listed]
    assert listed == alone
    by_reference = {item["reference"]: item for item in listed}
    assert by_reference["pending"]["data"]["collective"]["id"] == household["id"]
    assert by_reference["pending"]["action"]["redirectLink"] != pending["action"]["redirectLink"]
    assert by_reference["canceled"]["action"]["type"] is None
    assert by_reference["waiting"]["action"]["type"] == "Consent"
    assert by_reference[XENN_REFERENCE]["data"]["entity"]["id"]
    with in_db(app) as session:
        made = session.scalars(
            select(ConsentLink).where(ConsentLink.request_id == uuid.UUID(pending["id"]))
        ).all()
        assert len(made) == 2  # one new link, made by the list and kept


def test_entity_types_describe_the_catalog(acme: Partner) -> None:
    types = {t["type"]: t for t in acme.get("/onboarding/entities/types").json["data"]}
    assert set(types) == {"EV", "PV", "SmartMeter", "RetrofitMeter"}
    assert types["EV"]["description"]
    audi = next(m for m in types["EV"]["manufacturers"] if m["name"] == "Audi")
    assert audi["attributes"][0] | {"description": ""} == {
        "name": "vin",
        "label": "Vehicle identification number (VIN)",
        "description": "",
        "required": True,
        "rule": "vin",
        "pattern": None,
        "format": None,
        "example": None,
        "target": "information",
        "choices": [],
    }
    assert audi["steps"] == [
        {"kind": "terms", "provider": None},
        {"kind": "redirect", "provider": "audi"},
    ]
    xenn = types["RetrofitMeter"]["manufacturers"][0]
    assert xenn["attributes"][0]["pattern"] == "P[0-9]{10}"
    assert xenn["attributes"][0]["format"] == "P followed by 10 digits"
    fluvius = next(m for m in types["SmartMeter"]["manufacturers"] if m["name"] == "Fluvius")
    flow = fluvius["attributes"][1]
    assert (flow["target"], [c["value"] for c in flow["choices"]]) == ("properties", ["B2C", "B2B"])


# ---------------------------------------------------------------- cancel


def test_cancel_is_idempotent_and_a_finished_request_is_409(app: Flask, acme: Partner) -> None:
    pending = acme.onboard()["id"]
    first = acme.post(f"/onboarding/entities/{pending}/cancel", {"reason": "customer left"})
    assert first.status_code == 200
    assert first.json["status"] == "Canceled"
    assert first.json["action"]["type"] is None
    again = acme.post(f"/onboarding/entities/{pending}/cancel")
    assert again.status_code == 200
    assert again.json["status"] == "Canceled"

    done = acme.onboard()["id"]
    succeed(app, done)
    body = assert_problem(acme.post(f"/onboarding/entities/{done}/cancel"), 409)
    assert "Succeeded" in body["detail"]
    assert acme.get(f"/onboarding/entities/{done}").json["status"] == "Succeeded"
    assert_problem(acme.post(f"/onboarding/entities/{uuid.uuid4()}/cancel"), 404)


# ---------------------------------------------------------------- entities and offboarding


def test_entities_list_get_and_offboard(app: Flask, acme: Partner, world) -> None:
    first = succeed(app, acme.onboard(collectiveId=str(world.household_id))["id"])
    second = succeed(
        app,
        acme.onboard(type="RetrofitMeter", manufacturer="Xenn", vin=None, reference=XENN_REFERENCE)[
            "id"
        ],
    )
    acme.onboard()  # still pending: no entity

    listed = acme.get("/entities").json
    assert [e["id"] for e in listed["data"]] == [first, second]
    assert listed["next"] is None
    assert [e["id"] for e in acme.get("/entities?type=RetrofitMeter").json["data"]] == [second]
    assert [
        e["id"] for e in acme.get(f"/entities?collectiveId={world.household_id}").json["data"]
    ] == [first]
    entity = acme.get(f"/entities/{first}").json
    assert (entity["status"], entity["information"], entity["disconnected"]) == (
        "Connected",
        {"vin": VIN},
        None,
    )
    assert_problem(acme.get(f"/entities/{uuid.uuid4()}"), 404)

    offboarded = acme.post("/offboarding/entities", {"entityId": first, "reason": "sold the car"})
    assert offboarded.status_code == 201
    assert offboarded.json["requestType"] == "Offboarding"
    assert offboarded.json["data"] == {
        "entityId": first,
        "tenantId": str(acme.tenant_id),
        "collectiveId": str(world.household_id),
        "reason": "sold the car",
    }
    after = acme.get(f"/entities/{first}").json
    assert after["status"] == "Disconnected"
    assert after["disconnected"] is not None
    assert [e["id"] for e in acme.get("/entities?status=Connected").json["data"]] == [second]
    with in_db(app) as session:
        steps = session.scalars(
            select(ConsentStep)
            .join(Entity, Entity.request_id == ConsentStep.request_id)
            .where(Entity.id == uuid.UUID(first))
        )
        assert {(s.status, s.revoke_reason) for s in steps} == {
            (StepStatus.REVOKED, "sold the car")
        }
        assert session.scalar(select(Event).where(Event.kind == "offboarded")).actor == (
            f"api-key:{acme.key_id}"
        )

    # Again: nothing changes, and the answer is the offboarding as it was done.
    again = acme.post("/offboarding/entities", {"entityId": first, "reason": "other words"})
    assert again.status_code == 200
    assert again.json == offboarded.json
    assert_problem(
        acme.post("/offboarding/entities", {"entityId": str(uuid.uuid4())}), 404, "entityId"
    )
    assert_problem(acme.post("/offboarding/entities", {}), 422, "entityId")


# ---------------------------------------------------------------- collectives


def test_collectives_are_created_and_listed(acme: Partner) -> None:
    created = acme.post("/collectives", {"name": "Sunny Street 2", "type": "Community"})
    assert created.status_code == 201
    assert created.json["type"] == "Community"
    assert created.json["tenantId"] == str(acme.tenant_id)
    household = acme.post("/collectives", {"name": "Flat 3"}).json
    assert household["type"] == "Household"

    names = [c["name"] for c in acme.get("/collectives").json["data"]]
    assert names == ["Alice's home", "Sunny Street", "Sunny Street 2", "Flat 3"]
    onboarded = acme.onboard(collectiveId=household["id"])
    assert onboarded["data"]["collective"]["id"] == household["id"]

    assert_problem(acme.post("/collectives", {"name": ""}), 422, "name")
    body = assert_problem(acme.post("/collectives", {"name": "X", "type": "Street"}), 422, "type")
    assert body["errors"]["type"] == ["Use one of Household or Community."]


# ---------------------------------------------------------------- auth


def test_without_or_with_a_bad_key_it_is_401(
    app: Flask, client: FlaskClient, acme: Partner
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer eo_wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": f"Token {acme.secret}"},
    ):
        response = client.get(f"{API}/onboarding/entities", headers=headers)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.post(f"{API}/onboarding/entities", json={"type": "EV"}), 401)
    assert count(app, OnboardingRequest) == 0


def test_a_key_revoked_by_another_worker_stops_within_the_recheck_time(
    app: Flask, acme: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(api_auth, "clock", lambda: now[0])
    assert acme.get("/collectives").status_code == 200
    with in_db(app) as session:
        key = session.get(ApiKey, acme.key_id)
        assert key.last_used_at is not None
        key.revoked_at = utcnow()  # as another worker, or the command line, would
        session.commit()
    now[0] += app.config["API_KEY_RECHECK_SECONDS"] - 0.5
    assert acme.get("/collectives").status_code == 200  # trusted a few seconds more
    now[0] += 0.5
    assert_problem(acme.get("/collectives"), 401)
    assert_problem(acme.get("/collectives"), 401)  # a refused key is never trusted


def test_a_recheck_time_of_0_reads_the_key_on_every_call(app: Flask, acme: Partner) -> None:
    app.config["API_KEY_RECHECK_SECONDS"] = 0
    assert acme.get("/collectives").status_code == 200
    with in_db(app) as session:
        session.get(ApiKey, acme.key_id).revoked_at = utcnow()
        session.commit()
    assert_problem(acme.get("/collectives"), 401)


def test_the_worker_trusts_a_bounded_number_of_keys() -> None:
    keys = api_auth._CheckedKeys(size=2)
    for n in range(3):
        keys.put(f"hash-{n}", n, 1)
    assert keys.get("hash-0", 60) is None  # the least recently used went first
    assert keys.get("hash-2", 60) == (2, 1)
    keys.forget("hash-2")
    assert keys.get("hash-2", 60) is None


def test_a_signed_in_staff_member_may_use_the_session(app: Flask, world) -> None:
    with in_db(app) as session:
        add_user(session, session.get(Tenant, world.acme_id), "sam@acme.example", Role.SUPPORT)
        session.commit()
    staff = signed_in_client(app, "sam@acme.example")
    created = staff.post(
        f"{API}/onboarding/entities", json={"type": "EV", "manufacturer": "Audi", "vin": VIN}
    )
    assert created.status_code == 201
    assert created.json["data"]["tenant"]["id"] == str(world.acme_id)
    assert len(staff.get(f"{API}/onboarding/entities").json["data"]) == 1


def test_an_owner_sees_only_their_own_requests(app: Flask, acme: Partner) -> None:
    acme.onboard()  # the partner's, not Alice's
    alice = signed_in_client(app, "alice@acme.example")
    mine = alice.post(
        f"{API}/onboarding/entities", json={"type": "EV", "manufacturer": "Audi", "vin": VIN}
    )
    assert mine.status_code == 201
    assert [r["id"] for r in alice.get(f"{API}/onboarding/entities").json["data"]] == [
        mine.json["id"]
    ]
    assert_problem(alice.post(f"{API}/collectives", json={"name": "Mine"}), 403)


@pytest.mark.csrf
def test_session_writes_need_the_csrf_token_but_api_keys_do_not(app: Flask, world) -> None:
    secret, _key_id = issue_key(app, world.acme_id)
    body = {"type": "EV", "manufacturer": "Audi", "vin": VIN}
    keyed = app.test_client().post(
        f"{API}/onboarding/entities", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert keyed.status_code == 201

    alice = app.test_client()
    login_page = alice.get("/auth/login")
    alice.post(
        "/auth/login",
        data={
            "email": "alice@acme.example",
            "password": "correct horse battery",
            "csrf_token": csrf_token(login_page),
        },
    )
    token = csrf_token(alice.get("/"))
    refused = alice.post(f"{API}/onboarding/entities", json=body)
    assert "CSRF" in assert_problem(refused, 400)["detail"]
    accepted = alice.post(f"{API}/onboarding/entities", json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
    assert alice.get(f"{API}/onboarding/entities").status_code == 200


# ---------------------------------------------------------------- idempotency


def test_the_same_idempotency_key_and_body_answers_the_first_request(
    app: Flask, acme: Partner, other: Partner
) -> None:
    body = {"type": "EV", "manufacturer": "Audi", "vin": VIN}
    first = acme.post("/onboarding/entities", body, headers={"Idempotency-Key": "order-1"})
    # The same JSON, keys in another order.
    again = acme.client.post(
        f"{API}/onboarding/entities",
        data=json.dumps({"vin": VIN, "manufacturer": "Audi", "type": "EV"}),
        headers=acme.headers(**{"Idempotency-Key": "order-1", "Content-Type": "application/json"}),
    )
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(app, OnboardingRequest) == 1

    different = acme.post(
        "/onboarding/entities",
        {**body, "vin": "WAUZZZ4G7EN123456"},
        headers={"Idempotency-Key": "order-1"},
    )
    assert "Idempotency-Key" in assert_problem(different, 409)["detail"]
    assert count(app, OnboardingRequest) == 1

    # Keys are the caller's own: another partner's "order-1" is another request.
    theirs = other.post("/onboarding/entities", body, headers={"Idempotency-Key": "order-1"})
    assert theirs.status_code == 201
    assert theirs.json["id"] != first.json["id"]
    # Failed calls are not remembered: fixing the body with the same key works.
    bad = acme.post(
        "/onboarding/entities", {**body, "vin": "short"}, headers={"Idempotency-Key": "order-2"}
    )
    assert_problem(bad, 422)
    fixed = acme.post("/onboarding/entities", body, headers={"Idempotency-Key": "order-2"})
    assert fixed.status_code == 201
    assert count(app, IdempotencyRecord) == 3


def test_idempotency_covers_every_post(app: Flask, acme: Partner) -> None:
    key = {"Idempotency-Key": "k"}
    collective = [acme.post("/collectives", {"name": "Home 9"}, headers=key) for _ in range(2)]
    assert collective[0].json == collective[1].json
    request_id = acme.onboard()["id"]
    cancels = [
        acme.post(f"/onboarding/entities/{request_id}/cancel", {}, headers={"Idempotency-Key": "c"})
        for _ in range(2)
    ]
    assert cancels[0].json["status"] == cancels[1].json["status"] == "Canceled"
    entity_id = succeed(app, acme.onboard()["id"])
    offboards = [
        acme.post(
            "/offboarding/entities", {"entityId": entity_id}, headers={"Idempotency-Key": "o"}
        )
        for _ in range(2)
    ]
    assert offboards[0].status_code == offboards[1].status_code == 201
    assert offboards[0].json == offboards[1].json
    assert_problem(
        acme.post("/collectives", {"name": "x"}, headers={"Idempotency-Key": "x" * 256}),
        400,
        "Idempotency-Key",
    )


# ---------------------------------------------------------------- HTTP-level errors


def test_a_body_that_is_not_json_is_415_and_broken_json_is_400(acme: Partner) -> None:
    form = acme.client.post(
        f"{API}/onboarding/entities", data={"type": "EV"}, headers=acme.headers()
    )
    assert_problem(form, 415)
    text = acme.client.post(
        f"{API}/collectives", data="name=x", headers=acme.headers(**{"Content-Type": "text/plain"})
    )
    assert_problem(text, 415)
    broken = acme.client.post(
        f"{API}/onboarding/entities",
        data='{"type": "EV",',
        headers=acme.headers(**{"Content-Type": "application/json"}),
    )
    assert "not valid JSON" in assert_problem(broken, 400)["detail"]


def test_an_oversized_body_is_413(app: Flask, acme: Partner) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = acme.post(
        "/onboarding/entities",
        {"type": "EV", "manufacturer": "Audi", "vin": VIN, "model": "x" * 4096},
    )
    assert_problem(response, 413)


def test_unknown_paths_and_methods_are_problems_too(acme: Partner) -> None:
    assert_problem(acme.get("/nothing-here"), 404)
    assert_problem(acme.get("/onboarding/entities/not-a-uuid"), 404)
    wrong_method = acme.client.delete(f"{API}/collectives", headers=acme.headers())
    assert_problem(wrong_method, 405)
    assert "GET" in wrong_method.headers["Allow"]


def test_rate_limits_are_per_key_and_answer_429_with_retry_after(
    app: Flask, acme: Partner, other: Partner
) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    for left in (2, 1, 0):
        answer = acme.get("/collectives")
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Limit"] == "3"
        assert answer.headers["X-RateLimit-Remaining"] == str(left)
        assert 0 < int(answer.headers["X-RateLimit-Reset"]) - time.time() <= 60
    limited = acme.get("/collectives")
    assert_problem(limited, 429)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert other.get("/collectives").status_code == 200


def test_calls_without_a_valid_key_count_for_their_address(app: Flask, client) -> None:
    # Counted before the key is read: guessing keys is limited like any other call.
    app.config["API_RATE_LIMIT"] = "3 per minute"
    wrong = {"Authorization": "Bearer eo_guess"}
    for _ in range(3):
        assert_problem(client.get(f"{API}/collectives", headers=wrong), 401)
    assert_problem(client.get(f"{API}/collectives", headers=wrong), 429)


# ---------------------------------------------------------------- the published document


def test_openapi_document_and_docs_page_are_served_by_the_app(client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json")
    assert document.status_code == 200
    spec = document.json
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {
        f"{API}/onboarding/entities",
        f"{API}/onboarding/entities/{{request_id}}",
        f"{API}/onboarding/entities/{{request_id}}/cancel",
        f"{API}/onboarding/entities/types",
        f"{API}/entities",
        f"{API}/entities/{{entity_id}}",
        f"{API}/entities/{{entity_id}}/reconnect",
        f"{API}/offboarding/entities",
        f"{API}/collectives",
        f"{API}/webhooks",
        f"{API}/webhooks/{{endpoint_id}}",
        f"{API}/webhooks/{{endpoint_id}}/deliveries",
        f"{API}/webhooks/{{endpoint_id}}/deliveries/{{delivery_id}}/retry",
        f"{API}/webhooks/{{endpoint_id}}/test",
    }
    create = spec["paths"][f"{API}/onboarding/entities"]["post"]
    assert set(create["responses"]) >= {
        "201",
        "400",
        "401",
        "404",
        "409",
        "413",
        "415",
        "422",
        "429",
    }
    assert PROBLEM in create["responses"]["422"]["content"]
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"

    page = client.get(f"{API}/docs")
    assert page.status_code == 200
    assert f"{API}/openapi.json" in page.text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert any(a.split("?")[0].endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        with client.get(asset) as served:
            assert served.status_code == 200, asset
    assert "https://" not in re.sub(r"<noscript>.*?</noscript>", "", page.text, flags=re.S)
    assert "style-src 'self';" in page.headers["Content-Security-Policy"]


def test_an_overdue_request_reads_as_expired(app: Flask, acme: Partner) -> None:
    created = acme.post("/onboarding/entities", {"type": "EV", "manufacturer": "Audi", "vin": VIN})
    assert created.status_code == 201
    with in_db(app) as session:
        request = session.get(OnboardingRequest, uuid.UUID(created.json["id"]))
        request.created_at = request.created_at - app.config["REQUEST_EXPIRES_AFTER"]
        session.commit()
    answer = acme.get(f"/onboarding/entities/{created.json['id']}")
    assert answer.json["status"] == "Failed"
    assert answer.json["failureReason"] == "expired"
    assert answer.json["action"]["type"] is None
