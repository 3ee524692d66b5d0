"""The command line: demo data, tenants, users, API keys, and migrations matching the models."""

import hashlib
import logging
import os
import uuid
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SAWarning

from app import create_app
from app.extensions import db
from app.models import ApiKey, Collective, Tenant, User
from app.seed import DEMO_PASSWORD
from tests.integration.helpers import in_db, path_of

DEMO_EMAILS = [
    "owner@demo.example",
    "installer@demo.example",
    "support@demo.example",
    "admin@demo.example",
]


def run(runner, *args):
    """Run `flask ARGS`: each command pushes the app context itself, as under `flask`."""
    return runner.invoke(args=list(args))


def rows(app, model):
    with in_db(app) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def acme(app, runner):
    result = run(runner, "tenants", "create", "acme", "--name", "Acme Energy")
    assert result.exit_code == 0, result.output
    return "acme"


# ---------------------------------------------------------------- seed-demo


def test_seed_demo_twice_is_fine_and_prints_the_users(app, runner):
    first = run(runner, "seed-demo")
    second = run(runner, "seed-demo")

    for result in (first, second):
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            f"{email}  password: {DEMO_PASSWORD}" for email in DEMO_EMAILS
        ]
    assert (rows(app, Tenant), rows(app, User), rows(app, Collective)) == (1, 4, 1)
    with in_db(app) as session:
        roles = dict(session.execute(select(User.email, User.role)).all())
    assert roles == {
        "owner@demo.example": "owner",
        "installer@demo.example": "installer",
        "support@demo.example": "support",
        "admin@demo.example": "admin",
    }


def test_a_demo_user_can_sign_in(app, runner, client):
    run(runner, "seed-demo")

    response = client.post(
        "/auth/login", data={"email": "owner@demo.example", "password": DEMO_PASSWORD}
    )

    assert path_of(response) == "/"


# ---------------------------------------------------------------- tenants


def test_tenants_create(app, runner):
    result = run(runner, "tenants", "create", "acme", "--name", "Acme Energy")

    assert result.exit_code == 0, result.output
    assert "Created tenant acme" in result.output
    with in_db(app) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "acme"))
        assert tenant.name == "Acme Energy"


def test_tenants_create_twice_is_refused(app, runner, acme):
    result = run(runner, "tenants", "create", "acme", "--name", "Again")

    assert result.exit_code == 1
    assert "tenant 'acme' exists already" in result.output
    assert rows(app, Tenant) == 1


@pytest.mark.parametrize("slug", ["Acme", "acme corp", "-acme", "a" * 61, "acme_corp"])
def test_tenants_create_refuses_a_bad_slug(app, runner, slug):
    result = run(runner, "tenants", "create", "--name", "Acme", "--", slug)

    assert result.exit_code == 2
    assert "use lower-case letters, digits and hyphens" in result.output
    assert rows(app, Tenant) == 0


def test_tenants_create_needs_a_name(app, runner):
    result = run(runner, "tenants", "create", "acme")

    assert result.exit_code == 2
    assert "--name" in result.output


# ---------------------------------------------------------------- users


def test_users_create_then_sign_in(app, runner, client, acme):
    result = run(
        runner,
        "users",
        "create",
        " Ian@Acme.Example ",
        "--tenant",
        "acme",
        "--role",
        "installer",
        "--password",
        "long enough",
        "--name",
        "Ian",
    )

    assert result.exit_code == 0, result.output
    assert "Created installer ian@acme.example in acme" in result.output
    with in_db(app) as session:
        user = session.scalar(select(User).where(User.email == "ian@acme.example"))
        assert (user.role, user.name, user.tenant.slug) == ("installer", "Ian", "acme")
        assert "long enough" not in user.password_hash
    response = client.post(
        "/auth/login", data={"email": "ian@acme.example", "password": "long enough"}
    )
    assert path_of(response) == "/"


def test_users_create_defaults_to_owner(app, runner, acme):
    run(
        runner,
        "users",
        "create",
        "olivia@acme.example",
        "--tenant",
        "acme",
        "--password",
        "long enough",
    )

    with in_db(app) as session:
        assert session.scalar(select(User.role)) == "owner"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "superuser"], "Invalid value for '--role'"),
        (["--password", "short"], "use at least 8 characters"),
        (["--email", "not-an-email"], "not an email address"),
        (["--email", "two@at@acme.example"], "not an email address"),
        (["--tenant", "nowhere"], "no tenant 'nowhere'"),
    ],
    ids=["bad role", "short password", "bad email", "two @", "unknown tenant"],
)
def test_users_create_refuses_bad_input(app, runner, acme, args, message):
    options = {
        "--email": "ian@acme.example",
        "--tenant": "acme",
        "--role": "installer",
        "--password": "long enough",
    }
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    email = options.pop("--email")

    result = run(runner, "users", "create", email, *[x for kv in options.items() for x in kv])

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert rows(app, User) == 0


def test_users_create_refuses_an_email_taken_in_any_case(app, runner, acme):
    run(
        runner,
        "users",
        "create",
        "ian@acme.example",
        "--tenant",
        "acme",
        "--password",
        "long enough",
    )

    result = run(
        runner,
        "users",
        "create",
        "IAN@acme.example",
        "--tenant",
        "acme",
        "--password",
        "long enough",
    )

    assert result.exit_code == 1
    assert "a user ian@acme.example exists already" in result.output
    assert rows(app, User) == 1


