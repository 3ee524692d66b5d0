"""What the benchmarks share: the app on a free port, Debian's Chromium, and the owner's walk.

`serve()` starts the app the way the browser tests do (fresh SQLite file in a temporary
folder, demo data seeded, werkzeug in a thread). `walk()` drives the wizard the way an owner
does and stops at every page it reaches, so a benchmark can measure that page in the state
the owner sees it. `write_section()` replaces one benchmark's part of docs/benchmarks.md.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import secrets
import subprocess
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, got_request_exception
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright
from werkzeug.serving import make_server

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOC = ROOT / "docs" / "benchmarks.md"

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
TIMEOUT_MS = 15_000

OWNER = "owner@demo.example"
DEVICE_KIND = "Retrofit meter reader"
MANUFACTURER = "Xenn"
REFERENCE_LABEL = "Xenn reference"
REFERENCE = "P1000000000"
WRONG_REFERENCE = "P123"
GROUP = "No group"
PAIRING_CODE = "123456"

NOTHING = "\N{EN DASH}"  # an empty table cell

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BenchError(RuntimeError):
    """The benchmark could not measure (the app failed, a page was not where expected)."""


# ---------------------------------------------------------------- the app


@dataclass
class Server:
    """The app served over real HTTP."""

    url: str
    app: Flask
    password: str
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Fail when the app raised while serving (an HTTP 500 is not a figure)."""
        if self.errors:
            raise BenchError("the app raised while serving:\n" + "\n".join(self.errors))


@contextmanager
def serve(wrap: Callable[[WSGIApp], WSGIApp] | None = None) -> Iterator[Server]:
    """The app with a fresh SQLite database and the demo data, on a free local port.

    `wrap` puts WSGI middleware in front of the app (what a proxy would do), never inside it.
    """
    from app import create_app
    from app.extensions import db
    from app.seed import seed_demo

    # The dev server logs every request to stderr; the figures are the output here.
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.setLevel(logging.WARNING)
    werkzeug_log.addHandler(logging.NullHandler())

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        app = create_app(
            {
                "SECRET_KEY": secrets.token_hex(16),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            }
        )
        with app.app_context():
            db.create_all()
            password = seed_demo()[OWNER]

        server = make_server("127.0.0.1", 0, wrap(app) if wrap else app, threaded=True)
        live = Server(url=f"http://127.0.0.1:{server.server_port}", app=app, password=password)

        def record_error(sender: Flask, exception: BaseException, **extra: Any) -> None:
            live.errors.append("".join(traceback.format_exception(exception)))

        got_request_exception.connect(record_error, app)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield live
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
            got_request_exception.disconnect(record_error, app)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        live.check()


@contextmanager
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright cannot download its own here)."""
    if not CHROMIUM.is_file():
        raise BenchError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


def new_context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def cookie_header(context: BrowserContext, url: str) -> str:
    """The Cookie header a browser with `context`'s cookies sends to `url`."""
    return "; ".join(f"{c['name']}={c['value']}" for c in context.cookies(url))


# ---------------------------------------------------------------- the owner's walk


@dataclass(frozen=True)
class Stop:
    """A page the walk has reached; the walk waits there until the caller asks for more."""

    key: str
    title: str
    url: str
    page: Page

    @property
    def signed_in(self) -> bool:
        return self.key != "login"


def sign_in(page: Page, base_url: str, password: str) -> None:
    """Open the sign-in page and sign in as the demo owner: lands on the home page."""
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Email address", exact=True).fill(OWNER)
    page.get_by_label("Password", exact=True).fill(password)
    _go(page, page.get_by_role("button", name="Sign in", exact=True), "signing in")


