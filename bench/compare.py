"""The app before and now, side by side: two gunicorns, two databases, alternating wrk runs.

    .venv/bin/python bench/compare.py [BEFORE] [--rounds 3] [--seconds 4]

BEFORE is a commit (default: 561ee08, the code issue 14 measured). It is checked out in a
temporary git worktree; each version gets a fresh PostgreSQL database of its own
(`bench_compare_before`, `bench_compare_now`), migrated by its own `flask db upgrade` and
seeded by its own code (200 API requests, 200 drafts of the demo owner), then served by
`gunicorn -w 2` at the same time. Each of the throughput scenarios is driven with wrk,
the two versions taking turns; the table gives requests/s and the median of the rounds'
now ÷ before. Both versions suffer the same machine load, so the ratio says what the
code changed even when the machine is busy. Prints Markdown; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import throughput as tp
from database import fresh_database

ROOT = Path(__file__).resolve().parent.parent
WANTED = ("question", "question-htmx", "answer", "types", "list", "create")

# Seeds with either version's modules (the lifecycle was split out of services.py).
SEED = r"""
import json
import os

from sqlalchemy import select

from app import create_app
from app.catalog import current_catalog
from app.extensions import db
from app.models import ApiKey, Tenant, User
from app.seed import seed_demo

try:
    from app.onboarding.audit import SYSTEM, Actor
    from app.onboarding.drafts import choose_manufacturer, start_draft
    from app.onboarding.intake import create_request
    from app.onboarding.lifecycle import cancel_request
    from app.onboarding.steps import complete_step
except ImportError:
    from app.onboarding.services import (
        SYSTEM, Actor, cancel_request, choose_manufacturer, complete_step, create_request,
        start_draft,
    )

app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"]})
with app.app_context():
    password = seed_demo()["owner@demo.example"]
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
    owner = db.session.scalar(select(User).where(User.email == "owner@demo.example"))
    key, secret = ApiKey.issue(tenant, "compare")
    db.session.add(key)
    catalog = current_catalog()
    for i in range(200):
        request = create_request(
            tenant, "EV", ("Audi", "BMW", "Tesla", "Kia")[i % 4],
            {"vin": "WBA3A5C55CF256985"}, catalog, SYSTEM, reference=f"compare-{i}",
        )
        db.session.flush()
        if i % 3 == 1:
            for step in list(request.steps):
                complete_step(request, step, SYSTEM, {})
        elif i % 3 == 2:
            cancel_request(request, SYSTEM)
    drafts = []
    for _ in range(200):
        draft = start_draft(tenant, owner, "EV", catalog, Actor.user(owner))
        choose_manufacturer(draft, "Audi", catalog, Actor.user(owner))
        drafts.append(str(draft.id))
    db.session.commit()
print(json.dumps({"secret": secret, "password": password, "drafts": drafts}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", nargs="?", default="561ee08")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    tp.ensure_wrk()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SESSION_COOKIE_SECURE": "0",
        "SECRET_KEY": "bench-compare-not-secret-but-32-characters-long",
        "API_RATE_LIMIT": "100000000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp, ExitStack() as stack:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.before],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        stack.callback(
            subprocess.run,
            ["git", "worktree", "remove", "--force", str(before)],
            cwd=ROOT,
            capture_output=True,
        )
        servers, found = {}, {}
        for name, tree in (("before", before), ("now", ROOT)):
            url = fresh_database(f"bench_compare_{name}")
            version_env = {**env, "DATABASE_URL": url}
            run = {"cwd": tree, "env": version_env, "check": True, "capture_output": True}
            subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], **run)
            out = subprocess.run([sys.executable, "-c", SEED], text=True, **run)
            seeded = json.loads(out.stdout.strip().splitlines()[-1])
            servers[name] = stack.enter_context(tp.gunicorn(name, "wsgi:app", tree, version_env))
            cookie, token = tp.sign_in(servers[name].url, seeded["password"])
            scenarios = tp.scenarios({**seeded, "request_id": ""}, cookie, token, None)
            found[name] = {s.name: s for s in scenarios if s.name in WANTED}
        rps: dict[str, dict[str, list[float]]] = {n: {k: [] for k in WANTED} for n in servers}
        for key in WANTED:
            for name, server in servers.items():
                tp.check_answers(server.url, found[name][key])
                tp.wrk(server.url, found[name][key], 1, 4)  # warm-up
        for round_ in range(args.rounds):
            for key in WANTED:
                order = ["before", "now"] if round_ % 2 == 0 else ["now", "before"]
                for name in order:
                    run_ = tp.wrk(servers[name].url, found[name][key], args.seconds, 4)
                    if run_.wrong:
                        raise tp.BenchError(f"{name} {key}: {run_.wrong} wrong answers")
                    rps[name][key].append(run_.rps)
            print(f"round {round_ + 1}, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    print(
        f"Before: `{args.before}`; now: the working tree. Load average: {os.getloadavg()[0]:.1f}.\n"
    )
    print("| Request | Before req/s | Now req/s | Now ÷ before |")
    print("| --- | ---: | ---: | ---: |")
    for key in WANTED:
        pairs = zip(rps["now"][key], rps["before"][key], strict=True)
        ratio = statistics.median(a / b for a, b in pairs)
        print(
            f"| {found['now'][key].title} | {statistics.median(rps['before'][key]):,.0f} "
            f"| {statistics.median(rps['now'][key]):,.0f} | **{ratio:.2f}** |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
