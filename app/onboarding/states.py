"""The onboarding request's statuses and the moves allowed between them (pure)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DRAFT = "Draft"
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL


FINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PENDING, Status.CANCELED, Status.FAILED}),
    Status.PENDING: frozenset({Status.IN_PROGRESS, Status.FAILED, Status.CANCELED}),
    # A failed connection attempt can send the request back to the owner (retry).
    Status.IN_PROGRESS: frozenset(
        {Status.PENDING, Status.SUCCEEDED, Status.FAILED, Status.CANCELED}
    ),
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELED: frozenset(),
}


class InvalidTransition(Exception):
    """A status change the lifecycle does not allow (e.g. cancel a Succeeded request)."""

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"A {current} request cannot become {target}")
        self.current = current
        self.target = target


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: Status, target: Status) -> None:
    """Raise InvalidTransition unless `current` may become `target`."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)


class StepStatus(StrEnum):
    """Where one consent step stands, as the owner's task list shows it."""

    TODO = "todo"
    WAITING = "waiting"  # started at the provider; waiting for its answer
    DONE = "done"
    FAILED = "failed"  # this attempt failed; the owner can try again
    REVOKED = "revoked"


class FailureReason(StrEnum):
    EXPIRED = "expired"
    DENIED = "denied"
    DEVICE_NOT_FOUND = "device_not_found"
    PROVIDER_ERROR = "provider_error"
    CANCELED_BY_PROVIDER = "canceled_by_provider"
