"""Page weight of the web wizard: first loads with an empty cache, and htmx steps.

    .venv/bin/python bench/page_weight.py [--no-doc] [--strict]

Serves the app with fresh demo data, signs in as the demo owner and onboards a Xenn retrofit
meter reader in Chromium. At every page the walk reaches:

- **first load**: a new browser context (empty cache) with the owner's cookies opens the
  page; every response (HTML, CSS, JS, images; the favicon too) is counted raw, gzipped
  (level 6, what a compressing proxy sends) and brotli-compressed (quality 5, when the
  Python `brotli` package or Node is at hand), plus the response headers.
  Goal: at most 60 KB (1 KB = 1000 bytes) with gzip, headers included.
- **htmx step**: the same URL asked for as a boosted htmx request (`HX-Request: true`,
  `HX-Boosted: true`, `HX-Target: main`) against the full page's HTML. Goal: at most 1/4,
  raw and gzipped.

Prints the tables and writes them to docs/benchmarks.md (unless --no-doc). Exits 0 when
it measured, goals met or not; --strict exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from harness import (
    NOTHING,
    BenchError,
    Stop,
    chromium,
    facts_line,
    kb,
    new_context,
    run_facts,
    serve,
    table,
    walk,
    write_section,
)
from playwright.sync_api import Browser, BrowserContext, Response, sync_playwright

FIRST_LOAD_GOAL = 60_000  # bytes, compressed, headers included
FRAGMENT_GOAL = 0.25
GZIP_LEVEL = 6  # nginx and Apache setups commonly use 5-6
BROTLI_QUALITY = 5  # a usual setting for on-the-fly brotli

COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "application/xml",
    "image/svg+xml",
    "application/manifest+json",
)
KINDS = {"document": "HTML", "stylesheet": "CSS", "script": "JS", "image": "images"}
HTMX_HEADERS = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "main"}


@dataclass
class Body:
    """One response as it travels: its body raw and compressed, and its headers."""

    url: str
    kind: str  # HTML, CSS, JS, images, other
    mime: str
    raw: bytes
    headers: int
    gzip: int = 0
    brotli: int | None = None

    @property
    def compressible(self) -> bool:
        return self.mime.startswith(COMPRESSIBLE)


@dataclass
class FirstLoad:
    stop: Stop
    bodies: list[Body]
    notes: list[str]
    # The same page opened again by a plain link, cache warm: HTML plus revalidations.
    again: list[Body]

    def total(self, size: str) -> int | None:
        sizes = [getattr(b, size) if size != "raw" else len(b.raw) for b in self.bodies]
        if any(s is None for s in sizes):
            return None
        return sum(sizes) + sum(b.headers for b in self.bodies)

    def by_kind(self, kind: str) -> list[Body]:
        return [b for b in self.bodies if b.kind == kind]


@dataclass
class Fragment:
    stop: Stop
    full: Body
    fragment: Body
    load: FirstLoad

    @property
    def step(self) -> int:
        """What the htmx step sends: the fragment gzipped and its headers."""
        return self.fragment.gzip + self.fragment.headers

    @property
    def plain_navigation(self) -> int:
        """What a plain link to the page sends with a warm cache: HTML and revalidations."""
        return sum(b.gzip + b.headers for b in self.load.again)

    def ratio(self, size: str) -> float | None:
        full, part = (
            (len(self.full.raw), len(self.fragment.raw))
            if size == "raw"
            else (getattr(self.full, size), getattr(self.fragment, size))
        )
        return None if full is None or part is None else part / full


# ---------------------------------------------------------------- compression


class Compressor:
    """gzip from the standard library; brotli from the `brotli` package, else from Node's zlib."""

    def __init__(self) -> None:
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            self._brotli = None
            self.brotli_from = "Node zlib" if shutil.which("node") else None
        else:
            self._brotli = brotli
            self.brotli_from = "Python brotli"

    def fill(self, bodies: list[Body]) -> None:
        """Set each body's compressed sizes (an incompressible type travels as it is)."""
        for body in bodies:
            body.gzip = (
                len(gzip.compress(body.raw, GZIP_LEVEL, mtime=0))
                if body.compressible
                else len(body.raw)
            )
        for body, size in zip(bodies, self._brotli_sizes(bodies), strict=True):
            body.brotli = size if body.compressible or size is None else len(body.raw)

    def _brotli_sizes(self, bodies: list[Body]) -> list[int | None]:
        if self._brotli is not None:
            return [len(self._brotli.compress(b.raw, quality=BROTLI_QUALITY)) for b in bodies]
        if self.brotli_from is None:
            return [None] * len(bodies)
        with tempfile.TemporaryDirectory(prefix="bench-br-") as tmp:
            paths = []
            for number, body in enumerate(bodies):
                path = Path(tmp) / str(number)
                path.write_bytes(body.raw)
                paths.append(str(path))
            script = (
                "const fs = require('fs'), zlib = require('zlib');"
                "const q = Number(process.argv[1]);"
                "console.log(JSON.stringify(process.argv.slice(2).map(p => zlib.brotliCompressSync("
                "fs.readFileSync(p), {params: {[zlib.constants.BROTLI_PARAM_QUALITY]: q}})"
                ".length)));"
            )
            done = subprocess.run(
                ["node", "-e", script, str(BROTLI_QUALITY), *paths],
                capture_output=True,
                text=True,
                check=True,
            )
        return json.loads(done.stdout)


