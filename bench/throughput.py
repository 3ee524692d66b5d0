"""Throughput of the app against a bare Flask "hello", under the same gunicorn, on PostgreSQL.

    .venv/bin/python bench/throughput.py [--database NAME] [--rounds 3] [--seconds 4]
                                         [--connections 4] [--only NAME,...] [--no-doc]

Creates a fresh PostgreSQL database (BENCH_DATABASE_SERVER, default the local trust-auth
server; named by --database, default `bench_throughput`), migrates it with
`flask db upgrade` and seeds the demo tenant, an API key, 200 API requests and the demo
owner's drafts. Then it starts the app (`gunicorn -w 2 wsgi:app`, APP_ENV=production) and
bench/hello.py (`gunicorn -w 2 hello:app`) side by side and drives each scenario with wrk
(installed with apt-get when missing): a warm-up, then `--rounds` rounds in which hello
and the app take turns (hello first in odd rounds, the app first in even ones), each for
`--seconds`. Per scenario it prints requests/s, p50/p99 latency and the median of the
rounds' app ÷ hello ratios, with the load average; then the start-up time of a web worker
(`import wsgi` in a new interpreter, against `import hello`) and the workers' RSS.

Every answer must have the scenario's status (wrk counts the others); a scenario with
wrong answers is reported as such, not as a figure. Exit 0 when it measured, 2 when it
could not. Other people share the machine: keep rounds short.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from database import database_url, fresh_database, upgrade
from harness import NOTHING, BenchError, facts_line, run_facts, table, write_section

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
USER_AGENT = "bench-throughput/1"  # Flask-Login binds a session to its user agent
WORKERS = 2
API_REQUESTS = 200
OWNER_REQUESTS = 24
DRAFTS = 200  # wizard answers take turns over these, so no two are in flight on one draft
VIN = "WBA3A5C55CF256985"


@dataclass
class Scenario:
    name: str
    title: str
    goal: float | None
    method: str = "GET"
    paths: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    status: int = 200
    csrf: str = ""  # the CSRF token in `body`, if any


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    wrong: int
    load: float


@dataclass
class Result:
    scenario: Scenario
    app: list[Run] = field(default_factory=list)
    hello: list[Run] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(a.rps / h.rps for a, h in zip(self.app, self.hello, strict=True))

    @property
    def wrong(self) -> int:
        return sum(r.wrong for r in self.app)


# ---------------------------------------------------------------- the database


def seed(url: str) -> dict[str, Any]:
    """Demo data for the scenarios; returns the API key, the owner's password, draft ids."""
    os.environ["DATABASE_URL"] = url
    from sqlalchemy import select

    from app import create_app
    from app.catalog import current_catalog
    from app.extensions import db
    from app.models import ApiKey, OnboardingRequest, Tenant, User
    from app.onboarding.audit import SYSTEM, Actor
    from app.onboarding.drafts import choose_manufacturer, start_draft
    from app.onboarding.intake import create_request
    from app.onboarding.lifecycle import cancel_request
    from app.onboarding.steps import complete_step
    from app.seed import DEMO_TENANT, seed_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        passwords = seed_demo()
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT))
        owner = db.session.scalar(select(User).where(User.email == "owner@demo.example"))
        key, secret = ApiKey.issue(tenant, "bench")
        db.session.add(key)
        catalog = current_catalog()
        for i in range(API_REQUESTS + OWNER_REQUESTS):
            mine = i >= API_REQUESTS
            request = create_request(
                tenant,
                "EV",
                ("Audi", "BMW", "Tesla", "Kia")[i % 4],
                {"vin": VIN},
                catalog,
                SYSTEM,
                owner=owner if mine else None,
                reference=f"bench-{i}",
            )
            db.session.flush()
            if i % 3 == 1:
                for step in list(request.steps):
                    complete_step(request, step, SYSTEM, {})
            elif i % 3 == 2:
                cancel_request(request, SYSTEM)
        drafts = []
        for _ in range(DRAFTS):
            draft = start_draft(tenant, owner, "EV", catalog, Actor.user(owner))
            choose_manufacturer(draft, "Audi", catalog, Actor.user(owner))
            drafts.append(str(draft.id))
        db.session.commit()
        first = db.session.scalar(
            select(OnboardingRequest.id).where(OnboardingRequest.channel == "api").limit(1)
        )
        db.session.remove()
        db.engine.dispose()
    return {
        "secret": secret,
        "password": passwords["owner@demo.example"],
        "drafts": drafts,
        "request_id": str(first),
    }


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gunicorn:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes.append(int(match.group(1)) / 1024)
        return sizes


