"""A partner creates a request over the API; its customer follows the redirectLink in a
browser, gives consent on our hosted pages, and the partner sees the Entity over the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import APIRequestContext, Page, expect

from app.extensions import db
from app.models import ApiKey, Tenant
from app.seed import DEMO_TENANT
from tests.e2e.a11y import audit
from tests.e2e.conftest import LiveServer, MakeContext, MakePage
from tests.e2e.pages import Wizard, path_pattern

XENN = {"type": "RetrofitMeter", "manufacturer": "Xenn", "reference": "P1000000000"}
PAIRING_CODE = "123456"


class PartnerApi:
    """The partner's server calling our API over HTTP with its key."""

    def __init__(self, request: APIRequestContext, base_url: str, secret: str) -> None:
        self.request = request
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {secret}"}

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.request.post(
            f"{self.base_url}/api/v1{path}", data=body, headers=self.headers
        )
        return response.status, response.json()

    def get(self, path: str) -> dict[str, Any]:
        response = self.request.get(f"{self.base_url}/api/v1{path}", headers=self.headers)
        assert response.ok, response.text()
        return response.json()


@pytest.fixture
def partner(live_server: LiveServer, make_context: MakeContext) -> PartnerApi:
    with live_server.app.app_context():
        tenant = db.session.query(Tenant).filter_by(slug=DEMO_TENANT).one()
        key, secret = ApiKey.issue(tenant, "partner app")
        db.session.add(key)
        db.session.commit()
    # A context of its own: no cookies shared with the owner's browser.
    return PartnerApi(make_context("desktop").request, live_server.url, secret)


def give_consent(page: Page, redirect_link: str) -> None:
    """The owner, without an account, follows the link and takes both steps."""
    page.goto(redirect_link)
    wizard = Wizard(page)
    wizard.expect_url(path_pattern("onboarding", "{id}", "consent"))
    # The link lands on who asks, the device, what is asked and how long it takes.
    expect(page.get_by_text(re.compile(r"asks you to connect your"))).to_be_visible()
    expect(page.get_by_text("It takes about 3 minutes, in 2 steps:")).to_be_visible()
    wizard.next_step(Wizard.TERMS_HEADING)
    wizard.agree_to_terms()
    wizard.next_step(Wizard.PAIRING_HEADING)
    wizard.enter_pairing_code(PAIRING_CODE)


@pytest.mark.parametrize("viewport", ["phone", "desktop"], indirect=True)
def test_redirect_link_leads_the_owner_to_an_entity_the_api_then_shows(
    page: Page, partner: PartnerApi
) -> None:
    status, created = partner.post("/onboarding/entities", XENN)
    assert status == 201
    assert created["status"] == "Pending"
    assert created["action"]["type"] == "Redirect"

    give_consent(page, created["action"]["redirectLink"])

    wizard = Wizard(page)
    wizard.expect_heading(re.compile("is connected$"))
    wizard.expect_url(path_pattern("onboarding", created["id"], "done"))
    fetched = partner.get(f"/onboarding/entities/{created['id']}")
    assert fetched["status"] == "Succeeded"
    assert fetched["action"]["type"] is None
    assert [s["status"] for s in fetched["steps"]] == ["done", "done"]
    entity_id = fetched["data"]["entity"]["id"]
    assert entity_id
    expect(page.get_by_text(entity_id)).to_be_visible()
    entity = partner.get(f"/entities/{entity_id}")
    assert (entity["status"], entity["information"]) == ("Connected", {"reference": "P1000000000"})
    assert [e["id"] for e in partner.get("/entities")["data"]] == [entity_id]


