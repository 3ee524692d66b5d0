"""`flask api-keys list | revoke`, beside `api-keys create` (app/cli.py): the page's twins."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from app.admin.keys import revoke_key
from app.cli import _tenant, api_keys
from app.extensions import db
from app.models import ApiKey
from app.onboarding import access
from app.onboarding.audit import OPERATOR


@api_keys.command("list")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
def list_api_keys(slug: str) -> None:
    """List a tenant's API keys: prefix, name, created, last used, revoked."""
    tenant = _tenant(slug)
    keys = db.session.scalars(
        select(ApiKey).where(access.tenant_api_key_clause(tenant.id)).order_by(ApiKey.created_at)
    ).all()
    if not keys:
        click.echo(f"{slug} has no API keys.")
    for key in keys:
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        click.echo(
            f"{key.prefix}…  {state:<18} created {key.created_at:%Y-%m-%d}  "
            f"last used {used}  {key.name}"
        )


@api_keys.command("revoke")
@click.argument("prefix")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
def revoke_api_key(prefix: str, slug: str) -> None:
    """Revoke the tenant's key that starts with PREFIX (as `list` shows it)."""
    tenant = _tenant(slug)
    prefix = prefix.rstrip("…")
    keys = db.session.scalars(
        select(ApiKey).where(
            access.tenant_api_key_clause(tenant.id),
            ApiKey.prefix.startswith(prefix, autoescape=True),
            ApiKey.revoked_at.is_(None),
        )
    ).all()
    if len(keys) != 1:
        raise click.ClickException(
            f"no active key of {slug} starts with {prefix!r}"
            if not keys
            else f"{len(keys)} keys start with {prefix!r}; give more of the prefix"
        )
    revoke_key(keys[0], OPERATOR)
    db.session.commit()
    click.echo(
        f"Revoked API key {keys[0].prefix}… of {slug}: running web workers refuse it within "
        f"{current_app.config['API_KEY_RECHECK_SECONDS']:g} s"
    )
