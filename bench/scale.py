"""Lists and pages at 10,000 and at 1,000,000 requests, side by side, with their plans.

    .venv/bin/python bench/scale.py [--reload] [--samples 60] [--no-doc]

Loads (once; `--reload` loads again) two PostgreSQL databases with bench/dataset.py, 10,000
and 1,000,000 requests over 50 tenants with steps, events, entities and collectives, and a
heavy owner with 1,000 requests in tenant 1. Two apps, one per database, answer the same
pages in this process (Flask test client: the time is the app's and the database's, no
network), taking turns request by request so both see the same machine. Per page it prints
p50/p95 over `--samples` requests for each size and the ratio of the p95s (goal ≤ 1.5),
then the EXPLAIN (ANALYZE, BUFFERS) of the page's slowest statement at each size.

Other scripts add their pages to PAGES (a name, and a function that returns the path and
how to send it for a given dataset); see `Page`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dataset import Dataset, ensure
from flask import Flask
from flask.testing import FlaskClient
from harness import facts_line, run_facts, table, write_section
from sqlalchemy import event, text

SIZES = {"10k": ("bench_scale_10k", 10_000), "1M": ("bench_scale_1m", 1_000_000)}
GOAL = 1.5
BATCH = 1  # the sizes take turns request by request: both meet the same moments of load
PAGE_SIZE = 50


@dataclass
class Target:
    """One dataset served by its own app."""

    label: str
    data: Dataset
    app: Flask
    api: FlaskClient
    owner: FlaskClient
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """A page to time: `path(target)` gives the URL; `as_owner` sends it signed in as the
    heavy owner instead of with tenant 1's API key. A `query` instead times that query
    (a function returning a SQLAlchemy statement) in the app's session: a job's, say."""

    name: str
    path: Callable[[Target], str] = lambda target: ""
    as_owner: bool = False
    query: Callable[[], Any] | None = None


def _expiry_candidates() -> Any:
    from flask import current_app

    from app.jobs.tasks import expiry_candidates
    from app.models import utcnow

    return expiry_candidates(utcnow() - current_app.config["REQUEST_EXPIRES_AFTER"])


def _cursor_at(target: Target, table_name: str, fraction: float, where: str = "") -> str:
    """The cursor that starts the page `fraction` of the way through tenant 1's rows."""
    from app.api.pagination import encode_cursor

    condition = f"tenant_id = 1 {where}"
    with target.app.app_context():
        from app.extensions import db

        total = db.session.execute(
            text(f"SELECT count(*) FROM {table_name} WHERE {condition}")
        ).scalar_one()
        created_at, row_id = db.session.execute(
            text(
                f"SELECT created_at, id FROM {table_name} WHERE {condition} "
                "ORDER BY created_at, id OFFSET :offset LIMIT 1"
            ),
            # Never so deep that the page is not full (the small set's tail is short).
            {"offset": max(0, min(int(total * fraction), total - PAGE_SIZE - 1))},
        ).one()
        db.session.remove()
    return encode_cursor(created_at, row_id)


def _succeeded_request(target: Target) -> str:
    with target.app.app_context():
        from app.extensions import db

        found = db.session.execute(
            text(
                "SELECT id FROM onboarding_requests WHERE tenant_id = 1 AND status = 'Succeeded' "
                "ORDER BY created_at OFFSET 100 LIMIT 1"
            )
        ).scalar_one()
        db.session.remove()
    return str(found)


