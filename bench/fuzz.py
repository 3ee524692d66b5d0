"""Schemathesis against a live server: every operation of the published OpenAPI document,
every check, and the counts.

Starts gunicorn on a free port over a fresh database (a SQLite file in a temporary folder,
or DATABASE_URL when set, which is emptied first), seeds a tenant with a collective, an API
key, a pending request and a succeeded one, then runs `st run` with all checks and prints
how many cases ran, how many answered 5xx, and how many failed a check.

    .venv/bin/python bench/fuzz.py                    # about 1,300 cases
    .venv/bin/python bench/fuzz.py --examples 200     # more per operation
    .venv/bin/python bench/fuzz.py --write            # also record the run in docs/benchmarks.md

Exits 1 when any case failed, so that it can gate a release.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## API fuzzing (bench/fuzz.py)"

VIN = "WAUZZZ8V0KA000000"
# Creating a request checks its identifiers with the catalog's rules, and some of those
# are check digits (an EAN's, a North American VIN's) that no JSON Schema can state: a
# value of the right shape may still be refused with 422 and the field named.
CONFIG = """
[[operations]]
include-operation-id = "createEntityOnboardingRequest"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "401", "403", "404", "409", "422", "429",
]

# Links only from Location headers: the guessed ones put an entity's id into `tenantId`.
[phases.stateful.inference]
algorithms = ["location-headers"]
"""
XENN_REFERENCE = "P1000000000"


@dataclass
class Seeded:
    secret: str
    tenant_id: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "fuzz-" + "x" * 40,
        "API_RATE_LIMIT": "1000000 per minute",
        # Answers are checked against their schema by schemathesis, not by the server.
        "API_VALIDATE_RESPONSES": "0",
        "PYTHONPATH": str(ROOT),
    }


def seed(database_url: str) -> Seeded:
    """A fresh schema with one tenant, its household, an API key and two requests."""
    os.environ.update(server_environment(database_url))
    from app import create_app
    from app.extensions import db
    from app.models import ApiKey, Collective, CollectiveKind, OnboardingRequest, Tenant
    from app.onboarding import steps
    from app.onboarding.audit import OWNER_LINK

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        tenant = Tenant(slug="fuzz", name="Fuzz Energy")
        db.session.add(tenant)
        db.session.flush()
        db.session.add(Collective(tenant_id=tenant.id, name="Home", kind=CollectiveKind.HOUSEHOLD))
        key, secret = ApiKey.issue(tenant, "fuzz")
        db.session.add(key)
        db.session.commit()
        tenant_id = tenant.id
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    for body in (
        {"type": "EV", "manufacturer": "Audi", "vin": VIN},
        {"type": "RetrofitMeter", "manufacturer": "Xenn", "reference": XENN_REFERENCE},
    ):
        answer = client.post("/api/v1/onboarding/entities", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
    with app.app_context():
        xenn = db.session.query(OnboardingRequest).filter_by(manufacturer="Xenn").one()
        for step in list(xenn.steps):
            steps.complete_step(xenn, step, OWNER_LINK, {})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return Seeded(secret, tenant_id)


def start_server(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "app:create_app()",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=server_environment(database_url),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json") as ok:
                if ok.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start; see {log}")


def run_schemathesis(port: int, secret: str, examples: int, config: Path) -> tuple[int, str]:
    """Run `st run` with every check; its exit code and its output (also shown as it runs)."""
    command = [
        str(BIN / "st"),
        "--config-file",
        str(config),
        "run",
        f"http://127.0.0.1:{port}/api/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--seed",
        "13",
        # One worker: two share a cache in schemathesis that breaks under threads.
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {secret}",
        "--generation-database",
        "none",
        "--no-color",
    ]
    lines: list[str] = []
    with subprocess.Popen(
        command, cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="")
            lines.append(line)
    return process.returncode, "".join(lines)


def count(output: str, access_log: str) -> dict[str, Any]:
    """Cases and failed checks from schemathesis's summary; answers by class from the log."""
    generated = re.search(r"(\d+) generated", output)
    failures = {
        code: int(number)
        for code, number in re.findall(
            r"(ST\d+|[A-Z][\w ]+?)[^\n:]*: (\d+)\s*$", _failures(output), re.M
        )
    }
    statuses: Counter[str] = Counter(
        f"{match}xx" for match in re.findall(r'" ([1-5])\d\d ', access_log)
    )
    return {
        "cases": int(generated.group(1)) if generated else 0,
        "requests": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "failures": failures,
    }


def _failures(output: str) -> str:
    """The summary's Failures block (empty when there is none)."""
    block = re.search(r"^Failures:\n(.*?)\n\n", output, re.M | re.S)
    return block.group(1) if block else ""


def write_section(figures: dict[str, Any], examples: int, database: str) -> None:
    text = DOC.read_text()
    failed = sum(figures["failures"].values())
    statuses = figures["statuses"]
    body = (
        f"{SECTION}\n\n"
        "```sh\n.venv/bin/python bench/fuzz.py [--examples 100] [--write]\n```\n\n"
        "Schemathesis against a live gunicorn (2 workers) over a fresh database with one "
        "tenant, its API key, a pending and a succeeded request: every operation of the "
        "published document, all checks, every phase (examples, coverage, fuzzing, "
        "stateful). Creating a request may answer 422 to data the document allows (check "
        "digits are beyond JSON Schema); links between operations come only from Location "
        "headers. Exits 1 on any failed check, 5xx or server traceback.\n\n"
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `--examples {examples}`, {database}:\n\n"
        "| Cases | Requests | 2xx | 4xx | 5xx | Failed checks | Server tracebacks |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {figures['cases']} | {figures['requests']} | {statuses.get('2xx', 0)} | "
        f"{statuses.get('4xx', 0)} | {statuses.get('5xx', 0)} | {failed} | "
        f"{figures['tracebacks']} |\n"
    )
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip() + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[end + 1 :] if end != -1 else "")
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="cases per operation")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/fuzz.db"
        seeded = seed(database_url)
        port = free_port()
        log = Path(folder) / "server.log"
        config = Path(folder) / "schemathesis.toml"
        config.write_text(CONFIG)
        server = start_server(database_url, port, log)
        try:
            exit_code, output = run_schemathesis(port, seeded.secret, args.examples, config)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        server_log = log.read_text()
        figures = count(output, server_log)
        figures["tracebacks"] = server_log.count("Traceback")
        print(json.dumps(figures, indent=2))
        if args.write:
            database = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
            write_section(figures, args.examples, database)
    failed = sum(figures["failures"].values()) + figures["statuses"].get("5xx", 0)
    raise SystemExit(1 if failed or exit_code or figures["tracebacks"] else 0)


if __name__ == "__main__":
    main()
