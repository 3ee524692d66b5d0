"""Command line: `flask --app wsgi seed-demo | tenants create | users create | api-keys create`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from sqlalchemy import func, select

from app.consent import crypto
from app.extensions import db
from app.jobs.tasks import check_entity_grants, expire_due
from app.models import ProviderGrant, Role, Tenant, User
from app.onboarding.audit import OPERATOR
from app.seed import seed_demo

# AppGroup runs each command inside the app context, also under app.test_cli_runner().
tenants = AppGroup("tenants", help="Manage tenants.")
users = AppGroup("users", help="Manage users.")
api_keys = AppGroup("api-keys", help="Manage API keys.")
onboarding = AppGroup("onboarding", help="Onboarding requests: expiry and token keys.")


def _tenant(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.BadParameter(f"no tenant {slug!r}", param_hint="--tenant")
    return tenant


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo tenant and one user per role (safe to run again)."""
    for email, password in seed_demo().items():
        click.echo(f"{email}  password: {password}")


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's name.")
def create_tenant(slug: str, name: str) -> None:
    """Create a tenant called SLUG."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,59}", slug):
        raise click.BadParameter("use lower-case letters, digits and hyphens", param_hint="SLUG")
    if db.session.scalar(select(Tenant).where(Tenant.slug == slug)):
        raise click.ClickException(f"tenant {slug!r} exists already")
    db.session.add(Tenant(slug=slug, name=name))
    db.session.commit()
    click.echo(f"Created tenant {slug}")


@users.command("create")
@click.argument("email")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.OWNER.value,
    show_default=True,
)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--name", default="", help="The person's name.")
def create_user(email: str, slug: str, role: str, password: str, name: str) -> None:
    """Create a user who signs in with EMAIL."""
    tenant = _tenant(slug)
    email = email.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise click.ClickException(f"a user {email} exists already")
    user = User(email=email, tenant=tenant, role=role, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {email} in {slug}")


@api_keys.command("create")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--name", default="", help="What the key is for.")
def create_api_key(slug: str, name: str) -> None:
    """Create an API key; it is shown once, alone on the last line."""
    from app.admin.keys import issue_key  # the admin package imports this module

    key, secret = issue_key(_tenant(slug), name, OPERATOR)
    db.session.commit()
    click.echo(f"Created API key {key.prefix}… for {slug}. Store it now; it is not shown again:")
    click.echo(secret)


@onboarding.command("expire")
def expire_requests() -> None:
    """Fail every request not final after REQUEST_EXPIRES_AFTER (the job queue does this
    every five minutes; this is for operators)."""
    expired = expire_due()
    db.session.commit()
    click.echo(f"Expired {expired} request(s).")


@onboarding.command("check-grants")
def check_grants_command() -> None:
    """Renew every Connected entity's grants; those the manufacturer refuses turn
    NeedsReconnect (the job queue does this every 30 minutes; this is for operators)."""
    # Links to the sandbox providers are built on the site's address, as in a job.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        lapsed = check_entity_grants()
    click.echo(f"{lapsed} entit(y/ies) need reconnecting.")


@onboarding.command("rotate-tokens")
def rotate_tokens() -> None:
    """Re-encrypt stored provider tokens with the first TOKEN_ENCRYPTION_KEYS key."""
    grants = db.session.scalars(select(ProviderGrant)).all()
    for grant in grants:
        grant.access_token = crypto.rotate(grant.access_token)
        grant.refresh_token = crypto.rotate(grant.refresh_token)
    db.session.commit()
    click.echo(f"Re-encrypted the tokens of {len(grants)} grant(s).")


MIGRATIONS = Path(__file__).parent / "migrations"


class MigrationCommands(click.Group):
    """`flask db ...`: Flask-Migrate's commands, imported (with Alembic) only when one runs,
    so that a web worker, which never runs them, does not load Alembic."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        from flask_migrate import Migrate
        from flask_migrate.cli import db as commands

        info = parent.ensure_object(ScriptInfo) if parent else ScriptInfo()
        app = info.load_app()
        if "migrate" not in app.extensions:
            Migrate(app, db, directory=str(MIGRATIONS))
        # Flask-Migrate's own group parses the arguments and runs from here on.
        return commands.make_context(info_name, args, parent=parent, **extra)


def init_app(app: Flask) -> None:
    app.cli.add_command(MigrationCommands("db", help="Database migrations (Flask-Migrate)."))
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(tenants)
    app.cli.add_command(users)
    app.cli.add_command(api_keys)
    app.cli.add_command(onboarding)
