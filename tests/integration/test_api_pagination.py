"""Cursor pages stay exact while rows are being added: no duplicates, no gaps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import ApiKey, Collective, CollectiveKind, Tenant
from tests.integration.helpers import VIN, in_db

API = "/api/v1"


@pytest.fixture
def partner(app: Flask, client: FlaskClient) -> tuple[FlaskClient, dict[str, str], int]:
    with in_db(app) as session:
        tenant = Tenant(slug="acme", name="Acme Energy")
        session.add(tenant)
        key, secret = ApiKey.issue(tenant, "pager")
        session.add(key)
        session.commit()
        return client, {"Authorization": f"Bearer {secret}"}, tenant.id


def create(client: FlaskClient, headers: dict[str, str], n: int) -> list[str]:
    ids = []
    for i in range(n):
        response = client.post(
            f"{API}/onboarding/entities",
            headers=headers,
            json={"type": "EV", "manufacturer": "Audi", "vin": VIN, "reference": f"r{i}"},
        )
        assert response.status_code == 201
        ids.append(response.json["id"])
    return ids


def test_pages_while_rows_are_added_have_no_duplicates_or_gaps(partner) -> None:
    client, headers, _tenant_id = partner
    expected = create(client, headers, 7)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        response = client.get(f"{API}/onboarding/entities{query}", headers=headers)
        assert response.status_code == 200, response.json
        body = response.json
        assert len(body["data"]) <= 3
        seen += [r["id"] for r in body["data"]]
        pages += 1
        # Someone else adds requests between our page fetches.
        if pages <= 3:
            expected += create(client, headers, 2)
        cursor = body["next"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)), "a request appeared twice"
    assert seen == expected, "a request was skipped or out of order"
    assert len(seen) == 13


def test_rows_created_at_the_same_instant_are_ordered_by_id(app: Flask, partner) -> None:
    client, headers, tenant_id = partner
    instant = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    with in_db(app) as session:
        session.add_all(
            Collective(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                name=f"Home {i}",
                kind=CollectiveKind.HOUSEHOLD,
                created_at=instant,
            )
            for i in range(5)
        )
        session.commit()
    seen: list[str] = []
    cursor = None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        body = client.get(f"{API}/collectives{query}", headers=headers).json
        seen += [c["id"] for c in body["data"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert seen == sorted(seen, key=uuid.UUID)


def test_the_last_full_page_says_there_is_no_next(partner) -> None:
    client, headers, _tenant_id = partner
    create(client, headers, 4)
    first = client.get(f"{API}/onboarding/entities?limit=2", headers=headers).json
    second = client.get(
        f"{API}/onboarding/entities?limit=2&cursor={first['next']}", headers=headers
    ).json
    assert len(second["data"]) == 2
    assert second["next"] is None
