"""The support console at scale: p50/p95 of its pages at 10,000 and 1,000,000 requests.

Loads requests (with their consent steps and events, over 50 tenants) set-based into a
PostgreSQL database of its own, then times, through the app in-process as the demo support
person of tenant 1: the stalled list (first page and a deep page), a search by VIN, a
search by email, one request's page and the funnel (90 days). A bare Flask app answering
the same client is timed beside them: the floor of a request here. EXPLAIN plans of the
main queries and the figures go into docs/benchmarks.md (section `console`).

    .venv/bin/python bench/console.py [--sizes 10000,1000000] [--runs 40] [--no-doc]

BENCH_DATABASE_URL names the database (default: bench_support on 127.0.0.1); every run
drops and recreates its tables. Never timed in tests.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.extensions import db

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_support"
TENANTS = 50
SUPPORT = "support@bench.example"
PASSWORD = "bench-password"

# app.onboarding.funnel.stage_of, set-based (as migration 5d8e3f1a2c47 fills it in).
FUNNEL_STAGE = """UPDATE onboarding_requests SET funnel_stage = CASE
      WHEN status = 'Succeeded' THEN 100
      WHEN status <> 'Draft' THEN 10 + (
        SELECT count(*) FROM consent_steps
        WHERE consent_steps.request_id = onboarding_requests.id AND consent_steps.status = 'done')
      ELSE json_array_length(answered) END"""

# One statement per table, all set-based: generate_series and arithmetic on its number.
LOAD = [
    f"""INSERT INTO tenants (id, slug, name, created_at)
        SELECT t, 'tenant-' || t, 'Tenant ' || t, now() FROM generate_series(1, {TENANTS}) t""",
    """INSERT INTO onboarding_requests (
          id, tenant_id, type, manufacturer, information, properties, device_id, email,
          email_search, reference, status, channel, answered, created_at, updated_at,
          last_activity_at, submitted_at, version, funnel_stage)
        SELECT gen_random_uuid(), 1 + g % {tenants}, 'EV', 'Audi',
          json_build_object('vin', 'WAUZZZ' || lpad(g::text, 11, '0')), '{{}}'::json,
          'WAUZZZ' || lpad(g::text, 11, '0'),
          'Customer' || g || '@example.com', 'customer' || g || '@example.com',
          'REF-' || g,
          (ARRAY['Pending','Pending','Pending','Pending','InProgress','Succeeded','Succeeded',
                 'Canceled','Failed','Draft'])[1 + (g / {tenants}) % 10],
          (ARRAY['api','wizard','installer'])[1 + (g / 7) % 3],
          CASE WHEN (g / {tenants}) % 10 = 9 THEN '["type", "manufacturer"]'::json
               ELSE '[]'::json END,
          c, c, c + (((g / 3) % 72) || ' hours')::interval,
          CASE WHEN (g / {tenants}) % 10 = 9 THEN NULL ELSE c END, 1, 0
        FROM generate_series(1, {n}) g,
          LATERAL (SELECT now() - (((g / {tenants}) % 120) || ' days')::interval
                          - ((g % 1440) || ' minutes')::interval AS c) created""",
    """INSERT INTO consent_steps (request_id, position, kind, status, attempts, evidence,
          created_at, completed_at)
        SELECT r.id, p.position, p.kind,
          CASE WHEN r.status = 'Succeeded' OR (p.position = 1 AND r.status <> 'Draft'
                    AND r.device_id < 'WAUZZZ0000000005') THEN 'done'
               ELSE 'todo' END,
          0, '{{}}'::json, r.created_at, NULL
        FROM onboarding_requests r
        CROSS JOIN (VALUES (1, 'terms'), (2, 'redirect')) AS p(position, kind)
        WHERE r.status <> 'Draft'""",
    """INSERT INTO events (request_id, at, kind, actor, data)
        SELECT r.id, r.created_at + (e.n || ' seconds')::interval, e.kind, 'api-key:1',
               json_build_object('channel', r.channel)
        FROM onboarding_requests r
        CROSS JOIN (VALUES (1, 'created'), (2, 'status'), (3, 'link_created')) AS e(n, kind)""",
    FUNNEL_STAGE,
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of `runs` calls, after 3 not counted."""
    for _ in range(3):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def load(app: Flask, n: int) -> float:
    started = time.perf_counter()
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.create_all()
        # Bulk loads go faster into bare tables: the secondary indexes are built afterwards.
        indexes = [i for table in db.metadata.sorted_tables for i in table.indexes]
        with db.engine.begin() as connection:
            for index in indexes:
                index.drop(connection)
            for statement in LOAD:
                connection.execute(text(statement.format(n=n, tenants=TENANTS)))
            for index in indexes:
                index.create(connection)
            connection.execute(
                text(
                    "INSERT INTO users (email, tenant_id, role, name, password_hash, active,"
                    " created_at) VALUES (:email, 1, 'support', 'Bench', :hash, true, now())"
                ),
                {"email": SUPPORT, "hash": generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")},
            )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def support_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.post("/auth/login", data={"email": SUPPORT, "password": PASSWORD})
    assert response.status_code == 302, response.text[:300]
    return client


def deep_cursor(app: Flask) -> str:
    """A cursor 80% of the way through tenant 1's stalled list (found once, not timed)."""
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT last_activity_at, id FROM onboarding_requests WHERE tenant_id = 1"
                " AND status IN ('Draft', 'Pending', 'InProgress')"
                " AND last_activity_at <= now() - interval '48 hours'"
                " ORDER BY last_activity_at, id OFFSET (SELECT count(*) * 8 / 10 FROM"
                " onboarding_requests WHERE tenant_id = 1"
                " AND status IN ('Draft', 'Pending', 'InProgress')"
                " AND last_activity_at <= now() - interval '48 hours') LIMIT 1"
            )
        ).one()
    return f"{row[0].isoformat()}~{row[1]}"


