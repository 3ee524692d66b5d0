"""Work that happens when nobody is looking, on a Huey queue.

The queue lives in Redis when REDIS_URL is set (any number of consumers on any number of
hosts), else in a SQLite file under instance/. `flask --app wsgi jobs worker` runs a
consumer with the periodic jobs; `make run` starts one beside the web app. Under tests the
jobs run inline (JOBS_IMMEDIATE) unless a test starts a real consumer.

A job runs in its own app context (its own database session, which it commits) with a
request context on PUBLIC_URL, so links it makes point at the site. Work that must follow
a commit (a webhook, a poll of the manufacturer) is queued with `after_commit`: a rollback
queues nothing, and the periodic sweeps catch what a crash between commit and queue lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from huey import Huey
from huey.api import TaskWrapper
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

huey = Huey("entity-onboarding", results=False, utc=True, storage_class=MemoryStorage)
_apps: list[Flask] = []


def init_app(app: Flask) -> None:
    """Point the queue at this app's storage; jobs run in this app."""
    immediate = app.config.get("JOBS_IMMEDIATE")
    if immediate is None:
        immediate = app.testing
    huey._immediate = bool(immediate)  # the setter would build a storage of its own
    huey.storage = MemoryStorage(huey.name) if immediate else storage_for(app)
    _apps[:] = [app]
    from app.jobs import tasks  # noqa: F401  (registers the jobs)

    app.cli.add_command(jobs_cli)


def storage_for(app: Flask) -> Any:
    url = app.config.get("REDIS_URL")
    if url:
        return RedisStorage(huey.name, url=url)
    path = app.config.get("JOBS_SQLITE_PATH") or str(Path(app.instance_path) / "jobs.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteStorage(huey.name, filename=path)


def current_jobs_app() -> Flask:
    if not _apps:
        raise RuntimeError("the job queue was not initialised with an app")
    return _apps[0]


@contextmanager
def job_context() -> Iterator[Flask]:
    """A fresh app context (its own session) and a request context on PUBLIC_URL."""
    app = current_jobs_app()
    from app.extensions import db

    with app.app_context(), app.test_request_context(base_url=app.config["PUBLIC_URL"]):
        try:
            yield app
        finally:
            db.session.remove()


# ---------------------------------------------------------------- after commit


def after_commit(session: Session, task: TaskWrapper, *args: Any) -> None:
    """Queue `task(*args)` once `session` commits; nothing if it rolls back."""
    session.info.setdefault("after_commit", []).append((task, args))


@event.listens_for(Session, "after_flush")
def _note_new_events(session: Session, _context: Any) -> None:
    from app.models import Event

    if any(isinstance(obj, Event) for obj in session.new):
        session.info["outbox"] = True


@event.listens_for(Session, "after_commit")
def _queue_after_commit(session: Session) -> None:
    queued = session.info.pop("after_commit", [])
    if session.info.pop("outbox", False):
        from app.jobs.tasks import dispatch_events

        queued.append((dispatch_events, ()))
    for task, args in queued:
        try:
            task(*args)
        except Exception:  # the queue is down: the periodic sweeps will find the work
            log.exception("could not queue %s", getattr(task, "name", task))


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("after_commit", None)
    session.info.pop("outbox", None)


# ---------------------------------------------------------------- command line

jobs_cli = AppGroup("jobs", help="The job queue: run a consumer.")


@jobs_cli.command("worker")
@click.option("--workers", "-w", default=2, show_default=True, help="Worker threads.")
@click.option("--no-periodic", is_flag=True, help="Leave the periodic jobs to another consumer.")
def worker(workers: int, no_periodic: bool) -> None:
    """Run a consumer until Ctrl-C (or SIGTERM): jobs, retries and periodic jobs."""
    if huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run inline, not on a queue")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=not no_periodic, check_worker_health=True
    )
    consumer.run()
