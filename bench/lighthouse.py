"""Lighthouse scores of the web wizard, mobile and desktop.

    .venv/bin/python bench/lighthouse.py [--pages login,type,...] [--no-compression]
                                         [--no-doc] [--strict]

Serves the app with fresh demo data and runs npm `lighthouse` (installed in bench/ by
`npm ci --prefix bench`) with Debian's Chromium on these pages, each with the default
mobile settings and with `--preset=desktop`: the sign-in page, the kind-of-device
question, the manufacturer question, the reference question with an error, the consent
list and the connected page. Goals: performance ≥ 95, accessibility 100, best practices
≥ 95. Every audit that costs a page below its goal is listed, with its id and title.

How the pages are reached:

- The demo owner walks the wizard in Playwright; Lighthouse opens each page when the walk
  gets there, signed in by `--extra-headers` with a Cookie. Flask-Login binds a session to
  its browser's user agent, so the Cookie comes from a sign-in made with Lighthouse's own
  mobile or desktop user agent.
- A question with an error is the answer to a POST, and Lighthouse can only open a URL:
  the bench serves `GET /__bench/replay/<name>` as the POST of the form the owner filled
  in (wrong reference), so the page audited is exactly what the browser gets after
  posting it (status 422, hence `--ignore-status-code`).
- Production sits behind a compressing proxy, so by default the bench puts gzip
  (level 6, text types) in front of the app; `--no-compression` serves it raw.

Prints the scores and failing audits and writes them to docs/benchmarks.md (unless
--no-doc); the full reports go to bench/reports/ (JSON and HTML). Exits 0 when it
measured, goals met or not; --strict exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness import (
    BENCH,
    CHROMIUM,
    NOTHING,
    REFERENCE_LABEL,
    WRONG_REFERENCE,
    BenchError,
    Stop,
    WSGIApp,
    chromium,
    cookie_header,
    facts_line,
    new_context,
    run_facts,
    serve,
    sign_in,
    table,
    walk,
    write_section,
)
from playwright.sync_api import Browser, BrowserContext, sync_playwright

LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
REPORTS = BENCH / "reports"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
CATEGORIES = ("performance", "accessibility", "best-practices")
GOALS = {"performance": 95, "accessibility": 100, "best-practices": 95}
FORM_FACTORS = ("mobile", "desktop")

# key: (title, walk stop it is taken at)
PAGES = {
    "login": ("Sign in", "login"),
    "type": ("Question: kind of device", "type"),
    "manufacturer": ("Question: manufacturer", "manufacturer"),
    "details-error": ("Question: reference, with an error", "details"),
    "consent": ("Consent list", "consent"),
    "connected": ("Connected", "connected"),
}
REPLAY = "/__bench/replay/"


# ---------------------------------------------------------------- what stands in front of the app


@dataclass
class ReplayedForm:
    path: str
    body: bytes


class FormReplay:
    """GET /__bench/replay/<name> is handed to the app as the POST of a recorded form."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.forms: dict[str, ReplayedForm] = {}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        form = self.forms.get(path.removeprefix(REPLAY)) if path.startswith(REPLAY) else None
        if form is not None and environ["REQUEST_METHOD"] == "GET":
            environ = {
                **environ,
                "REQUEST_METHOD": "POST",
                "PATH_INFO": form.path,
                "QUERY_STRING": "",
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(form.body)),
                "wsgi.input": io.BytesIO(form.body),
            }
        return self.app(environ, start_response)


class CompressingProxy:
    """Gzip for text answers when the browser accepts it, as a proxy with gzip on would."""

    TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.update(status=status, headers=headers)
            return lambda data: None

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = answer["status"], answer["headers"]
        names = {name.lower(): value for name, value in headers}
        if (
            "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
            and names.get("content-type", "").startswith(self.TYPES)
            and "content-encoding" not in names
            and len(body) > 256
            and environ["REQUEST_METHOD"] != "HEAD"
        ):
            body = gzip.compress(body, 6, mtime=0)
            vary = [v for n, v in headers if n.lower() == "vary"]
            headers = [(n, v) for n, v in headers if n.lower() not in ("content-length", "vary")]
            headers += [
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(body))),
                ("Vary", ", ".join([*vary, "Accept-Encoding"])),
            ]
        start_response(status, headers)
        return [body]


# ---------------------------------------------------------------- running Lighthouse


@dataclass
class Audit:
    id: str
    title: str
    score: float | None
    display: str
    where: list[str] = field(default_factory=list)  # the first few offending items

    def describe(self) -> str:
        text = f"`{self.id}` {self.title}" + (f" ({self.display})" if self.display else "")
        if self.where:
            text += ": " + "; ".join(self.where)
        return text


