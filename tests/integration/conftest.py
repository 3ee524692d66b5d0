"""Fixtures every integration test may use (beside tests/conftest.py's app and client)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from tests.integration.helpers import World, make_world


@pytest.fixture
def world(app: Flask) -> World:
    """Two tenants with their people and groups: see helpers.World."""
    return make_world(app)


PRODUCTION_URL = "https://onboarding.example"
PRODUCTION_SECRET_KEY = "a-production-secret-key-of-48-characters-00000000"

MakeApp = Callable[..., Flask]


@pytest.fixture
def production_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MakeApp]:
    """Factory: the app as APP_ENV=production makes it (with `settings` on top), on a
    SQLite file with the schema, at PRODUCTION_URL with a strong SECRET_KEY."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        monkeypatch.setenv("APP_ENV", "production")
        app = create_app(
            {
                "SECRET_KEY": PRODUCTION_SECRET_KEY,
                "PUBLIC_URL": PRODUCTION_URL,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / f'production{len(made)}.db'}",
                **settings,
            }
        )
        with app.app_context():
            db.create_all()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