@contextmanager
def gunicorn(name: str, module: str, cwd: Path, env: dict[str, str]) -> Iterator[Gunicorn]:
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-w",
        str(WORKERS),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        module,
    ]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)
    server = Gunicorn(name, f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise BenchError(f"{name} did not start:\n{log.read().decode()[-3000:]}")
            try:
                requests.get(server.url + "/", timeout=10)
                break
            except requests.RequestException:  # not listening yet, or still starting
                if time.monotonic() > deadline:
                    raise BenchError(f"{name} did not answer within 60 s") from None
                time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        errors = [line for line in log.read().decode().splitlines() if "Traceback" in line]
        log.close()
        if errors:
            print(f"{name}: {len(errors)} traceback(s) in the server log", file=sys.stderr)


def csrf_token_in(html: str) -> str | None:
    """The CSRF token of a page: a form's hidden field, or htmx's header on <body>."""
    found = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    return found[1] if found else None


def sign_in(url: str, password: str) -> tuple[str, str]:
    """The owner's session cookie and its CSRF token."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(url + "/auth/login", timeout=10)
    token = csrf_token_in(page.text)
    if not token:
        raise BenchError("no CSRF token on the sign-in page")
    done = session.post(
        url + "/auth/login",
        data={"email": "owner@demo.example", "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    if done.status_code != 302:
        raise BenchError(f"sign-in answered {done.status_code}")
    home = session.get(url + "/", timeout=10)
    token = csrf_token_in(home.text)
    if not token:
        raise BenchError("no CSRF token on the home page")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return cookie, token


# ---------------------------------------------------------------- scenarios


def scenarios(seeded: dict[str, Any], cookie: str, token: str, etag: str | None) -> list[Scenario]:
    """The issue's table, then a few more; `etag` is the types answer's, when it has one."""
    api = {"Authorization": f"Bearer {seeded['secret']}"}
    owner = {"Cookie": cookie}
    drafts = seeded["drafts"]
    question = f"/onboarding/{drafts[0]}/manufacturer"
    found = [
        Scenario(
            "question",
            "a wizard question page (GET, signed in)",
            0.3,
            paths=[question],
            headers=owner,
        ),
        Scenario(
            "question-htmx",
            "the same as an htmx fragment",
            0.35,
            paths=[question],
            headers={**owner, "HX-Request": "true", "HX-Target": "main"},
        ),
        Scenario(
            "answer",
            "a wizard answer (POST: validate, write, redirect)",
            0.3,
            method="POST",
            paths=[f"/onboarding/{d}/manufacturer" for d in drafts],
            headers={**owner, "Content-Type": "application/x-www-form-urlencoded"},
            body=f"manufacturer=Audi&csrf_token={token}",
            status=302,
            csrf=token,
        ),
        Scenario(
            "types",
            "`GET /api/v1/onboarding/entities/types`",
            0.6,
            paths=["/api/v1/onboarding/entities/types"],
            headers=api,
        ),
        Scenario(
            "list",
            "`GET /api/v1/onboarding/entities?limit=50`",
            0.15,
            paths=["/api/v1/onboarding/entities?limit=50"],
            headers=api,
        ),
        Scenario(
            "create",
            "`POST /api/v1/onboarding/entities`",
            0.25,
            method="POST",
            paths=["/api/v1/onboarding/entities"],
            headers={**api, "Content-Type": "application/json"},
            body=json.dumps({"type": "EV", "manufacturer": "Audi", "vin": VIN}),
            status=201,
        ),
        Scenario(
            "get",
            "`GET /api/v1/onboarding/entities/{id}`",
            None,
            paths=[f"/api/v1/onboarding/entities/{seeded['request_id']}"],
            headers=api,
        ),
        Scenario(
            "home",
            f"the owner's home page ({OWNER_REQUESTS} requests, {DRAFTS} drafts)",
            None,
            paths=["/"],
            headers=owner,
        ),
    ]
    if etag:
        found.insert(
            4,
            Scenario(
                "types-304",
                "the same, revalidated (`If-None-Match` → 304)",
                None,
                paths=["/api/v1/onboarding/entities/types"],
                headers={**api, "If-None-Match": etag},
                status=304,
            ),
        )
    return found


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal here (ASCII)


def wrk_script(scenario: Scenario) -> str:
    """wrk's Lua: method, headers, body, paths taken in turn, and a JSON line at the end."""
    headers = "\n".join(
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in scenario.headers.items()
    )
    paths = ", ".join(_lua_string(p) for p in scenario.paths)
    return f"""
wrk.method = {_lua_string(scenario.method)}
wrk.body = {_lua_string(scenario.body)}
wrk.headers["User-Agent"] = {_lua_string(USER_AGENT)}
{headers}
local paths = {{{paths}}}
local turn = 0
request = function()
  turn = turn + 1
  return wrk.format(nil, paths[(turn % #paths) + 1])
end
wrong = 0
response = function(status, headers, body)
  if status ~= {scenario.status} then wrong = wrong + 1 end
end
local threads = {{}}
setup = function(thread)
  table.insert(threads, thread)
end
done = function(summary, latency, requests)
  local wrong_total = 0
  for _, thread in ipairs(threads) do wrong_total = wrong_total + thread:get("wrong") end
  io.write(string.format(
    '{{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"wrong": %d, "timeouts": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    wrong_total, summary.errors.timeout))
end
"""


def yardstick(scenario: Scenario) -> Scenario:
    """The same requests sent to hello, which answers 200 to anything: its status is not
    what is measured."""
    return Scenario(
        "hello", "", None, scenario.method, scenario.paths, scenario.headers, scenario.body
    )


def wrk(url: str, scenario: Scenario, seconds: int, connections: int) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(scenario))
    try:
        done = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(script.name)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith('{"requests"')), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed on {scenario.name}:\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line)
    wrong = figures["wrong"] + figures["timeouts"]
    return Run(
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        requests=figures["requests"],
        wrong=wrong,
        load=os.getloadavg()[0],
    )