def one_of_tenant_1(app: Flask) -> tuple[str, str, str]:
    """(request id, VIN, email) of a request of tenant 1 from the middle of the table."""
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT id, device_id, email FROM onboarding_requests WHERE tenant_id = 1"
                " ORDER BY device_id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM"
                " onboarding_requests WHERE tenant_id = 1)"
            )
        ).one()
    return str(row[0]), row[1], row[2]


def pages(app: Flask) -> dict[str, str]:
    request_id, vin, email = one_of_tenant_1(app)
    return {
        "stalled list, first page": "/support/",
        "stalled list, deep page": "/support/?after=" + deep_cursor(app),
        "search by VIN": "/support/?q=" + vin.lower(),
        "search by email": "/support/?q=" + email.upper(),
        "request page": f"/support/requests/{request_id}",
        "funnel, 90 days": "/support/funnel?days=90",
    }


def measure(app: Flask, runs: int) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    client = support_client(app)
    results: dict[str, tuple[float, float]] = {}
    targets = pages(app)
    for name, path in targets.items():

        def call(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        results[name] = timed(call, runs)
    return results, targets


def bare_flask(runs: int) -> tuple[float, float]:
    bare = Flask("bare")
    bare.add_url_rule("/", "hello", lambda: "hello")
    client = bare.test_client()
    return timed(lambda: client.get("/"), runs)


def explain(app: Flask, path: str) -> str:
    """The EXPLAIN (ANALYZE) plan of the slowest SQL statement one GET of `path` runs."""
    client = support_client(app)
    captured: list[tuple[float, str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        captured.append((time.perf_counter() - conn.info["started"], statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    relevant = [c for c in captured if "onboarding_requests" in c[1] and "users" not in c[1][:60]]
    _, statement, parameters = max(relevant or captured)
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
        ).all()
    return "\n".join(r[0] for r in rows)


def table(sizes: list[int], figures: dict[int, dict[str, tuple[float, float]]]) -> str:
    names = list(figures[sizes[0]])
    head = "| page | " + " | ".join(f"p50 / p95 at {n:,} (ms)" for n in sizes)
    if len(sizes) > 1:
        head += f" | p95 at {sizes[-1]:,} / p95 at {sizes[0]:,}"
    lines = [head + " |", "|" + " --- |" * (len(sizes) + 1 + (len(sizes) > 1))]
    for name in names:
        cells = [f"{figures[n][name][0]:.1f} / {figures[n][name][1]:.1f}" for n in sizes]
        row = f"| {name} | " + " | ".join(cells)
        if len(sizes) > 1:
            ratio = figures[sizes[-1]][name][1] / figures[sizes[0]][name][1]
            row += f" | {ratio:.2f}x{' (over 1.5x)' if ratio > 1.5 else ''}"
        lines.append(row + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"}
    )
    figures: dict[int, dict[str, tuple[float, float]]] = {}
    loads: dict[int, float] = {}
    plans: dict[str, str] = {}
    for n in sizes:
        loads[n] = load(app, n)
        print(f"loaded {n:,} requests in {loads[n]:.0f} s", flush=True)
        figures[n], targets = measure(app, args.runs)
        figures[n]["bare Flask app (floor)"] = bare_flask(args.runs)
        for name, (p50, p95) in figures[n].items():
            print(f"  {name:28} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms", flush=True)
        if n == sizes[-1]:
            for name, path in targets.items():
                plans[name] = explain(app, path)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    report = table(sizes, figures)
    print(report)
    if not args.no_doc:
        from bench.harness import write_section

        loaded = ", ".join(f"{n:,} in {s:.0f} s" for n, s in loads.items())
        body = [
            "## Support console at scale",
            "",
            f"`bench/console.py --sizes {args.sizes} --runs {args.runs}`: PostgreSQL, "
            f"{TENANTS} tenants, each request with 2 consent steps (drafts none) and 3 events; "
            f"measured as the support person of tenant 1 (1/{TENANTS} of the rows), through "
            f"the app in-process (Flask test client, no network). Loaded {loaded}.",
            "",
            report,
            "",
            f"### EXPLAIN ANALYZE at {sizes[-1]:,} (the slowest statement of each page)",
        ]
        for name, plan in plans.items():
            body += ["", f"#### {name}", "", "```", re.sub(r"\n{2,}", "\n", plan), "```"]
        write_section("console", "\n".join(body))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