LIST = "/api/v1/onboarding/entities"
PAGES: list[Page] = [
    Page("API list, first page", lambda t: f"{LIST}?limit={PAGE_SIZE}"),
    Page(
        "API list, deep cursor page (90 %)",
        lambda t: (
            f"{LIST}?limit={PAGE_SIZE}&cursor="
            + _cursor_at(t, "onboarding_requests", 0.9, "AND status <> 'Draft'")
        ),
    ),
    Page("API list, status=Pending", lambda t: f"{LIST}?limit={PAGE_SIZE}&status=Pending"),
    Page("API list, status=Failed", lambda t: f"{LIST}?limit={PAGE_SIZE}&status=Failed"),
    Page(
        "API list, status=Pending, deep page (90 %)",
        lambda t: (
            f"{LIST}?limit={PAGE_SIZE}&status=Pending&cursor="
            + _cursor_at(t, "onboarding_requests", 0.9, "AND status = 'Pending'")
        ),
    ),
    Page("API get by id", lambda t: f"{LIST}/{_succeeded_request(t)}"),
    Page("API entities list, first page", lambda t: f"/api/v1/entities?limit={PAGE_SIZE}"),
    Page(
        "API entities list, deep page (90 %)",
        lambda t: f"/api/v1/entities?limit={PAGE_SIZE}&cursor=" + _cursor_at(t, "entities", 0.9),
    ),
    Page("heavy owner's home page (1,000 requests)", lambda t: "/", as_owner=True),
    Page("expiry job: its candidates (none due)", query=_expiry_candidates),
]


# ---------------------------------------------------------------- apps


def target(label: str, data: Dataset) -> Target:
    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": data.url,
            "API_RATE_LIMIT": "100000000 per minute",
            "WTF_CSRF_ENABLED": False,  # signing in is not what is measured
        }
    )
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {data.api_secret}"
    owner = app.test_client()
    signed_in = owner.post(
        "/auth/login", data={"email": data.heavy_owner, "password": data.password}
    )
    if signed_in.status_code != 302:
        raise RuntimeError(f"{label}: the heavy owner could not sign in ({signed_in.status_code})")
    return Target(label, data, app, api, owner)


def send(target: Target, page: Page, path: str) -> float:
    if page.query is not None:
        from app.extensions import db

        with target.app.app_context():
            started = time.perf_counter()
            db.session.scalars(page.query()).all()
            elapsed = time.perf_counter() - started
            db.session.remove()
        return elapsed
    client = target.owner if page.as_owner else target.api
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"{target.label} {page.name}: {answer.status_code} {answer.text[:300]}")
    return elapsed


# ---------------------------------------------------------------- plans


@dataclass
class Plan:
    sql: str
    text: str
    ms: float


def plans(target: Target, page: Page, path: str) -> list[Plan]:
    """EXPLAIN ANALYZE of every SELECT the page runs, slowest first."""
    with target.app.app_context():
        from app.extensions import db

        engine = db.engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        send(target, page, path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    found = []
    with engine.connect() as connection:
        for statement, parameters in seen:
            rows = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
            ).all()
            lines = [r[0] for r in rows]
            ms = next(
                (float(x.split(":")[1].split()[0]) for x in lines if "Execution Time" in x), 0.0
            )
            # Long lines are the IN (...) lists of eager loads: their start says enough.
            shown = [x if len(x) <= 160 else x[:157] + "..." for x in lines]
            found.append(Plan(" ".join(statement.split()), "\n".join(shown), ms))
        connection.rollback()
    return sorted(found, key=lambda p: -p.ms)


