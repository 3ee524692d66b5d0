"""The onboarding request's lifecycle: which status may become which, and which are final."""

import itertools

import pytest

from app.onboarding.states import (
    FINAL,
    TRANSITIONS,
    InvalidTransition,
    Status,
    StepStatus,
    can_transition,
    check_transition,
)

DRAFT, PENDING, IN_PROGRESS = Status.DRAFT, Status.PENDING, Status.IN_PROGRESS
SUCCEEDED, FAILED, CANCELED = Status.SUCCEEDED, Status.FAILED, Status.CANCELED

# The whole lifecycle, written out: Draft -> Pending -> InProgress -> Succeeded | Failed;
# Canceled from any status that is not final; a draft can expire (Failed); a failed
# connection attempt sends the request back to the owner (InProgress -> Pending).
ALLOWED = {
    (DRAFT, PENDING),
    (DRAFT, CANCELED),
    (DRAFT, FAILED),
    (PENDING, IN_PROGRESS),
    (PENDING, FAILED),
    (PENDING, CANCELED),
    (IN_PROGRESS, PENDING),
    (IN_PROGRESS, SUCCEEDED),
    (IN_PROGRESS, FAILED),
    (IN_PROGRESS, CANCELED),
}
FORBIDDEN = set(itertools.product(Status, Status)) - ALLOWED


def test_statuses_use_the_api_names():
    assert [s.value for s in Status] == [
        "Draft",
        "Pending",
        "InProgress",
        "Succeeded",
        "Failed",
        "Canceled",
    ]


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transition(current, target):
    assert can_transition(current, target)
    check_transition(current, target)  # does not raise


@pytest.mark.parametrize(("current", "target"), sorted(FORBIDDEN))
def test_forbidden_transition(current, target):
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)

    assert (caught.value.current, caught.value.target) == (current, target)
    assert str(caught.value) == f"A {current} request cannot become {target}"


def test_the_table_has_every_status_and_nothing_more():
    assert set(TRANSITIONS) == set(Status)
    assert {(s, t) for s, targets in TRANSITIONS.items() for t in targets} == ALLOWED


def test_final_statuses():
    assert {SUCCEEDED, FAILED, CANCELED} == FINAL
    assert [s for s in Status if s.is_final] == [SUCCEEDED, FAILED, CANCELED]
    assert not any(s.is_final for s in (DRAFT, PENDING, IN_PROGRESS))


@pytest.mark.parametrize("final", sorted(FINAL))
def test_a_final_status_never_changes_again(final):
    assert not any(can_transition(final, target) for target in Status)


@pytest.mark.parametrize("status", [DRAFT, PENDING, IN_PROGRESS])
def test_every_unfinished_request_can_be_canceled(status):
    assert can_transition(status, CANCELED)


def test_succeeded_is_reached_only_while_connecting():
    assert [s for s in Status if can_transition(s, SUCCEEDED)] == [IN_PROGRESS]


def test_nothing_goes_back_to_draft():
    assert not any(can_transition(s, DRAFT) for s in Status)


def test_step_statuses():
    assert [s.value for s in StepStatus] == ["todo", "waiting", "done", "failed", "revoked"]


def test_the_funnel_counts_every_wizard_question() -> None:
    from app.onboarding.drafts import QUESTIONS
    from app.onboarding.funnel import QUESTION_COUNT, STAGE_SUBMITTED

    # The group, offered on check answers, is the fourth answer a Draft may hold.
    assert len(QUESTIONS) + 1 == QUESTION_COUNT < STAGE_SUBMITTED


# ---------------------------------------------------------------- an entity's statuses


def test_entity_statuses_use_the_api_names():
    from app.onboarding.states import EntityStatus

    assert [s.value for s in EntityStatus] == ["Connected", "NeedsReconnect", "Disconnected"]


@pytest.mark.parametrize(
    "current,target,allowed",
    [
        ("Connected", "NeedsReconnect", True),
        ("NeedsReconnect", "Connected", True),  # reconnected
        ("Connected", "Disconnected", True),
        ("NeedsReconnect", "Disconnected", True),
        ("Disconnected", "Connected", False),  # a new request connects it anew
        ("Disconnected", "NeedsReconnect", False),
        ("Connected", "Connected", False),
    ],
)
def test_entity_transitions(current, target, allowed):
    from app.onboarding.states import EntityStatus, can_entity_transition

    assert can_entity_transition(EntityStatus(current), EntityStatus(target)) is allowed


def test_live_entities_are_the_ones_still_standing_for_their_device():
    from app.onboarding.states import LIVE_ENTITY, EntityStatus

    assert {EntityStatus.CONNECTED, EntityStatus.NEEDS_RECONNECT} == LIVE_ENTITY
