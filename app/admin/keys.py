"""API keys: issuing and revoking, for the admin page and the `flask api-keys` commands
alike, each logged as a change of the tenant's settings."""

from __future__ import annotations

from app.api.auth import forget_api_key
from app.extensions import db
from app.models import ApiKey, Tenant, utcnow
from app.onboarding.audit import Actor, record_admin_change


def issue_key(tenant: Tenant, name: str, actor: Actor) -> tuple[ApiKey, str]:
    """A new key of `tenant` (added to the session) and its secret, to show once."""
    key, secret = ApiKey.issue(tenant, name)
    db.session.add(key)
    record_admin_change(tenant.id, "api_key_created", actor, key=key.prefix, name=name)
    return key, secret


def revoke_key(key: ApiKey, actor: Actor) -> None:
    """Stop the key (calls with it answer 401: at once on this worker, within
    API_KEY_RECHECK_SECONDS on the others); revoking twice changes nothing."""
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    forget_api_key(key.key_hash)
    record_admin_change(key.tenant_id, "api_key_revoked", actor, key=key.prefix)
