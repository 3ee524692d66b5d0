"""The package as it is deployed: build the wheel, install it into a fresh virtual
environment (its dependencies from PyPI), run it from outside the source tree with
gunicorn in production mode, and read a Dutch page.

Slow (about a minute, mostly the dependencies' download, cached by pip afterwards) but
bounded; `make test` runs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
# What building the package reads; copied so the build sees nothing else of the checkout.
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "babel.cfg", "app", "templates", "static")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "templates", "static")
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel built from this checkout; its bin/."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            # app/templates and app/static exist only inside a built wheel.
            ignore = IGNORED if name == "app" else shutil.ignore_patterns("__pycache__")
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    dist = tmp / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source, cwd=tmp)
    [wheel] = dist.glob("entity_onboarding-*.whl")
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp)
    return venv / "bin"


@pytest.fixture(scope="module")
def server(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """gunicorn serving the installed app in production mode, from a directory of its own."""
    here = tmp_path_factory.mktemp("run")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "TEST_DATABASE_URL", "VIRTUAL_ENV")
        and not name.startswith(("FLASK_", "PROVIDER_"))
    }
    env.update(
        APP_ENV="production",
        SECRET_KEY="a-secret-key-for-the-installed-package-test-0000",
        PUBLIC_URL=url,
        DATABASE_URL=f"sqlite:///{here / 'onboarding.sqlite3'}",
        JOBS_SQLITE_PATH=str(here / "jobs.sqlite3"),
    )
    where = run(installed / "python", "-c", "import app; print(app.__file__)", cwd=here, env=env)
    assert Path(where.strip()).is_relative_to(installed.parent), where
    run(installed / "flask", "--app", "app", "db", "upgrade", cwd=here, env=env)
    log = here / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                installed / "gunicorn",
                "-b",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
                "app:create_app()",
            ],
            cwd=here,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                requests.get(f"{url}/auth/login", timeout=5)
                break
            except requests.RequestException:  # not listening yet, or the worker is booting
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_installed_package_speaks_dutch(server: tuple[str, Path]) -> None:
    url, _log = server

    page = requests.get(f"{url}/auth/login", headers={"Accept-Language": "nl"}, timeout=10)

    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert "Aanmelden" in page.text
    assert "Sign in" not in page.text
    french = requests.get(f"{url}/auth/login", headers={"Accept-Language": "fr"}, timeout=10)
    assert "Se connecter" in french.text
    assert requests.get(f"{url}/static/css/app.css", timeout=10).status_code == 200


def test_the_installed_package_keeps_link_secrets_out_of_gunicorn_access_log(
    server: tuple[str, Path],
) -> None:
    url, log = server

    requests.get(f"{url}/c/AAAAAAAAAAAAAAAAAAAAAA.secretSignature00", timeout=10)
    requests.get(f"{url}/consent/callback/audi?code=secret-code-77&state=s-77", timeout=10)
    time.sleep(0.5)  # gunicorn writes its access log after answering

    text = log.read_text()
    assert "GET /c/[redacted]" in text
    for secret in ("secretSignature00", "secret-code-77", "s-77"):
        assert secret not in text
