"""The browser harness itself: Chromium reaches the live server at every size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

HTMX_PATH = "/static/js/htmx.min.js"


def assert_serves_htmx(page: Page) -> None:
    response = page.goto(HTMX_PATH)
    assert response is not None
    assert response.status == 200
    content_type = response.headers["content-type"]
    assert content_type.startswith(("text/javascript", "application/javascript"))


def test_serves_vendored_htmx_at_each_viewport(
    page: Page, screenshot: Callable[[Page, str], Path | None]
) -> None:
    assert_serves_htmx(page)
    size = page.viewport_size
    assert size is not None
    screenshot(page, f"harness-htmx-{size['width']}x{size['height']}")


def test_serves_vendored_htmx_without_javascript(nojs_page: Page) -> None:
    assert_serves_htmx(nojs_page)
    nojs_page.set_content('<p id="out">off</p><script>out.textContent = "on"</script>')
    assert nojs_page.locator("#out").text_content() == "off"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_viewport_can_be_pinned(page: Page) -> None:
    assert page.viewport_size == {"width": 390, "height": 844}
