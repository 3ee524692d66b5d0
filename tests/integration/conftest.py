"""Fixtures every integration test may use (beside tests/conftest.py's app and client)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.integration.helpers import World, make_world


@pytest.fixture
def world(app: Flask) -> World:
    """Two tenants with their people and groups: see helpers.World."""
    return make_world(app)
