"""PostgreSQL databases of the benchmarks: each script makes its own, fresh, and migrates it.

BENCH_DATABASE_SERVER   where to create them (default: the local trust-auth server)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_SERVER", DEFAULT_SERVER)


def fresh_database(name: str, server: str | None = None) -> str:
    """Drop and create the database `name`; return its URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")
    admin = create_engine(make_url(server or server_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return make_url(server or server_url()).set(database=name).render_as_string(False)


def database_exists(name: str, server: str | None = None) -> bool:
    admin = create_engine(make_url(server or server_url()))
    try:
        with admin.connect() as connection:
            found = connection.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(name)s", {"name": name}
            ).scalar()
    finally:
        admin.dispose()
    return bool(found)


def database_url(name: str, server: str | None = None) -> str:
    return make_url(server or server_url()).set(database=name).render_as_string(False)


def upgrade(url: str) -> None:
    """`flask db upgrade`: the schema production has, migrations and all."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