def check_answers(url: str, scenario: Scenario) -> None:
    """One request as wrk will send it, with the scenario's status expected."""
    answer = requests.request(
        scenario.method,
        url + scenario.paths[0],
        headers={**scenario.headers, "User-Agent": USER_AGENT},
        data=scenario.body.encode() if scenario.body else None,
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != scenario.status:
        raise BenchError(
            f"{scenario.name}: {scenario.method} {scenario.paths[0]} answered "
            f"{answer.status_code}, not {scenario.status}:\n{answer.text[:1500]}"
        )


# ---------------------------------------------------------------- CPU per request


def signed_in_client(app: Any, password: str) -> tuple[Any, str]:
    """A Flask test client signed in as the demo owner, and its session's CSRF token."""
    client = app.test_client()
    environ = {"HTTP_USER_AGENT": USER_AGENT}
    page = client.get("/auth/login", environ_base=environ)
    token = csrf_token_in(page.text)
    if not token:
        raise BenchError("no CSRF token on the sign-in page (in process)")
    client.post(
        "/auth/login",
        data={"email": "owner@demo.example", "password": password, "csrf_token": token},
        environ_base=environ,
    )
    # Signing in starts a new session with a new token: read it from the home page.
    again = csrf_token_in(client.get("/", environ_base=environ).text)
    if not again:
        raise BenchError("no CSRF token on the home page (in process)")
    return client, again


def cpu_per_request(
    found: list[Scenario], seeded: dict[str, Any], env: dict[str, str], times: int = 100
) -> dict[str, tuple[float, float]]:
    """Per scenario: (app, hello) CPU milliseconds of one request, in this process through
    the Flask test client. The database's own CPU is not in it; other people's load
    hardly changes it, so it explains the wrk figures on a busy machine."""
    os.environ.update({**env, "PUBLIC_URL": "http://localhost"})  # the test client's host
    sys.path.insert(0, str(BENCH))
    from hello import app as hello_app

    from app import config as app_config
    from app import create_app

    # Seeding imported the settings before this environment was set; read it again.
    importlib.reload(app_config)
    app = create_app()
    client, token = signed_in_client(app, seeded["password"])
    environ = {"HTTP_USER_AGENT": USER_AGENT}
    hello = hello_app.test_client()
    figures = {}
    for scenario in found:
        # The test client keeps its own session cookie; the CSRF token is the session's.
        headers = {k: v for k, v in scenario.headers.items() if k != "Cookie"}
        body = scenario.body.replace(f"csrf_token={scenario.csrf}", f"csrf_token={token}")
        spent = []
        for target, expected in ((client, scenario.status), (hello, 200)):
            for i in range(times + 10):
                if i == 10:
                    started = time.process_time()
                answer = target.open(
                    scenario.paths[i % len(scenario.paths)],
                    method=scenario.method,
                    headers=headers,
                    data=body or None,
                    environ_base=environ,
                )
                if answer.status_code != expected:
                    raise BenchError(f"{scenario.name} in process: {answer.status_code}")
            spent.append(1000 * (time.process_time() - started) / times)
        figures[scenario.name] = (spent[0], spent[1])
    with app.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    return figures


# ---------------------------------------------------------------- start-up and memory


def import_seconds(module: str, cwd: Path, env: dict[str, str], times: int = 3) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = []
    for _ in range(times):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BenchError(f"import {module} failed:\n{done.stderr[-2000:]}")
        runs.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def imports_alembic(env: dict[str, str]) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, wsgi; print('alembic' in sys.modules)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().endswith("True")


# ---------------------------------------------------------------- the run


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk (apt-get) ...", file=sys.stderr)
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*apt, "install", "-y", "wrk"], env=env, capture_output=True, check=False)
    if not shutil.which("wrk"):
        subprocess.run([*apt, "update"], env=env, capture_output=True, check=False)
        subprocess.run([*apt, "install", "-y", "wrk"], env=env, capture_output=True, check=False)
    if not shutil.which("wrk"):
        raise BenchError("wrk is missing and apt-get could not install it")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    ensure_wrk()
    url = fresh_database(args.database)
    print(f"database {database_url(args.database).rsplit('@', 1)[-1]}: migrating", file=sys.stderr)
    upgrade(url)
    seeded = seed(url)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SESSION_COOKIE_SECURE": "0",  # plain http on 127.0.0.1
        "SECRET_KEY": "bench-throughput-not-secret-but-32-characters-long",
        "DATABASE_URL": url,
        "API_RATE_LIMIT": "100000000 per minute",  # counted, never reached
        "RATELIMIT_STORAGE_URI": args.ratelimit_storage,
    }
    env.pop("API_VALIDATE_RESPONSES", None)
    hello_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    with (
        gunicorn("app", "wsgi:app", ROOT, env) as app,
        gunicorn("hello", "hello:app", BENCH, hello_env) as hello,
    ):
        cookie, token = sign_in(app.url, seeded["password"])
        types = requests.get(
            app.url + "/api/v1/onboarding/entities/types",
            headers={"Authorization": f"Bearer {seeded['secret']}"},
            timeout=10,
        )
        found = scenarios(seeded, cookie, token, types.headers.get("ETag"))
        if args.only:
            wanted = set(args.only.split(","))
            found = [s for s in found if s.name in wanted]
        results = [Result(s) for s in found]
        for scenario in found:
            check_answers(app.url, scenario)
            # Warm-up: both servers' workers have imported and connected everything.
            wrk(app.url, scenario, 1, args.connections)
            wrk(hello.url, yardstick(scenario), 1, args.connections)
        loads = [os.getloadavg()[0]]
        for round_ in range(args.rounds):
            for result in results:
                scenario = result.scenario
                pair = [(hello, yardstick(scenario), result.hello), (app, scenario, result.app)]
                for server, which, runs in pair if round_ % 2 == 0 else pair[::-1]:
                    runs.append(wrk(server.url, which, args.seconds, args.connections))
            loads.append(os.getloadavg()[0])
            print(f"round {round_ + 1}/{args.rounds} done, load {loads[-1]:.2f}", file=sys.stderr)
        memory = {"app": app.worker_rss_mb(), "hello": hello.worker_rss_mb()}
    cpu = cpu_per_request(found, seeded, env)
    startup = {
        "app": import_seconds("wsgi", ROOT, env),
        "hello": import_seconds("hello", BENCH, hello_env),
        "alembic": imports_alembic(env),
    }
    return {
        "results": results,
        "memory": memory,
        "startup": startup,
        "loads": loads,
        "cpu": cpu,
    }


