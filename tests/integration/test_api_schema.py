"""Schemathesis against the published OpenAPI document: no server errors, every answer
(status, content type, headers, body) is the one the document promises, what the document
allows is accepted and what it forbids is refused. bench/fuzz.py runs the same against a
live server with every check and many more cases.

Bounded to a few examples per operation so that the whole file stays well under a minute.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from app.models import ApiKey, OnboardingRequest, Tenant
from app.onboarding import steps
from app.onboarding.audit import OWNER_LINK
from tests.integration.helpers import VIN, XENN_REFERENCE, in_db, make_world

EXAMPLES_PER_OPERATION = 12


def not_a_server_error(ctx: Any, response: Any, case: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:1000])


def positive_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    # Creating a request checks identifiers with the catalog's rules, some of them check
    # digits (an EAN's, a North American VIN's) that a JSON Schema cannot state: a value
    # of the right shape may still be refused, with 422 and the field named.
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id == "createEntityOnboardingRequest" and response.status_code == 422:
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    positive_data_accepted,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_key(app: Flask) -> str:
    """A key of a tenant that has a collective, requests in each state and an entity."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    world = make_world(app)
    with in_db(app) as session:
        key, secret = ApiKey.issue(session.get(Tenant, world.acme_id), "schemathesis")
        session.add(key)
        session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    for body in (
        {"type": "EV", "manufacturer": "Audi", "vin": VIN},
        {
            "type": "RetrofitMeter",
            "manufacturer": "Xenn",
            "reference": XENN_REFERENCE,
            "collectiveId": str(world.household_id),
        },
    ):
        assert (
            client.post("/api/v1/onboarding/entities", json=body, headers=headers).status_code
            == 201
        )
    done = client.get("/api/v1/onboarding/entities?type=RetrofitMeter", headers=headers)
    with in_db(app) as session:
        onboarding = session.get(OnboardingRequest, uuid.UUID(done.json["data"][0]["id"]))
        for step in list(onboarding.steps):
            steps.complete_step(onboarding, step, OWNER_LINK, {})
        session.commit()
    return secret


def published_document() -> dict[str, Any]:
    """The document exactly as the app serves it (it depends on the code, not the data)."""
    document_app = create_app(
        {"TESTING": True, "SECRET_KEY": "schema", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    response = document_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


schema = schemathesis.openapi.from_dict(published_document())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES_PER_OPERATION,
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_published_schema(case: Any, app: Flask, api_key: str) -> None:
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {api_key}"}, checks=CHECKS)
