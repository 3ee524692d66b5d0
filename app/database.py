"""Pooled connections are checked before use only after they sat idle.

SQLAlchemy's `pool_pre_ping` sends a `SELECT 1` before every request's first statement:
one more round trip to the database on every page, which under load costs as much as a
real query. A connection that was in use a moment ago is alive; one that sat idle for
IDLE_BEFORE_PING seconds (the database may have restarted meanwhile) is pinged, and
replaced when the ping fails.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event, exc

from app.extensions import db

IDLE_BEFORE_PING = 10.0  # seconds


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine.pool, "checkin")
    def _idle_from_now(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out another (or connects anew).
            raise exc.DisconnectionError(str(error)) from error


def init_app(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            _ping_after_idle(engine)