# ---------------------------------------------------------------- the run


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(args: argparse.Namespace) -> tuple[list[Target], list[dict[str, Any]]]:
    targets = []
    for label, (name, requests) in SIZES.items():
        started = time.perf_counter()
        data = ensure(name, requests, reload=args.reload)
        if data.seconds_to_load is not None:
            print(f"{label}: loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        targets.append(target(label, data))
    results = []
    for page in PAGES:
        paths = {t.label: page.path(t) for t in targets}
        times: dict[str, list[float]] = {t.label: [] for t in targets}
        for t in targets:  # warm-up: caches, prepared statements, the key's last use
            for _ in range(3):
                send(t, page, paths[t.label])
        batches = max(1, args.samples // BATCH)
        for batch in range(batches):
            order = targets if batch % 2 == 0 else targets[::-1]
            for t in order:
                times[t.label] += [send(t, page, paths[t.label]) for _ in range(BATCH)]
        results.append(
            {
                "page": page,
                "times": times,
                "plans": {t.label: plans(t, page, paths[t.label]) for t in targets},
            }
        )
        small, large = (times[t.label] for t in targets)
        print(
            f"{page.name}: p95 {1000 * percentile(small, 0.95):.1f} ms / "
            f"{1000 * percentile(large, 0.95):.1f} ms",
            file=sys.stderr,
        )
    return targets, results


def report(
    targets: list[Target], results: list[dict[str, Any]], samples: int, loads_seen: str
) -> str:
    small, large = (t.label for t in targets)
    rows = []
    missed = []
    for result in results:
        times = result["times"]
        p95 = {label: percentile(times[label], 0.95) for label in times}
        ratio = p95[large] / p95[small]
        met = ratio <= GOAL
        if not met:
            missed.append(result["page"].name)
        slowest = result["plans"][large][0] if result["plans"][large] else None
        slowest_small = result["plans"][small][0] if result["plans"][small] else None
        rows.append(
            [
                result["page"].name,
                f"{1000 * statistics.median(times[small]):.1f}",
                f"{1000 * p95[small]:.1f}",
                f"{1000 * statistics.median(times[large]):.1f}",
                f"{1000 * p95[large]:.1f}",
                f"**{ratio:.2f}**",
                "yes" if met else "**no**",
                f"{slowest_small.ms:.2f}" if slowest_small else "",
                f"{slowest.ms:.2f}" if slowest else "",
            ]
        )
    figures = table(
        [
            "Page",
            f"{small} p50 ms",
            f"{small} p95 ms",
            f"{large} p50 ms",
            f"{large} p95 ms",
            "p95 ratio",
            f"≤ {GOAL}",
            f"slowest statement {small}, ms",
            f"slowest statement {large}, ms",
        ],
        rows,
        "lrrrrrlrr",
    )
    plans_md = []
    for result in results:
        plans_md.append(f"#### {result['page'].name}\n")
        for label in (small, large):
            found = result["plans"][label]
            if not found:
                continue
            slowest = found[0]
            plans_md.append(
                f"{label}, slowest of {len(found)} SELECTs ({slowest.ms:.2f} ms): "
                f"`{slowest.sql[:160]}…`\n\n```\n{slowest.text}\n```\n"
            )
    loads = ", ".join(
        f"{t.label} loaded in {t.data.seconds_to_load:.0f} s"
        for t in targets
        if t.data.seconds_to_load is not None
    )
    verdict = f"Goal missed: {', '.join(missed)}." if missed else "Every page meets the goal."
    return f"""## Lists at a million rows

`bench/scale.py` · {facts_line(run_facts(), samples=f"{samples} per page and size")}

Two PostgreSQL databases loaded by `bench/dataset.py` with set-based SQL: 10,000 and
1,000,000 requests over 50 tenants (steps, events, entities, collectives), plus a heavy
owner with 1,000 requests; {loads or "loads reused from an earlier run"}. The app answers
each page in this process (Flask test client; the time is the app's and PostgreSQL's),
the two sizes taking turns request by request. Tenant 1's API key, pages of
{PAGE_SIZE}. Goal: p95 at 1M ≤ {GOAL} times p95 at 10k.

{figures}

{verdict} The last two columns are PostgreSQL's own time for the page's slowest
statement (EXPLAIN ANALYZE, below): where the page's time grows with the table, it shows
there first. The rest of a page's time is the app's Python and, on a busy machine,
waiting for a core (the machine's 1-minute load average was {loads_seen}).

### Plans

EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) of each page's slowest SELECT, run right after the
page with the statement and parameters it sent.

{chr(10).join(plans_md)}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reload", action="store_true", help="load both datasets again")
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--no-doc", action="store_true", help="print only, leave the doc")
    args = parser.parse_args()
    before = os.getloadavg()[0]
    targets, results = measure(args)
    after = os.getloadavg()[0]
    markdown = report(targets, results, args.samples, f"{before:.1f} before and {after:.1f} after")
    print(markdown)
    if not args.no_doc:
        write_section("scale", markdown)
        print("written to docs/benchmarks.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