# ---------------------------------------------------------------- measuring


def _body(response: Response) -> Body:
    request = response.request
    mime = (response.headers.get("content-type") or "").split(";")[0].strip()
    try:
        headers = request.sizes()["responseHeadersSize"]
    except Exception:  # sizes can be unknown: count the header lines
        headers = sum(len(h["name"]) + len(h["value"]) + 4 for h in response.headers_array())
    raw = b"" if 300 <= response.status < 400 else response.body()
    kind = KINDS.get(request.resource_type) or ("images" if mime.startswith("image/") else "other")
    return Body(url=response.url, kind=kind, mime=mime, raw=raw, headers=headers)


def first_load(
    browser: Browser, stop: Stop, base_url: str, user_agent: str, cookies: list
) -> FirstLoad:
    """Open the page in a new context (empty cache) and count everything it fetched."""
    context = new_context(browser, base_url, user_agent=user_agent)
    try:
        if stop.signed_in:
            context.add_cookies(cookies)
        page = context.new_page()
        responses: list[Response] = []
        page.on("response", lambda response: responses.append(response))
        page.goto(stop.url, wait_until="load")
        page.wait_for_load_state("networkidle")
        if page.url != stop.url:
            raise BenchError(f"{stop.title}: {stop.url} led to {page.url} in a fresh context")
        for response in responses:
            response.finished()
        bodies = [_body(r) for r in responses]
        notes: list[str] = []
        # A real browser fetches the favicon on a first visit; count it if headless did not.
        fetched = {b.url for b in bodies}
        for href in page.eval_on_selector_all("link[rel~=icon]", "els => els.map(e => e.href)"):
            if href not in fetched:
                bodies.append(_fetched(context, href, "images"))
                notes.append("favicon")
        responses.clear()
        page.goto(stop.url, wait_until="load")
        page.wait_for_load_state("networkidle")
        for response in responses:
            response.finished()
        return FirstLoad(stop, bodies, notes, again=[_body(r) for r in responses])
    finally:
        context.close()


def _fetched(
    context: BrowserContext, url: str, kind: str, headers: dict[str, str] | None = None
) -> Body:
    response = context.request.get(url, headers=headers, max_redirects=0)
    if response.status != 200:
        raise BenchError(f"{url} answered {response.status}, not 200")
    mime = (response.headers.get("content-type") or "").split(";")[0].strip()
    size = sum(len(h["name"]) + len(h["value"]) + 4 for h in response.headers_array)
    return Body(url=url, kind=kind, mime=mime, raw=response.body(), headers=size + 17)


