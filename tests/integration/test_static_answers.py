"""The catalog and the OpenAPI document are built once and revalidated by ETag (304)."""

from __future__ import annotations

from tests.integration.helpers import make_world
from tests.integration.test_api import issue_key

TYPES = "/api/v1/onboarding/entities/types"


def test_types_carry_an_etag_and_a_match_answers_304_without_a_body(app, client) -> None:
    world = make_world(app)
    secret, _ = issue_key(app, world.acme_id)
    auth = {"Authorization": f"Bearer {secret}"}
    first = client.get(TYPES, headers=auth)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]

    again = client.get(TYPES, headers={**auth, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    stale = client.get(TYPES, headers={**auth, "If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.json == first.json


def test_types_still_need_a_key_even_with_a_matching_etag(app, client) -> None:
    world = make_world(app)
    secret, _ = issue_key(app, world.acme_id)
    etag = client.get(TYPES, headers={"Authorization": f"Bearer {secret}"}).headers["ETag"]
    assert client.get(TYPES, headers={"If-None-Match": etag}).status_code == 401


def test_the_openapi_document_is_revalidated_by_etag(client) -> None:
    first = client.get("/api/v1/openapi.json")
    assert first.status_code == 200
    assert first.json["paths"]
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
