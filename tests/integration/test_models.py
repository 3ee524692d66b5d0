"""What the database itself guarantees: one entity per request, no silent overwrite."""

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.catalog import current_catalog
from app.extensions import db
from app.models import Entity, OnboardingRequest
from app.onboarding import drafts, lifecycle, steps
from app.onboarding.audit import SYSTEM, Actor
from app.onboarding.states import InvalidTransition, Status, StepStatus
from tests.integration.helpers import XENN_REFERENCE, add_tenant, add_user, in_db


def xenn_request_at_last_step(app) -> uuid.UUID:
    """A Xenn request, submitted, its terms accepted: only the pairing code is left."""
    with in_db(app) as session:
        tenant = add_tenant(session, "acme", "Acme Energy")
        owner = add_user(session, tenant, "alice@acme.example")
        catalog = current_catalog()
        actor = Actor.user(owner)
        request = drafts.start_draft(tenant, owner, "RetrofitMeter", catalog, actor)
        drafts.choose_manufacturer(request, "Xenn", catalog, actor)
        drafts.give_details(request, {"reference": XENN_REFERENCE}, catalog, actor)
        steps.submit_request(request, catalog, actor)
        session.commit()
        steps.complete_step(request, request.steps[0], actor, {"terms_version": "x"})
        session.commit()
        return request.id


def complete_last_step(request_id: uuid.UUID) -> None:
    request = db.session.get(OnboardingRequest, request_id)
    steps.complete_step(request, request.steps[-1], SYSTEM, {"code_last_digits": "13"})


def entities_for(request_id):
    return db.session.scalars(select(Entity).where(Entity.request_id == request_id)).all()


def test_the_last_step_creates_one_entity_and_succeeds(app):
    request_id = xenn_request_at_last_step(app)

    with in_db(app) as session:
        complete_last_step(request_id)
        session.commit()

        request = session.get(OnboardingRequest, request_id)
        assert request.status == Status.SUCCEEDED
        [entity] = entities_for(request_id)
        assert entity.information == {"reference": XENN_REFERENCE}
        assert entity.tenant_id == request.tenant_id

        # Done again (a re-post): nothing changes.
        complete_last_step(request_id)
        session.commit()
        assert len(entities_for(request_id)) == 1


def test_the_database_refuses_a_second_entity_for_one_request(app):
    request_id = xenn_request_at_last_step(app)
    with in_db(app) as session:
        complete_last_step(request_id)
        session.commit()
        request = session.get(OnboardingRequest, request_id)

        session.add(
            Entity(
                tenant_id=request.tenant_id,
                request_id=request.id,
                type=request.type,
                manufacturer="Xenn",
                information={},
                properties={},
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()

        assert len(entities_for(request_id)) == 1


def test_every_change_bumps_the_version(app):
    request_id = xenn_request_at_last_step(app)
    with in_db(app) as session:
        request = session.get(OnboardingRequest, request_id)
        version = request.version

        request.reference = "partner-1"
        session.commit()

        assert request.version == version + 1


def test_a_concurrent_second_change_raises_stale_data(app):
    """Two sessions hold the same version; the second to write is refused, not merged."""
    request_id = xenn_request_at_last_step(app)
    with in_db(app) as first:
        mine = first.get(OnboardingRequest, request_id)
        with in_db(app) as second:  # a nested app context has a session of its own
            assert second is not first
            theirs = second.get(OnboardingRequest, request_id)
            assert theirs.version == mine.version
            theirs.reference = "changed in another tab"
            second.commit()

        mine.reference = "changed here"
        with pytest.raises(StaleDataError):
            first.commit()
        first.rollback()

        assert first.get(OnboardingRequest, request_id).reference == "changed in another tab"


def test_the_last_step_taken_twice_at_once_creates_one_entity(app):
    """Two workers finish the same request from the same version: the second one fails."""
    request_id = xenn_request_at_last_step(app)
    with in_db(app) as first:
        mine = first.get(OnboardingRequest, request_id)
        _ = mine.steps, mine.entity
        with in_db(app) as second:
            complete_last_step(request_id)
            second.commit()

        with pytest.raises(StaleDataError):
            # Found at the entity's savepoint, or at the commit at the latest.
            steps.complete_step(mine, mine.steps[-1], SYSTEM, {"code_last_digits": "13"})
            first.commit()
        first.rollback()

        assert len(entities_for(request_id)) == 1
        request = first.get(OnboardingRequest, request_id)
        assert request.status == Status.SUCCEEDED
        assert [s.status for s in request.steps] == [StepStatus.DONE, StepStatus.DONE]


def test_a_succeeded_request_cannot_be_canceled(app):
    request_id = xenn_request_at_last_step(app)
    with in_db(app) as session:
        complete_last_step(request_id)
        session.commit()
        request = session.get(OnboardingRequest, request_id)

        with pytest.raises(InvalidTransition):
            lifecycle.cancel_request(request, SYSTEM)
        session.rollback()

        assert session.get(OnboardingRequest, request_id).status == Status.SUCCEEDED


def test_timestamps_come_back_in_utc(app):
    request_id = xenn_request_at_last_step(app)
    with in_db(app) as session:
        session.expunge_all()
        request = session.get(OnboardingRequest, request_id)

        assert request.created_at.utcoffset().total_seconds() == 0
        assert request.submitted_at.tzinfo is not None
