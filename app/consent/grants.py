"""A manufacturer's grant after consent: renewed while the entity lives, refused by the
manufacturer (the owner reconnects), ended on offboarding. Nothing here commits."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.consent import crypto
from app.consent.providers import Provider, ProviderError, get_provider
from app.extensions import db
from app.models import ConsentStep, Entity, ProviderGrant, utcnow
from app.onboarding.audit import Actor
from app.onboarding.lifecycle import disconnect_entity, mark_needs_reconnect


def destroy_grant(grant: ProviderGrant, provider: Provider, notify: bool) -> None:
    """Destroy a grant's tokens here, and ask the provider to end it when `notify`.

    The provider is asked once this transaction commits (a job, given the token still
    encrypted): a rollback asks nothing, and the call holds no lock of ours meanwhile.
    """
    if grant.revoked_at is not None:
        return
    sealed = grant.refresh_token or grant.access_token
    if notify and sealed and provider.revoke_url:
        from app.jobs import after_commit
        from app.jobs.tasks import revoke_at_provider

        after_commit(db.session(), revoke_at_provider, provider.name, sealed)
    grant.access_token = None
    grant.refresh_token = None
    grant.revoked_at = utcnow()


# ---------------------------------------------------------------- keeping a grant alive


def live_grants(entity: Entity) -> list[ProviderGrant]:
    """The grants of the entity's consent in force that still have a token here."""
    return list(
        db.session.scalars(
            select(ProviderGrant)
            .join(ConsentStep)
            .where(
                ConsentStep.request_id == entity.request_id,
                ProviderGrant.revoked_at.is_(None),
                ProviderGrant.refresh_token.is_not(None),
            )
        ).all()
    )


def check_grants(entity: Entity) -> bool:
    """Renew the entity's grants at the manufacturer. One the manufacturer refuses
    (invalid_grant: revoked or expired there) makes the entity NeedsReconnect; any other
    failure is left for the next check. Whether the entity changed status."""
    for grant in live_grants(entity):
        provider = get_provider(grant.provider)
        try:
            token = provider.refresh(crypto.decrypt(grant.refresh_token) or "")
        except ProviderError as failure:
            if failure.code == "invalid_grant":
                return grant_refused(entity, grant, str(failure))
            continue
        grant.access_token = crypto.encrypt(token.get("access_token"))
        if token.get("refresh_token"):
            grant.refresh_token = crypto.encrypt(token["refresh_token"])
        expires_in = token.get("expires_in")
        grant.expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
    return False


def grant_refused(entity: Entity, grant: ProviderGrant, detail: str) -> bool:
    """A provider call for `entity` failed with invalid_grant: its tokens are useless, so
    they are destroyed here, and the owner is asked to reconnect."""
    current_app.logger.info("grant of entity %s refused: %s", entity.id, detail)
    destroy_grant(grant, get_provider(grant.provider), notify=False)
    return mark_needs_reconnect(entity, "grant_refused", Actor.provider(grant.provider))


# ---------------------------------------------------------------- offboarding


def offboard(entity: Entity, reason: str, actor: Actor) -> bool:
    """Disconnect `entity`: end its grants at the provider, destroy the tokens here, and
    revoke the consent (kept, with the reason). False, doing nothing, when another call
    offboarded it first: the entity is claimed before any provider is told."""
    if not disconnect_entity(entity, reason, actor):
        return False
    grants = db.session.scalars(
        select(ProviderGrant)
        .join(ConsentStep)
        .where(ConsentStep.request_id == entity.request_id, ProviderGrant.revoked_at.is_(None))
    ).all()
    for grant in grants:
        destroy_grant(grant, get_provider(grant.provider), notify=True)
    return True