# ---------------------------------------------------------------- API keys


def test_api_keys_create_prints_the_key_alone_on_its_last_line(app, runner, acme):
    result = run(runner, "api-keys", "create", "--tenant", "acme", "--name", "Partner app")

    assert result.exit_code == 0, result.output
    key = result.output.rstrip("\n").splitlines()[-1]
    assert key == key.strip()
    assert key.startswith("eo_") and len(key) >= 40
    assert " " not in key

    with in_db(app) as session:
        stored = session.scalars(select(ApiKey)).one()
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert stored.tenant.slug == "acme"
        assert stored.name == "Partner app"
        values = [getattr(stored, c.key) for c in inspect(ApiKey).columns]
        assert key not in [str(v) for v in values]  # only its hash is stored
        assert not any(key in str(v) for v in values if v is not None)


def test_api_keys_are_different_each_time(app, runner, acme):
    keys = {
        run(runner, "api-keys", "create", "--tenant", "acme").output.splitlines()[-1]
        for _ in range(2)
    }

    assert len(keys) == 2
    assert rows(app, ApiKey) == 2


def test_api_keys_create_needs_a_known_tenant(app, runner):
    result = run(runner, "api-keys", "create", "--tenant", "nowhere")

    assert result.exit_code == 2
    assert "no tenant 'nowhere'" in result.output
    assert rows(app, ApiKey) == 0


# ---------------------------------------------------------------- db upgrade


@pytest.fixture
def keep_logging():
    """Alembic's env.py reconfigures logging; put it back for the tests that follow."""
    manager = logging.root.manager
    saved = {
        name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
        for name, lg in manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    root = (logging.root.level, list(logging.root.handlers))
    yield
    for name, (disabled, level, handlers, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.disabled, lg.level, lg.handlers, lg.propagate = disabled, level, handlers, propagate
    for name, lg in list(manager.loggerDict.items()):
        if isinstance(lg, logging.Logger) and name not in saved:
            lg.handlers = []
    for handler in logging.root.handlers:
        if handler not in root[1]:
            handler.close()
    logging.root.level, logging.root.handlers = root


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """The URL of a database created for this test alone, with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = os.environ.get("TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL does not name a PostgreSQL server")
    name = f"upgrade_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_db_upgrade_creates_the_schema_of_the_models(empty_database, keep_logging):
    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database})
    with fresh.app_context():
        assert inspect(db.engine).get_table_names() == []

    try:
        result = fresh.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, (result.output, result.exception)

        with fresh.app_context(), db.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            with warnings.catch_warnings():
                # SQLite's reflection cannot read an index on lower(...), so Alembic skips
                # those there: they are looked up by name below.
                warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
                warnings.filterwarnings("ignore", "autogenerate skipping", UserWarning)
                differences = compare_metadata(context, db.metadata)
            if connection.dialect.name == "sqlite":
                made = set(
                    connection.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'index'"
                    ).scalars()
                )
                on_expressions = {
                    index.name
                    for table in db.metadata.tables.values()
                    for index in table.indexes
                    if not all(isinstance(part, Column) for part in index.expressions)
                }
                assert on_expressions and on_expressions <= made
        assert differences == []
        assert set(db.metadata.tables) | {"alembic_version"} == tables
    finally:
        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()


def test_db_migrations_key_a_manufacturers_own_number_with_its_name(empty_database, keep_logging):
    """Rows from before device keys named their manufacturer are keyed again on upgrade
    (and back on downgrade): a plant ID with its manufacturer, a VIN alone."""
    from app.catalog import current_catalog
    from app.models import Entity, OnboardingRequest
    from app.onboarding import steps
    from app.onboarding.audit import SYSTEM
    from app.onboarding.intake import create_request

    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database})
    cli = fresh.test_cli_runner()

    def keys() -> dict[str, tuple[str | None, str | None]]:
        with fresh.app_context():
            found = {
                r.manufacturer: (r.device_id, r.entity.device_id if r.entity else None)
                for r in db.session.scalars(select(OnboardingRequest))
            }
            db.session.remove()
            return found

    try:
        assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
        with fresh.app_context(), fresh.test_request_context():
            tenant = Tenant(slug="acme", name="Acme")
            db.session.add(tenant)
            answers = {
                "SMA": ("PV", {"plantId": "1234567"}),
                "Audi": ("EV", {"vin": "WAUZZZ8V0KA000000"}),
            }
            for name, (type_id, information) in answers.items():
                request = create_request(
                    tenant,
                    type_id,
                    name,
                    information,
                    current_catalog(),
                    SYSTEM,
                    email="jo@example.com",
                )
                db.session.flush()
                for step in list(request.steps):
                    steps.complete_step(request, step, SYSTEM, {"kept": "yes"})
            db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(Entity)) == 2
            db.session.remove()
        now = {
            "SMA": ("SMA:1234567", "SMA:1234567"),
            "Audi": ("WAUZZZ8V0KA000000", "WAUZZZ8V0KA000000"),
        }
        assert keys() == now

        result = cli.invoke(args=["db", "downgrade", "9e4b2c7d1f30"])
        assert result.exit_code == 0, (result.output, result.exception)
        assert keys() == {"SMA": ("1234567", "1234567"), "Audi": now["Audi"]}

        result = cli.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, (result.output, result.exception)
        assert keys() == now
    finally:
        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()
