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
# A new request starts as a Draft (the wizard asks its questions first) or, sent complete
# in one go, straight away waits for the owner.
INITIAL = frozenset({Status.DRAFT, Status.PENDING})

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

    def __init__(self, current: Status | None, target: Status) -> None:
        super().__init__(f"A {current or 'new'} request cannot become {target}")
        self.current = current
        self.target = target


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: Status | None, target: Status) -> None:
    """Raise InvalidTransition unless `current` (None: a new request) may become `target`."""
    allowed = INITIAL if current is None else TRANSITIONS[current]
    if target not in allowed:
        raise InvalidTransition(current, target)


class EntityStatus(StrEnum):
    """Where a connected device stands. NeedsReconnect: the manufacturer no longer honours
    the owner's grant (revoked or expired there); the owner renews it without starting over."""

    CONNECTED = "Connected"
    NEEDS_RECONNECT = "NeedsReconnect"
    DISCONNECTED = "Disconnected"


# The statuses of an entity that still stands for its device: at most one per device.
LIVE_ENTITY = frozenset({EntityStatus.CONNECTED, EntityStatus.NEEDS_RECONNECT})
# A live entity may lose its grant, and get it back (reconnect) or be disconnected.
ENTITY_TRANSITIONS: dict[EntityStatus, frozenset[EntityStatus]] = {
    EntityStatus.CONNECTED: frozenset({EntityStatus.NEEDS_RECONNECT, EntityStatus.DISCONNECTED}),
    EntityStatus.NEEDS_RECONNECT: frozenset({EntityStatus.CONNECTED, EntityStatus.DISCONNECTED}),
    EntityStatus.DISCONNECTED: frozenset(),
}


def can_entity_transition(current: EntityStatus, target: EntityStatus) -> bool:
    return target in ENTITY_TRANSITIONS[current]


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


class Door(StrEnum):
    """How a request came in: the owner's wizard, an installer on site, or a partner's API."""

    WIZARD = "wizard"
    INSTALLER = "installer"
    API = "api"


class StepKind(StrEnum):
    """The kinds of consent step; each has one handler module in app/consent/steps/."""

    TERMS = "terms"
    REDIRECT = "redirect"
    APP_CONSENT = "app_consent"
    PAIRING_CODE = "pairing_code"