def report(measured: dict[str, Any], args: argparse.Namespace) -> tuple[str, list[str]]:
    rows = []
    missed = []
    for result in measured["results"]:
        s = result.scenario
        app_rps = statistics.median(r.rps for r in result.app)
        hello_rps = statistics.median(r.rps for r in result.hello)
        ratio = result.ratio
        goal = f"≥ {s.goal}" if s.goal is not None else NOTHING
        if result.wrong:
            verdict = f"**{result.wrong} wrong answers**"
            missed.append(f"{s.title}: {result.wrong} answers other than {s.status}")
        elif s.goal is None:
            verdict = NOTHING
        elif ratio >= s.goal:
            verdict = "yes"
        else:
            verdict = "**no**"
            missed.append(f"{s.title}: {ratio:.3f} of hello (goal ≥ {s.goal})")
        rows.append(
            [
                s.title,
                f"{app_rps:,.0f}",
                f"{statistics.median(r.p50_ms for r in result.app):.1f}",
                f"{statistics.median(r.p99_ms for r in result.app):.1f}",
                f"{hello_rps:,.0f}",
                f"{statistics.median(r.p50_ms for r in result.hello):.2f}",
                f"{statistics.median(r.p99_ms for r in result.hello):.1f}",
                f"**{ratio:.3f}**",
                goal,
                verdict,
                f"{min(r.load for r in result.app + result.hello):.1f}{NOTHING}"
                f"{max(r.load for r in result.app + result.hello):.1f}",
            ]
        )
    throughput = table(
        [
            "Request",
            "App req/s",
            "App p50 ms",
            "App p99 ms",
            "Hello req/s",
            "Hello p50 ms",
            "Hello p99 ms",
            "App ÷ hello",
            "Goal",
            "Met",
            "Load (1 min)",
        ],
        rows,
        "lrrrrrrrlll",
    )
    cpu_rows = []
    for result in measured["results"]:
        app_ms, hello_ms = measured["cpu"][result.scenario.name]
        cpu_rows.append([result.scenario.title, f"{app_ms:.2f}", f"{hello_ms:.3f}"])
    cpu = table(["Request", "App CPU ms", "Hello CPU ms"], cpu_rows, "lrr")
    startup, memory = measured["startup"], measured["memory"]
    app_rss = ", ".join(f"{m:.0f}" for m in memory["app"]) or "?"
    hello_rss = ", ".join(f"{m:.0f}" for m in memory["hello"]) or "?"
    worker = table(
        ["", "App", "Hello", "App ÷ hello"],
        [
            [
                "start-up: `import wsgi` / `import hello` (s, median of 3)",
                f"{startup['app']:.2f}",
                f"{startup['hello']:.2f}",
                f"{startup['app'] / startup['hello']:.1f}",
            ],
            [
                "worker RSS after the runs (MB, each worker)",
                app_rss,
                hello_rss,
                f"{statistics.mean(memory['app']) / statistics.mean(memory['hello']):.1f}"
                if memory["app"] and memory["hello"]
                else "?",
            ],
        ],
        "lrrr",
    )
    facts = facts_line(
        run_facts(),
        wrk=f"{args.rounds} rounds \N{MULTIPLICATION SIGN} {args.seconds} s, 1 thread, "
        f"{args.connections} connections",
    )
    verdict = (
        "Goals missed:\n\n" + "\n".join(f"- {m}" for m in missed)
        if missed
        else "Every scenario meets its goal."
    )
    markdown = f"""## Throughput

`bench/throughput.py` · {facts}

The app (`gunicorn -w {WORKERS} wsgi:app`, APP_ENV=production, PostgreSQL, rate limits in
`{args.ratelimit_storage.split("://")[0]}`) and a bare Flask hello (`gunicorn -w {WORKERS}
hello:app`) side by side, driven by wrk in alternating rounds; the ratio is the median of
the rounds' app ÷ hello requests/s, the other figures medians of the rounds. The machine's
1-minute load average is shown per scenario: other work shared the 2 cores.

{throughput}

The app's own CPU per request, in process through Flask's test client (100 requests
after 10 to warm up): what the Python code costs, without gunicorn and HTTP (the same
for both) and without PostgreSQL's CPU and round trips. It too grows when the machine
is busy (shared cores and caches), but far less than the wall times.

{cpu}

Web worker: start-up and memory (Alembic imported by `import wsgi`:
{"yes" if startup["alembic"] else "no"}).

{worker}

{verdict}
"""
    return markdown, missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="bench_throughput", help="database to (re)create")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--only", default="", help="scenario names, comma-separated")
    parser.add_argument(
        "--ratelimit-storage",
        default=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        help="rate-limit storage (the `limits` library), e.g. redis://127.0.0.1:6379/5 (default memory://)",
    )
    parser.add_argument("--no-doc", action="store_true", help="print only, leave the doc")
    args = parser.parse_args()
    try:
        measured = measure(args)
    except BenchError as error:
        print(f"throughput: {error}", file=sys.stderr)
        return 2
    markdown, _missed = report(measured, args)
    print(markdown)
    if not args.no_doc and not args.only:
        write_section("throughput", markdown)
        print("written to docs/benchmarks.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
