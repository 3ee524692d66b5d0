"""Browser harness: Debian's Chromium driving the app on a live server.

Every test here is marked `browser`. Fixtures:

- `live_server` — the app (CSRF on, demo data seeded, own SQLite file) served
  on a free port; `.url`, `.app`, `.users` (email -> password),
  `.url_for(endpoint, **values)` (a path, for `page.goto`). A request that
  raises (HTTP 500) fails the test at teardown, with the traceback.
- `viewport` — parametrized phone 390x844 / tablet 820x1180 / desktop 1280x800
  (a `Viewport`; phone and tablet also emulate touch + mobile); pin it with
  `@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)`.
- `context` / `page` — a fresh context at `viewport` whose base_url is the live
  server, so `page.goto("/")` works. Any test that uses them runs once per
  viewport.
- `nojs_page` — a page at desktop size with JavaScript disabled.
- `make_page(viewport="desktop", *, javascript=True, browser=None, **context_args)` —
  one more page in a new context (a second person, another size, no JS, or in
  another `browser` launched with other flags, such as a fake camera);
  `make_context(...)` takes the same arguments and returns the context.
- `screenshot(page, name)` — saves tests/e2e/screenshots/<name>.png when
  SCREENSHOTS=1.

Accessibility (tests/e2e/a11y.py) is enforced here too: every context watches htmx swaps
(so an audit can tell where focus went), and when a test has passed, every page of the app
still open in its contexts is audited once more at teardown.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception, url_for
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.e2e.a11y import audit, is_app_page, watch

HERE = Path(__file__).resolve().parent
SCREENSHOTS_DIR = HERE / "screenshots"
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Playwright's 30 s default only makes a broken test slow against a local server.
DEFAULT_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Viewport:
    """A screen size to test at; phone and tablet also get touch and mobile layout."""

    name: str
    width: int
    height: int
    mobile: bool = False

    @property
    def size(self) -> ViewportSize:
        return {"width": self.width, "height": self.height}

    def context_args(self) -> dict[str, Any]:
        return {"viewport": self.size, "is_mobile": self.mobile, "has_touch": self.mobile}


VIEWPORTS: dict[str, Viewport] = {
    "phone": Viewport("phone", 390, 844, mobile=True),
    "tablet": Viewport("tablet", 820, 1180, mobile=True),
    "desktop": Viewport("desktop", 1280, 800),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, so mark only the ones under here.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


CALL_PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Fixtures read this at teardown: the final audit runs only after a test has passed.
    report = yield
    if report.when == "call":
        item.stash[CALL_PASSED] = report.passed
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options plus Debian's Chromium (no downloads here)."""
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@dataclass
class LiveServer:
    """The app served over real HTTP for the browser."""

    url: str
    app: Flask
    users: dict[str, str]
    errors: list[str] = field(default_factory=list)

    def url_for(self, endpoint: str, **values: Any) -> str:
        """The path of an endpoint, as the app itself would build it."""
        with self.app.test_request_context(base_url=self.url):
            return url_for(endpoint, **values)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh app with its own SQLite file and the demo data, on a free port.

    TEST_DATABASE_URL is deliberately ignored: browser tests always use SQLite.
    An unhandled exception in a request fails the test at teardown.
    """
    from app.seed import seed_demo

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.db'}",
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context():
        db.create_all()
        users = seed_demo()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, users=users)
    app.config["PUBLIC_URL"] = live.url  # links the app makes point at this server

    def record_error(sender: Flask, exception: BaseException, **extra: Any) -> None:
        live.errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(record_error, app)
    # The socket already listens, so the browser may connect before the loop runs.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()

    yield live

    server.shutdown()
    thread.join()
    server.server_close()
    got_request_exception.disconnect(record_error, app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if live.errors:
        pytest.fail("the app raised during the test:\n" + "\n".join(live.errors), pytrace=False)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> Viewport:
    """Each screen size in turn: phone, tablet, desktop."""
    param = request.param
    return param if isinstance(param, Viewport) else VIEWPORTS[param]


MakeContext = Callable[..., BrowserContext]
MakePage = Callable[..., Page]


@pytest.fixture
def make_context(
    live_server: LiveServer, new_context: MakeContext, request: pytest.FixtureRequest
) -> Iterator[MakeContext]:
    """Factory: a new context on the live server; every one closes at teardown.

    After a test that passed, each page of the app still open is audited for accessibility.
    `browser` (default: the session's) is another one the test launched with other flags.
    """
    contexts: list[BrowserContext] = []
    elsewhere: list[BrowserContext] = []

    def _make_context(
        viewport: Viewport | str = "desktop",
        *,
        javascript: bool = True,
        browser: Browser | None = None,
        **context_args: Any,
    ) -> BrowserContext:
        size = VIEWPORTS[viewport] if isinstance(viewport, str) else viewport
        args = {
            **size.context_args(),
            "base_url": live_server.url,
            "java_script_enabled": javascript,
            **context_args,
        }
        if browser is None:
            context = new_context(**args)
        else:
            context = browser.new_context(**args)
            elsewhere.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        watch(context, javascript=javascript)
        contexts.append(context)
        return context

    yield _make_context

    try:
        if request.node.stash.get(CALL_PASSED, False):
            for context in contexts:
                for page in context.pages:
                    if is_app_page(page, live_server.url):
                        audit(page, "when the test ended")
    finally:
        # new_context closes its own; a context of another browser is ours to close.
        for context in elsewhere:
            context.close()


@pytest.fixture
def make_page(make_context: MakeContext) -> MakePage:
    """Factory: a page in its own new context (another person, size, or no JS)."""

    def _make_page(
        viewport: Viewport | str = "desktop",
        *,
        javascript: bool = True,
        browser: Browser | None = None,
        **context_args: Any,
    ) -> Page:
        return make_context(
            viewport, javascript=javascript, browser=browser, **context_args
        ).new_page()

    return _make_page


@pytest.fixture
def context(make_context: MakeContext, viewport: Viewport) -> BrowserContext:
    """A context at the current viewport whose base_url is the live server."""
    return make_context(viewport)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def nojs_page(make_page: MakePage) -> Page:
    """A desktop-size page with JavaScript disabled (everything must still work)."""
    return make_page("desktop", javascript=False)


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path | None]:
    """screenshot(page, name): a full-page PNG under tests/e2e/screenshots/ if SCREENSHOTS=1."""

    def _screenshot(page: Page, name: str) -> Path | None:
        if os.environ.get("SCREENSHOTS") != "1":
            return None
        path = SCREENSHOTS_DIR / f"{name.removesuffix('.png')}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return _screenshot