def fragment(
    browser: Browser,
    stop: Stop,
    load: FirstLoad,
    previous_url: str,
    base_url: str,
    user_agent: str,
    cookies: list,
) -> Fragment:
    """The page asked for as htmx asks for it on a boosted link, against its full HTML."""
    context = new_context(browser, base_url, user_agent=user_agent)
    try:
        context.add_cookies(cookies)
        part = _fetched(
            context,
            stop.url,
            "HTML",
            {**HTMX_HEADERS, "HX-Current-URL": urljoin(base_url, previous_url)},
        )
    finally:
        context.close()
    full = next(b for b in load.bodies if b.kind == "HTML")
    if b"<html" in part.raw[:500].lower():
        raise BenchError(f"{stop.title}: the htmx request got the whole page back")
    return Fragment(stop, full, part, load)


def measure() -> tuple[list[FirstLoad], list[Fragment], Compressor]:
    loads: list[FirstLoad] = []
    fragments: list[Fragment] = []
    with serve() as server, sync_playwright() as playwright, chromium(playwright) as browser:
        probe = browser.new_page()
        user_agent = probe.evaluate("navigator.userAgent")
        probe.close()
        # One user agent everywhere: the session is bound to it ("strong" protection).
        owner = new_context(browser, server.url, user_agent=user_agent)
        previous_url = ""
        for stop in walk(owner.new_page(), server.url, server.password):
            cookies = owner.cookies(server.url)
            load = first_load(browser, stop, server.url, user_agent, cookies)
            loads.append(load)
            print(f"  measured {stop.title}: {len(load.bodies)} responses", file=sys.stderr)
            if stop.signed_in:
                fragments.append(
                    fragment(browser, stop, load, previous_url, server.url, user_agent, cookies)
                )
            previous_url = stop.url
        owner.close()
        server.check()
    compressor = Compressor()
    compressor.fill(
        [b for load in loads for b in (*load.bodies, *load.again)]
        + [b for f in fragments for b in (f.full, f.fragment)]
    )
    return loads, fragments, compressor


# ---------------------------------------------------------------- reporting


def _sizes(bodies: list[Body]) -> str:
    if not bodies:
        return NOTHING
    raw = sum(len(b.raw) for b in bodies)
    return f"{kb(raw)} / {kb(sum(b.gzip for b in bodies))}"


def _maybe_kb(size: int | None) -> str:
    return NOTHING if size is None else kb(size)


def _ratio(value: float | None) -> str:
    return NOTHING if value is None else f"{value:.2f}"


def first_load_table(loads: list[FirstLoad]) -> tuple[str, list[str]]:
    rows, missed = [], []
    for load in loads:
        compressed = load.total("gzip") or 0
        ok = compressed <= FIRST_LOAD_GOAL
        if not ok:
            missed.append(f"first load of {load.stop.title}: {kb(compressed)} KB gzip")
        title = load.stop.title + (f" (+{', '.join(load.notes)})" if load.notes else "")
        rows.append(
            [
                title,
                str(len(load.bodies)),
                *(_sizes(load.by_kind(k)) for k in ("HTML", "CSS", "JS", "images", "other")),
                kb(sum(b.headers for b in load.bodies)),
                kb(load.total("raw") or 0),
                f"**{kb(compressed)}**",
                _maybe_kb(load.total("brotli")),
                "yes" if ok else "**NO**",
            ]
        )
    header = [
        "Page",
        "Req.",
        "HTML raw / gz",
        "CSS raw / gz",
        "JS raw / gz",
        "Images raw / gz",
        "Other raw / gz",
        "Headers",
        "Total raw",
        "Total gzip",
        "Total brotli",
        "≤ 60 KB gzip",
    ]
    return table(header, rows, "lrrrrrrrrrrl"), missed