def walk(page: Page, base_url: str, password: str) -> Iterator[Stop]:
    """Sign in and onboard a Xenn retrofit meter reader, stopping at every page on the way.

    Works with htmx (boosted links and forms swap <main> and push the URL): each move
    waits for the new URL and heading, never for a fixed time.
    """
    page.goto(f"{base_url}/auth/login")
    yield Stop("login", "Sign in", page.url, page)
    sign_in(page, base_url, password)
    yield Stop("home", "Home (your devices)", page.url, page)

    _go(page, page.get_by_role("link", name="Connect a device", exact=True), "Connect a device")
    yield Stop("type", "Question: kind of device", page.url, page)

    page.get_by_role("radio", name=DEVICE_KIND, exact=True).check()
    _continue(page, "the kind of device")
    yield Stop("manufacturer", "Question: manufacturer", page.url, page)

    page.get_by_role("radio", name=MANUFACTURER, exact=True).check()
    _continue(page, "the manufacturer")
    yield Stop("details", "Question: reference", page.url, page)

    page.get_by_label(REFERENCE_LABEL, exact=True).fill(REFERENCE)
    _continue(page, "the reference")
    yield Stop("collective", "Question: group", page.url, page)

    page.get_by_role("radio", name=GROUP, exact=True).check()
    _continue(page, "the group")
    yield Stop("check", "Check your answers", page.url, page)

    _go(page, page.get_by_role("button", name="Send and continue", exact=True), "Send")
    yield Stop("consent", "Consent list", page.url, page)

    _go(page, page.get_by_role("link", name="Continue", exact=True), "the first consent step")
    yield Stop("terms", "Consent: terms", page.url, page)

    _go(page, page.get_by_role("button", name="I agree", exact=True), "I agree")
    yield Stop("consent-2", "Consent list, terms done", page.url, page)

    _go(page, page.get_by_role("link", name="Continue", exact=True), "the pairing step")
    yield Stop("pairing", "Consent: pairing code", page.url, page)

    page.get_by_label("Pairing code", exact=True).fill(PAIRING_CODE)
    _go(page, page.get_by_role("button", name="Pair the device", exact=True), "Pair the device")
    yield Stop("connected", "Connected", page.url, page)


def _continue(page: Page, what: str) -> None:
    _go(page, page.get_by_role("button", name="Continue", exact=True), f"answering {what}")


def _go(page: Page, control: Locator, what: str) -> None:
    """Click `control` and wait for the next page: a new URL, a new heading, htmx at rest."""
    before_url = page.url
    before_heading = _heading(page)
    try:
        control.click()
        page.wait_for_url(lambda url: url != before_url)
        page.wait_for_function(
            """([before]) => {
                const h1 = document.querySelector("h1");
                return h1 && h1.textContent.trim() !== before
                    && !document.querySelector(".htmx-request");
            }""",
            arg=[before_heading],
        )
    except Exception as error:  # say where the walk broke, then stop
        raise BenchError(
            f"the walk stopped at {what}: still on {page.url} ({_heading(page)!r}): {error}"
        ) from error


def _heading(page: Page) -> str:
    h1 = page.locator("h1")
    return h1.first.inner_text().strip() if h1.count() else ""


# ---------------------------------------------------------------- reporting


def kb(size: float) -> str:
    """Bytes as kilobytes (1 KB = 1000 bytes), one decimal."""
    return f"{size / 1000:.1f}"


def table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A Markdown table; `align` has one letter per column, l or r (default l)."""
    align = align.ljust(len(header), "l")
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def run_facts() -> dict[str, str]:
    """When, where and on which code a benchmark ran."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
        "commit": _commit(),
    }


def _commit() -> str:
    def git(*args: str) -> str:
        # --no-optional-locks: reading must not refresh (write) the index others use.
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no", "--", "app", "templates", "static"):
        commit += " + uncommitted changes in app/, templates/ or static/"
    return commit


def facts_line(facts: dict[str, str], **more: str) -> str:
    return " · ".join(f"**{k}** {v}" for k, v in {**facts, **more}.items())


# Only when the doc is missing; the committed doc's hand-written top is kept as it is.
DOC_HEAD = """# Benchmarks

Page weight and page quality of the web wizard, measured by the scripts under `bench/`.
"""


def write_section(name: str, markdown: str) -> None:
    """Replace (or add) the section `name` of docs/benchmarks.md, leaving the others."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = DOC.read_text() if DOC.exists() else DOC_HEAD
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
