"""The jobs. Each runs in its own app context and owns its transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app
from huey import crontab
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.jobs import huey, job_context
from app.models import ConsentAttempt, ConsentStep, OnboardingRequest, utcnow
from app.onboarding.states import FINAL, Status, StepKind, StepStatus

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- expiry


def expire_due() -> int:
    """Fail every request not final after REQUEST_EXPIRES_AFTER (the job and the CLI)."""
    from app.onboarding.lifecycle import expire_if_due

    max_age = current_app.config["REQUEST_EXPIRES_AFTER"]
    candidates = db.session.scalars(expiry_candidates(utcnow() - max_age)).all()
    return sum(1 for request in candidates if expire_if_due(request, max_age))


def expiry_candidates(cutoff: datetime) -> Select[Any]:
    """The requests not final and created before `cutoff`. Status IN (the statuses not
    final), not NOT IN (the final ones): the (status, created_at) index answers the first
    with one range per status, where the second reads every row."""
    under_way = [s.value for s in Status if s not in FINAL]
    return select(OnboardingRequest).where(
        OnboardingRequest.status.in_(under_way), OnboardingRequest.created_at < cutoff
    )


@huey.periodic_task(crontab(minute="*/5"))
def expire_requests() -> None:
    with job_context():
        expired = expire_due()
        db.session.commit()
        if expired:
            log.info("expired %d request(s)", expired)


# ---------------------------------------------------------------- reminders


def send_due_reminders() -> int:
    """One reminder per due request, each in its own transaction; how many went."""
    from app.consent.messages import MessageNotSent
    from app.consent.reminders import due_for_reminder, remind
    from app.identifiers import IdentifierError
    from app.onboarding.errors import OnboardingError

    sent = 0
    for request_id in due_for_reminder():
        request = db.session.get(OnboardingRequest, request_id)
        if request is None:
            continue
        try:
            if remind(request):
                db.session.commit()
                sent += 1
            else:
                db.session.rollback()
        except (MessageNotSent, OnboardingError, IdentifierError, StaleDataError) as failure:
            db.session.rollback()
            log.warning("reminder for request %s not sent: %s", request_id, failure)
    return sent


@huey.periodic_task(crontab(minute="*/15"))
def send_reminders() -> None:
    with job_context():
        send_due_reminders()


# ---------------------------------------------------------------- approval in the app


def _waiting_app_steps() -> list[int]:
    since = utcnow() - current_app.config["APP_CONSENT_POLL_FOR"]
    return list(
        db.session.scalars(
            select(ConsentStep.id)
            .join(ConsentAttempt, ConsentAttempt.step_id == ConsentStep.id)
            .where(
                ConsentStep.kind == StepKind.APP_CONSENT,
                ConsentStep.status == StepStatus.WAITING,
                ConsentAttempt.finished_at.is_(None),
                ConsentAttempt.created_at >= since,
            )
            .distinct()
        )
    )


def check_approval(step_id: int) -> bool:
    """Ask the manufacturer about the step's open approval and commit what it says;
    True while it still waits (and is young enough to ask again)."""
    from app.consent import service

    step = db.session.get(ConsentStep, step_id)
    if step is None or step.status != StepStatus.WAITING:
        return False
    service.check_app_consent(step.request, step)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()  # the provider's callback settled it at the same moment
        return False
    attempt = service.open_attempt(step)
    return (
        step.status == StepStatus.WAITING
        and attempt is not None
        and attempt.created_at >= utcnow() - current_app.config["APP_CONSENT_POLL_FOR"]
    )


@huey.task()
def poll_approval(step_id: int) -> None:
    """Poll one waiting approval every APP_CONSENT_POLL_SECONDS until it is decided."""
    with job_context() as app:
        waiting = check_approval(step_id)
        delay = app.config["APP_CONSENT_POLL_SECONDS"]
    if waiting:
        poll_approval.schedule((step_id,), delay=delay)


@huey.periodic_task(crontab(minute="*"))
def poll_approvals() -> None:
    """The sweep: every waiting approval, also those whose own poll was lost."""
    with job_context():
        for step_id in _waiting_app_steps():
            check_approval(step_id)


# ---------------------------------------------------------------- provider grants


@huey.task()
def revoke_at_provider(provider_name: str, sealed_token: bytes) -> None:
    """Ask a provider to end a grant whose tokens were destroyed here (after that commit)."""
    from app.consent import crypto
    from app.consent.providers import ProviderError, get_provider

    with job_context():
        token = crypto.decrypt(sealed_token)
        if not token:
            return
        try:
            get_provider(provider_name).revoke(token)
        except ProviderError:
            log.warning("revocation at %s failed; tokens destroyed here", provider_name)


# ---------------------------------------------------------------- grants kept alive


def check_entity_grants() -> int:
    """Renew every Connected entity's grants, each entity in its own transaction; how
    many turned NeedsReconnect (the manufacturer refused: revoked or expired there)."""
    from app.consent import grants
    from app.models import Entity
    from app.onboarding.states import EntityStatus

    ids = list(db.session.scalars(select(Entity.id).where(Entity.status == EntityStatus.CONNECTED)))
    lapsed = 0
    for entity_id in ids:
        entity = db.session.get(Entity, entity_id)
        if entity is None or entity.status != EntityStatus.CONNECTED:
            continue
        try:
            lapsed += grants.check_grants(entity)
            db.session.commit()
        except (IntegrityError, StaleDataError):
            db.session.rollback()  # changed at the same moment (a reconnect): next time
    return lapsed


@huey.periodic_task(crontab(minute="*/30"))
def check_grants() -> None:
    with job_context():
        lapsed = check_entity_grants()
        if lapsed:
            log.info("%d entit(y/ies) need reconnecting", lapsed)


# ---------------------------------------------------------------- webhooks


@huey.task()
def dispatch_events() -> None:
    """The outbox: turn new events into webhook deliveries, and send them."""
    from app import webhooks

    with job_context():
        try:
            created = webhooks.dispatch()
            db.session.commit()
        except IntegrityError:  # another dispatcher took the same events first
            db.session.rollback()
            return
    for delivery_id in created:
        deliver_webhook(delivery_id)


@huey.task()
def deliver_webhook(delivery_id: str) -> None:
    """One attempt at a delivery; on failure the next is scheduled (exponential backoff)."""
    from app.models import WebhookDelivery
    from app.webhooks import delivery as webhook_delivery

    with job_context():
        if not webhook_delivery.claim(delivery_id):
            db.session.rollback()
            return  # not due, done already, or another worker has it
        db.session.commit()
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        outcome = webhook_delivery.attempt(delivery)
        db.session.commit()
    if outcome.retry_in is not None:
        deliver_webhook.schedule((delivery_id,), delay=outcome.retry_in)


@huey.periodic_task(crontab(minute="*"))
def webhook_sweep() -> None:
    """What a crash or a lost job left behind: undispatched events, due deliveries."""
    from app import webhooks

    dispatch_events.call_local()
    with job_context():
        due = webhooks.due_deliveries()
    for delivery_id in due:
        deliver_webhook(delivery_id)
