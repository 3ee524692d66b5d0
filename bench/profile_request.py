"""Where a request's time goes: the throughput scenarios, in process, under pyinstrument.

    .venv/bin/python bench/profile_request.py SCENARIO [-n 300] [--database NAME] [--html FILE]

Seeds a fresh PostgreSQL database as bench/throughput.py does, builds the app as a
production worker does (APP_ENV=production), warms it up, then sends the scenario's
request `-n` times through the Flask test client inside one pyinstrument session and
prints the call tree (or writes it as HTML). Scenario names are throughput.py's:
question, question-htmx, answer, types, types-304, list, create, get, home.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from database import fresh_database, upgrade
from pyinstrument import Profiler
from throughput import USER_AGENT, scenarios, seed, signed_in_client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--database", default="bench_profile")
    parser.add_argument("--html", help="write pyinstrument's HTML report here")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args()

    url = fresh_database(args.database)
    upgrade(url)
    seeded = seed(url)
    os.environ.update(
        {
            "APP_ENV": "production",
            "SESSION_COOKIE_SECURE": "0",
            "SECRET_KEY": "bench-profile-not-secret-but-32-characters-long",
            "PUBLIC_URL": "http://localhost",  # the test client's host
            "DATABASE_URL": url,
            "API_RATE_LIMIT": "100000000 per minute",
        }
    )
    from app import config as app_config
    from app import create_app

    # Seeding imported the settings before this environment was set; read it again.
    importlib.reload(app_config)
    app = create_app()
    client, token = signed_in_client(app, seeded["password"])
    environ = {"HTTP_USER_AGENT": USER_AGENT}
    # The test client keeps the cookie itself; the scenarios' Cookie header is not needed.
    types = client.get(
        "/api/v1/onboarding/entities/types",
        headers={"Authorization": f"Bearer {seeded['secret']}"},
    )
    found = {s.name: s for s in scenarios(seeded, "", token, types.headers.get("ETag"))}
    scenario = found[args.scenario]
    headers = {k: v for k, v in scenario.headers.items() if k != "Cookie"}

    def send(i: int) -> None:
        path = scenario.paths[i % len(scenario.paths)]
        answer = client.open(
            path,
            method=scenario.method,
            headers=headers,
            data=scenario.body or None,
            environ_base=environ,
        )
        assert answer.status_code == scenario.status, (answer.status_code, answer.text[-3000:])

    for i in range(20):
        send(i)
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for i in range(args.n):
            send(i)
    elapsed = time.perf_counter() - started
    print(f"{scenario.title}: {args.n} requests, {1000 * elapsed / args.n:.2f} ms each")
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))
    return 0


if __name__ == "__main__":
    sys.exit(main())