@pytest.mark.parametrize(
    "javascript",
    [
        pytest.param(True, id="js"),
        pytest.param(False, id="no-js"),
    ],
)
def test_the_owner_lands_on_the_partners_return_url(
    live_server: LiveServer, make_page: MakePage, partner: PartnerApi, javascript: bool
) -> None:
    # The partner's site is another origin: "localhost" is not the "127.0.0.1" we serve on.
    partner_site = live_server.url.replace("127.0.0.1", "localhost")
    return_url = f"{partner_site}/static/favicon.svg?from=partner"
    status, created = partner.post("/onboarding/entities", {**XENN, "returnUrl": return_url})
    assert status == 201

    page = make_page("desktop", javascript=javascript)
    give_consent(page, created["action"]["redirectLink"])

    expect(page).to_have_url(re.compile(rf"^{re.escape(partner_site)}/static/favicon\.svg\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"from": ["partner"], "id": [created["id"]], "status": ["Succeeded"]}
    assert partner.get(f"/onboarding/entities/{created['id']}")["status"] == "Succeeded"


@pytest.mark.parametrize(
    "javascript",
    [
        pytest.param(True, id="js"),
        pytest.param(False, id="no-js"),
    ],
)
def test_not_now_declines_and_returns_to_the_partner_with_status_canceled(
    live_server: LiveServer,
    make_page: MakePage,
    partner: PartnerApi,
    javascript: bool,
    screenshot: Callable[[Page, str], Path | None],
) -> None:
    partner_site = live_server.url.replace("127.0.0.1", "localhost")
    return_url = f"{partner_site}/static/favicon.svg?from=partner"
    audi = {"type": "EV", "manufacturer": "Audi", "vin": "WAUZZZ8V0KA000000"}
    status, created = partner.post("/onboarding/entities", {**audi, "returnUrl": return_url})
    assert status == 201

    for size in ("phone", "tablet", "desktop") if javascript else ("desktop",):
        page = make_page(size, javascript=javascript)
        page.goto(created["action"]["redirectLink"])
        landing = Wizard(page)
        landing.expect_heading(Wizard.CONSENT_HEADING)  # audited
        expect(
            page.get_by_text(re.compile(r"asks you to connect your Audi electric vehicle"))
        ).to_be_visible()
        expect(page.get_by_text("WAUZZZ8V0KA000000")).to_be_visible()
        expect(page.locator("[data-consent-scope]")).to_have_count(2)
        screenshot(page, f"hosted-landing-{size}{'' if javascript else '-nojs'}")

    landing.follow("Not now: decline this request")
    landing.expect_heading("Decline this request?")
    screenshot(page, f"hosted-decline{'' if javascript else '-nojs'}")
    landing.press("Yes, decline")

    expect(page).to_have_url(re.compile(rf"^{re.escape(partner_site)}/static/favicon\.svg\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"from": ["partner"], "id": [created["id"]], "status": ["Canceled"]}
    fetched = partner.get(f"/onboarding/entities/{created['id']}")
    assert (fetched["status"], fetched["failureReason"]) == ("Canceled", "declined")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_audi_example_gets_a_redirect_link_to_the_hosted_pages(
    page: Page, partner: PartnerApi
) -> None:
    # The example of docs/api.md; its sign-in at Audi is another page's business.
    status, created = partner.post(
        "/onboarding/entities", {"type": "EV", "manufacturer": "Audi", "vin": "WAUZZZ8V0KA000000"}
    )
    assert status == 201
    assert created["status"] == "Pending"
    link = created["action"]["redirectLink"]
    assert link.startswith(f"{partner.base_url}/c/")

    page.goto(link)
    Wizard(page).expect_url(path_pattern("onboarding", created["id"], "consent"))
    expect(page.get_by_text("It takes about 3 minutes, in 2 steps:")).to_be_visible()


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_api_reference_renders_under_the_sites_strict_csp(page: Page) -> None:
    page.add_init_script(
        "window.violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto("/api/v1/docs")

    operation = page.get_by_text("Create an Entity Onboarding Request").first
    expect(operation).to_be_visible()
    audit(page, "the API reference")  # Swagger UI's own widgets are left out: see a11y.py
    operation.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    audit(page, "an operation opened")
    assert page.evaluate("window.violations") == []
