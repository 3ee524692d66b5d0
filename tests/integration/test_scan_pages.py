"""Scan instead of typing: what the server renders for static/js/scan.js, and what it serves.

The Scan button, its message and the camera panel come from the server in an inert
<template> next to each identifier field (so they are translated like every other text);
the script and the barcode reader are our own static files, never a CDN's.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.security import CONTENT_SECURITY_POLICY
from tests.integration.helpers import (
    HX,
    XENN_REFERENCE,
    accept_terms,
    answer,
    signed_in_client,
    start,
    submit,
    url,
    walk_to_check,
)

STATIC = Path(__file__).resolve().parents[2] / "static"
VENDORED = STATIC / "vendor" / "barcode-detector"


class Tags(HTMLParser):
    """Every <input> and <template> of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.templates: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") not in ("hidden", "radio"):
            self.inputs[attributes.get("id") or ""] = attributes
        elif tag == "template":
            self.templates.append(attributes)


def tags(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def scan_targets(html: str) -> list[str]:
    """The ids of the fields the page offers to scan (each marked and given its template)."""
    page = tags(html)
    marked = [field_id for field_id, attrs in page.inputs.items() if "data-scan" in attrs]
    assert marked == [t["data-scan-for"] for t in page.templates if "data-scan-for" in t]
    return marked


@pytest.fixture
def alice(app, world):
    return signed_in_client(app, world.alice)


def details_page(client, type_id: str, manufacturer: str, headers=None):
    request_id = start(client, type_id)
    answer(client, request_id, "manufacturer", {"manufacturer": manufacturer}, expect="details")
    return client.get(url(request_id, "details"), headers=headers or {})


@pytest.mark.parametrize(
    ("type_id", "manufacturer", "scannable"),
    [
        ("EV", "Audi", ["vin"]),
        ("SmartMeter", "Fluvius", ["ean"]),  # its contract type (radios) is not scanned
        ("SmartMeter", "re.alto P1-Dongle", ["code"]),
        ("RetrofitMeter", "Xenn", ["reference"]),
        ("PV", "SMA", ["plantId"]),  # the account's email address is typed, never scanned
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_identifier_fields_offer_a_scan_and_others_do_not(
    alice, world, type_id, manufacturer, scannable, headers
):
    page = details_page(alice, type_id, manufacturer, headers)

    assert page.status_code == 200
    assert scan_targets(page.text) == scannable


def test_an_email_field_has_no_scan_marker(alice, world):
    page = tags(details_page(alice, "PV", "SMA").text)

    assert "data-scan" not in page.inputs["email"]
    assert page.inputs["email"]["type"] == "email"


def test_the_pairing_code_offers_a_scan(app, alice, world):
    request_id = walk_to_check(
        alice, "RetrofitMeter", "Xenn", {"reference": XENN_REFERENCE}, str(world.household_id)
    )
    submit(alice, request_id)
    accept_terms(alice, request_id)

    page = alice.get(url(request_id, "steps/2"))

    assert scan_targets(page.text) == ["code"]


def test_pages_without_identifiers_offer_no_scan(app, alice, world):
    assert scan_targets(alice.get("/").text) == []
    assert scan_targets(app.test_client().get("/auth/login").text) == []


def test_a_bad_scan_is_judged_like_typing(alice, world):
    """A read goes through the same rules as typing: the field keeps it, with the message."""
    request_id = start(alice, "EV")
    answer(alice, request_id, "manufacturer", {"manufacturer": "Audi"}, expect="details")

    page = alice.post(url(request_id, "details"), data={"vin": " WAUZZZ8V5KA10659 "})

    assert page.status_code == 422
    assert "A VIN has 17 characters; this one has 16." in page.text
    assert scan_targets(page.text) == ["vin"]


def test_the_scan_texts_are_translated(app, world):
    client = signed_in_client(app, world.alice)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-BE,nl;q=0.9"

    page = details_page(client, "EV", "Audi").text

    template = page[page.index("<template data-scan-for") : page.index("</template>")]
    for dutch in (
        "Scannen",
        "Scan de code",
        "De camera wordt gestart…",
        "Annuleren",
        "De camera is geblokkeerd voor deze website.",
        "Gelezen: {value} — vergelijk het met het apparaat.",
    ):
        assert dutch in template, dutch


def test_the_scanner_files_are_served_from_this_site(alice, world):
    template = tags(details_page(alice, "EV", "Audi").text).templates[0]

    for attribute, content_type in [
        ("data-scan-script", "text/javascript"),
        ("data-scan-polyfill", "text/javascript"),
        ("data-scan-wasm", "application/wasm"),
    ]:
        link = template[attribute] or ""
        assert re.fullmatch(r"/static/[\w/.-]+\?v=[0-9a-f]{12}", link), link
        with alice.get(link) as answer_:
            assert answer_.status_code == 200
            assert answer_.content_type.startswith(content_type)
            assert "max-age=31536000" in answer_.headers["Cache-Control"]


def test_the_polyfills_own_import_is_served_and_checked_again_each_time(client):
    """ponyfill.js imports ./zxing-exported.js by a plain URL: never cached for a year."""
    polyfill = (VENDORED / "ponyfill.js").read_text(encoding="utf-8")
    imported = re.findall(r'from\s*"\./([^"]+)"', polyfill)
    assert imported == ["zxing-exported.js"]

    with client.get(f"/static/vendor/barcode-detector/{imported[0]}") as answer_:
        assert answer_.status_code == 200
        assert "max-age=31536000" not in answer_.headers.get("Cache-Control", "")
        etag = answer_.headers["ETag"]
    with client.get(
        f"/static/vendor/barcode-detector/{imported[0]}", headers={"If-None-Match": etag}
    ) as again:
        assert again.status_code == 304


def test_the_vendored_reader_is_the_one_the_polyfill_expects():
    """The .wasm's SHA-256 is the one zxing-wasm built into the polyfill's JavaScript."""
    script = (VENDORED / "zxing-exported.js").read_text(encoding="utf-8")
    wasm = hashlib.sha256((VENDORED / "zxing_reader.wasm").read_bytes()).hexdigest()

    assert f'"{wasm}"' in script
    assert (VENDORED / "LICENSE").is_file()
    assert (VENDORED / "VENDORED.md").is_file()


def test_our_scripts_load_nothing_from_elsewhere():
    for path in (STATIC / "js" / "scan.js", STATIC / "js" / "app.js"):
        assert not re.search(r"https?://", path.read_text(encoding="utf-8")), path


def test_the_csp_allows_webassembly_and_no_other_eval(client):
    policy = client.get("/auth/login").headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = {
        name: values for name, *values in (directive.split() for directive in policy.split(";"))
    }

    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert directives["style-src"] == ["'self'"]
    sources = [value for values in directives.values() for value in values]
    assert "'unsafe-inline'" not in sources
    assert "'unsafe-eval'" not in sources