def fragment_table(fragments: list[Fragment]) -> tuple[str, list[str]]:
    rows, missed = [], []
    for item in fragments:
        raw, gz = item.ratio("raw"), item.ratio("gzip")
        ok = raw is not None and gz is not None and raw <= FRAGMENT_GOAL and gz <= FRAGMENT_GOAL
        if not ok:
            missed.append(
                f"htmx step {item.stop.title}: {_ratio(raw)} of the full HTML raw, "
                f"{_ratio(gz)} gzipped"
            )
        first_load = item.load.total("gzip") or 0
        rows.append(
            [
                item.stop.title,
                kb(len(item.full.raw)),
                kb(len(item.fragment.raw)),
                _ratio(raw),
                kb(item.full.gzip),
                kb(item.fragment.gzip),
                f"**{_ratio(gz)}**",
                "yes" if ok else "**NO**",
                kb(item.step),
                kb(item.plain_navigation),
                _ratio(item.step / item.plain_navigation),
                kb(first_load),
                _ratio(item.step / first_load),
            ]
        )
    header = [
        "Page",
        "Full HTML raw",
        "htmx raw",
        "Ratio raw",
        "Full HTML gzip",
        "htmx gzip",
        "Ratio gzip",
        "≤ 1/4",
        "htmx step sent",
        "Plain link, warm cache",
        "Ratio",
        "First load",
        "Ratio",
    ]
    return table(header, rows, "lrrrrrrlrrrrr"), missed


def static_table(loads: list[FirstLoad]) -> str:
    """Every CSS, JS and image file the pages load, once."""
    seen: dict[str, Body] = {}
    for load in loads:
        for body in load.bodies:
            if body.kind != "HTML":
                seen.setdefault(body.url.split("?")[0], body)
    rows = [
        [
            f"`{url.split('/', 3)[-1]}`",
            body.kind,
            kb(len(body.raw)),
            kb(body.gzip),
            _maybe_kb(body.brotli),
        ]
        for url, body in sorted(seen.items())
    ]
    return table(["File", "Kind", "Raw", "gzip", "brotli"], rows, "llrrr")


def report(
    loads: list[FirstLoad], fragments: list[Fragment], compressor: Compressor
) -> tuple[str, list[str]]:
    loads_md, missed_loads = first_load_table(loads)
    fragments_md, missed_fragments = fragment_table(fragments)
    missed = missed_loads + missed_fragments
    brotli = (
        f"brotli quality {BROTLI_QUALITY} ({compressor.brotli_from})"
        if compressor.brotli_from
        else "brotli not measured (no brotli package, no Node)"
    )
    verdict = (
        "Every goal met."
        if not missed
        else "Goals missed:\n\n" + "\n".join(f"- {m}" for m in missed)
    )
    markdown = f"""## Page weight

`bench/page_weight.py` · {facts_line(run_facts())}

Sizes in KB (1 KB = 1000 bytes). Served by the app itself (werkzeug, no compression); the
compressed sizes are what a compressing proxy would send: gzip level {GZIP_LEVEL}, {brotli}.
Images (PNG, ...) count as they are; SVG counts compressed.

### First load of each page, empty cache

Every response of a first visit in a new browser context: HTML, CSS, JS, images, plus
response headers (uncompressed, HTTP/1.1). Goal: total with gzip ≤ 60 KB.

{loads_md}

Files behind those pages:

{static_table(loads)}

### htmx step against its full page

The page's HTML when a boosted link or form asks for it (`HX-Request: true`,
`HX-Boosted: true`) against the same URL's full HTML: goal ≤ 1/4, raw and gzipped (the
"≤ 1/4" column). For scale, the last columns compare everything an htmx step sends
(fragment gzipped + response headers) with a plain link to the same page when the cache is
warm (HTML gzipped + headers + the static files' revalidations) and with the page's first
load from the table above.

{fragments_md}

{verdict}
"""
    return markdown, missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-doc", action="store_true", help="print only, leave the doc")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    try:
        loads, fragments, compressor = measure()
    except BenchError as error:
        print(f"page_weight: {error}", file=sys.stderr)
        return 2
    markdown, missed = report(loads, fragments, compressor)
    print(markdown)
    if not args.no_doc:
        write_section("page-weight", markdown)
        print("written to docs/benchmarks.md", file=sys.stderr)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
