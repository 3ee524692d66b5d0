"""Shared fixtures: a fresh app with an empty schema for every test.

The database is a SQLite file in the test's tmp_path, or the database named by
the TEST_DATABASE_URL environment variable (PostgreSQL in `make test`). CSRF is
off unless the test is marked `@pytest.mark.csrf`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app import create_app
from app.extensions import db
from app.i18n import compile_catalogs
from tests.integration.helpers import StatementCounter


def database_uri_for(tmp_path: Path) -> str:
    """TEST_DATABASE_URL when set, else a SQLite file of this test's own."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """A fresh app whose database has the schema and nothing else."""
    flask_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "testing",
            "PUBLIC_URL": "http://localhost",  # the test client's address
            "SQLALCHEMY_DATABASE_URI": database_uri_for(tmp_path),
            "WTF_CSRF_ENABLED": request.node.get_closest_marker("csrf") is not None,
        }
    )
    with flask_app.app_context():
        db.create_all()

    yield flask_app

    with flask_app.app_context():
        # Remove the session first: an idle transaction would make drop_all hang
        # on PostgreSQL; dispose closes pooled connections (ResourceWarning).
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def sql(app: Flask) -> StatementCounter:
    """Counts the SQL statements of one request: `sql.of(lambda: client.get(url)).count`."""
    return StatementCounter(app)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """The .mo files (not in git), compiled from any .po catalog newer than its .mo."""
    compile_catalogs()