@dataclass
class Result:
    page: str
    form_factor: str
    scores: dict[str, int | None] = field(default_factory=dict)
    failing: dict[str, list[Audit]] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    benchmark_index: float | None = None
    load: float = 0.0  # the machine's 1-minute load average when the run started
    # Performance of every run when a slow first run was measured again (median kept).
    runs: list[int | None] = field(default_factory=list)

    def missed(self) -> list[str]:
        return [
            c for c in CATEGORIES if self.scores.get(c) is None or (self.scores[c] or 0) < GOALS[c]
        ]


def lighthouse_user_agents() -> dict[str, str]:
    """The user agents Lighthouse emulates by default, by form factor."""
    script = (
        "import('lighthouse/core/config/constants.js')"
        ".then(c => console.log(JSON.stringify(c.userAgents)))"
    )
    done = subprocess.run(
        ["node", "-e", script], cwd=BENCH, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def lighthouse_version() -> str:
    done = subprocess.run(
        [str(LIGHTHOUSE), "--version"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "?"


def run_lighthouse(
    url: str, key: str, form_factor: str, cookie: str | None, ignore_status: bool, again: int
) -> Result:
    """One Lighthouse run; below the performance goal, `again` more and the median run kept.

    Accessibility and best practices do not vary between runs; performance does (a busy
    machine makes long tasks), which is why Lighthouse's docs advise the median of runs.
    """
    result = _run_once(url, key, form_factor, cookie, ignore_status)
    if result.error or (result.scores.get("performance") or 0) >= GOALS["performance"]:
        return result
    runs = [result]
    for number in range(again):
        runs.append(_run_once(url, key, form_factor, cookie, ignore_status, f".{number + 2}"))
    good = sorted((r for r in runs if not r.error), key=lambda r: r.scores.get("performance") or 0)
    median = good[(len(good) - 1) // 2]
    median.runs = [r.scores.get("performance") for r in runs]
    median.seconds = sum(r.seconds for r in runs)
    return median


def _run_once(
    url: str, key: str, form_factor: str, cookie: str | None, ignore_status: bool, suffix: str = ""
) -> Result:
    REPORTS.mkdir(exist_ok=True)
    output = REPORTS / f"{key}-{form_factor}{suffix}"
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        "--output=html",
        f"--output-path={output}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    if ignore_status:
        command.append("--ignore-status-code")
    load = os.getloadavg()[0]
    started = time.monotonic()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
        timeout=300,
    )
    result = Result(key, form_factor, seconds=time.monotonic() - started, load=load)
    report = output.with_name(output.name + ".report.json")
    if done.returncode != 0 or not report.exists():
        result.error = (done.stderr.strip().splitlines() or ["no report"])[-1]
        return result
    read(json.loads(report.read_text()), result)
    return result


def read(lhr: dict[str, Any], result: Result) -> None:
    """Scores, key metrics and the audits that cost points, from a Lighthouse JSON report."""
    if lhr.get("runtimeError"):
        result.error = lhr["runtimeError"].get("message", "runtime error")
    audits = lhr["audits"]
    for category_id in CATEGORIES:
        category = lhr["categories"][category_id]
        score = category.get("score")
        result.scores[category_id] = None if score is None else round(score * 100)
        failing = []
        for ref in category["auditRefs"]:
            audit = audits[ref["id"]]
            mode = audit.get("scoreDisplayMode")
            if mode in ("notApplicable", "manual", "informative"):
                continue
            audit_score = audit.get("score")
            weighted = ref.get("weight", 0) > 0
            # Weighted audits cost points below 1; in performance the opportunities and
            # diagnostics (weight 0) say where the time goes, so list those below 0.9.
            if mode == "error" or (
                audit_score is not None
                and (
                    (weighted and audit_score < 1)
                    or (category_id == "performance" and not weighted and audit_score < 0.9)
                )
            ):
                where = _where(audit) if category_id != "performance" else []
                failing.append(
                    Audit(
                        ref["id"], audit["title"], audit_score, audit.get("displayValue", ""), where
                    )
                )
        result.failing[category_id] = failing
    result.benchmark_index = (lhr.get("environment") or {}).get("benchmarkIndex")
    for metric in (
        "first-contentful-paint",
        "largest-contentful-paint",
        "total-blocking-time",
        "cumulative-layout-shift",
        "speed-index",
    ):
        if metric in audits:
            result.metrics[metric] = audits[metric].get("displayValue", "")


def _where(audit: dict[str, Any], most: int = 3) -> list[str]:
    """The first offending elements or messages of an audit, briefly (not for performance)."""
    details = audit.get("details") or {}
    if details.get("type") not in ("table", "list"):
        return []
    found = []
    for item in details.get("items", []):
        node = item.get("node") if isinstance(item.get("node"), dict) else None
        if node:
            label = node.get("nodeLabel") or node.get("snippet", "")
            why = (node.get("explanation") or "").splitlines()
            reason = why[1].strip() if len(why) > 1 else ""
            text = f'`{node.get("selector", "?")}` "{label[:60]}"'
            found.append(text + (f": {reason[:160]}" if reason else ""))
        elif item.get("description"):
            found.append(str(item["description"])[:160])
        if len(found) == most:
            break
    more = len(details.get("items", [])) - len(found)
    if found and more > 0:
        found.append(f"and {more} more")
    return found


# ---------------------------------------------------------------- the walk


def signed_in_context(
    browser: Browser, base_url: str, password: str, user_agent: str
) -> BrowserContext:
    """A browser signed in as the owner with `user_agent` (a session is bound to its UA)."""
    context = new_context(browser, base_url, user_agent=user_agent)
    sign_in(context.new_page(), base_url, password)
    return context


def record_wrong_answer(context: BrowserContext, stop: Stop) -> ReplayedForm:
    """Fill the reference question wrongly in `context` and take the form it would post."""
    page = context.new_page()
    page.goto(stop.url)
    page.get_by_label(REFERENCE_LABEL, exact=True).fill(WRONG_REFERENCE)
    body = page.eval_on_selector(
        "#main form[method=post]:has(button[type=submit])",
        "form => new URLSearchParams(new FormData(form)).toString()",
    )
    path = page.evaluate("() => new URL(location.href).pathname")
    page.close()
    return ReplayedForm(path=path, body=body.encode())


def _expect_error_page(context: BrowserContext, url: str) -> None:
    """The replayed wrong answer must give the question again with its error (422)."""
    response = context.request.get(url, max_redirects=0)
    if response.status != 422 or 'aria-invalid="true"' not in response.text():
        raise BenchError(
            f"replaying the wrong reference gave {response.status}, not the "
            "question with its error (422)"
        )


def measure(keys: list[str], compress: bool, again: int) -> list[Result]:
    user_agents = lighthouse_user_agents()
    replay: FormReplay | None = None

    def front(app: WSGIApp) -> WSGIApp:
        nonlocal replay
        replay = FormReplay(app)
        return CompressingProxy(replay) if compress else replay

    results: list[Result] = []
    wanted = {PAGES[k][1]: k for k in keys}
    for key in keys:  # no stale reports of an earlier run beside the new ones
        for old in REPORTS.glob(f"{key}-*.report.*"):
            old.unlink()
    with serve(front) as server, sync_playwright() as playwright, chromium(playwright) as browser:
        assert replay is not None
        sessions = {
            ff: signed_in_context(browser, server.url, server.password, user_agents[ff])
            for ff in FORM_FACTORS
        }
        owner = new_context(browser, server.url)
        for stop in walk(owner.new_page(), server.url, server.password):
            key = wanted.get(stop.key)
            if key is None:
                continue
            for form_factor in FORM_FACTORS:
                url, cookie = stop.url, None
                if stop.signed_in:
                    cookie = cookie_header(sessions[form_factor], server.url)
                if key == "details-error":
                    name = f"{key}-{form_factor}"
                    replay.forms[name] = record_wrong_answer(sessions[form_factor], stop)
                    url = f"{server.url}{REPLAY}{name}"
                    _expect_error_page(sessions[form_factor], url)
                result = run_lighthouse(
                    url, key, form_factor, cookie, ignore_status=key == "details-error", again=again
                )
                results.append(result)
                scores = " ".join(f"{c} {result.scores.get(c)}" for c in CATEGORIES)
                if result.runs:
                    scores += f" (median of performance {result.runs})"
                print(
                    f"  {PAGES[key][0]} ({form_factor}): {result.error or scores} "
                    f"[{result.seconds:.0f} s]",
                    file=sys.stderr,
                )
            if len({r.page for r in results}) == len(keys):
                break
        owner.close()
        server.check()
    return results


# ---------------------------------------------------------------- reporting


def _score(result: Result, category: str) -> str:
    score = result.scores.get(category)
    if score is None:
        return NOTHING
    text = str(score) if score >= GOALS[category] else f"**{score}**"
    if category == "performance" and result.runs:
        text += f" (median of {', '.join(str(r) for r in result.runs)})"
    return text


def report(results: list[Result], compress: bool, again: int) -> tuple[str, list[str]]:
    rows, missed, details, notes = [], [], [], []
    for result in results:
        title = PAGES[result.page][0]
        metrics = result.metrics
        rows.append(
            [
                title,
                result.form_factor,
                *(_score(result, c) for c in CATEGORIES),
                metrics.get("first-contentful-paint", NOTHING),
                metrics.get("largest-contentful-paint", NOTHING),
                metrics.get("total-blocking-time", NOTHING),
                metrics.get("cumulative-layout-shift", NOTHING),
                "yes" if not result.missed() and not result.error else "**NO**",
            ]
        )
        if result.error:
            missed.append(f"{title} ({result.form_factor}): Lighthouse failed: {result.error}")
            details.append(
                f"- **{title}, {result.form_factor}**: Lighthouse failed: {result.error}"
            )
            continue
        for category in ("accessibility", "best-practices"):
            if category not in result.missed() and result.failing.get(category):
                notes.append(
                    f"- {title}, {result.form_factor}, {category} "
                    f"{result.scores.get(category)}: "
                    + "; ".join(a.describe() for a in result.failing[category])
                )
        for category in result.missed():
            missed.append(
                f"{title} ({result.form_factor}): {category} {result.scores.get(category)}"
            )
            audits = result.failing.get(category, [])
            listed = "".join(f"\n  - {a.describe()}" for a in audits) or (
                " no single audit below 1 (rounding of the weighted mean)"
            )
            details.append(
                f"- **{title}, {result.form_factor}, {category} "
                f"{result.scores.get(category)}**:{listed}"
            )
    header = [
        "Page",
        "Form factor",
        "Performance",
        "Accessibility",
        "Best practices",
        "FCP",
        "LCP",
        "TBT",
        "CLS",
        "Goals met",
    ]
    served = (
        "behind gzip (level 6, as the production proxy would)"
        if compress
        else "raw, without compression"
    )
    indexes = sorted(r.benchmark_index for r in results if r.benchmark_index)
    index = f"{indexes[len(indexes) // 2]:.0f}" if indexes else "?"
    loads = [r.load for r in results]
    load = f"{min(loads):.1f} to {max(loads):.1f}" if loads else "?"
    busy = ", so other work shared the CPU" if loads and max(loads) > (os.cpu_count() or 1) else ""
    verdict = (
        "Every page meets every goal."
        if not missed
        else "Below goal, and the audits that cost the points (id, title, value):\n\n"
        + "\n".join(details)
    )
    if notes:
        verdict += "\n\nAudits that failed on pages within their goals:\n\n" + "\n".join(notes)
    markdown = f"""## Lighthouse

`bench/lighthouse.py` · {facts_line(run_facts(), lighthouse=lighthouse_version())}

Lighthouse with Debian's Chromium (headless), default mobile settings and
`--preset=desktop`, simulated throttling (Lighthouse's CPU benchmark index here: {index},
median of the runs; the machine's 1-minute load average during the runs: {load} on
{os.cpu_count()} cores{busy}); the app {served}. A page below the performance goal is
run {again} more times and the median run kept. Goals: performance ≥ 95,
accessibility 100, best practices ≥ 95 (bold: below goal). The question with an error is
the page the browser gets after posting a wrong reference (see the script's docstring).
Reports: `bench/reports/<page>-<form factor>.report.html` after a run (not committed).

{table(header, rows, "llrrrrrrrl")}

{verdict}
"""
    return markdown, missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages", default=",".join(PAGES), help=f"comma-separated, from: {', '.join(PAGES)}"
    )
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="serve without the gzip that stands for the production proxy",
    )
    parser.add_argument(
        "--again",
        type=int,
        default=2,
        metavar="N",
        help="runs added when performance is below goal; the median is kept (default 2)",
    )
    parser.add_argument("--no-doc", action="store_true", help="print only, leave the doc")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    keys = [k.strip() for k in args.pages.split(",") if k.strip()]
    unknown = [k for k in keys if k not in PAGES]
    if unknown:
        parser.error(f"unknown pages: {', '.join(unknown)}")
    if not LIGHTHOUSE.exists():
        print(f"lighthouse: {LIGHTHOUSE} is missing: npm ci --prefix bench", file=sys.stderr)
        return 2
    try:
        results = measure(keys, compress=not args.no_compression, again=args.again)
    except BenchError as error:
        print(f"lighthouse: {error}", file=sys.stderr)
        return 2
    order = {k: n for n, k in enumerate(keys)}
    results.sort(key=lambda r: (order[r.page], FORM_FACTORS.index(r.form_factor)))
    markdown, missed = report(results, compress=not args.no_compression, again=args.again)
    print(markdown)
    if not args.no_doc:
        write_section("lighthouse", markdown)
        print("written to docs/benchmarks.md", file=sys.stderr)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
