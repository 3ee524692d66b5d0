"""What the lifecycle refuses, in words meant for the person who asked."""

from __future__ import annotations

from app.identifiers import IdentifierError


class OnboardingError(Exception):
    """A change the request's current state does not allow; `message` is for the person."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.template = message
        self.params = params


class InvalidAnswers(Exception):
    """Some answers are not valid; `errors` maps each field name to its IdentifierError."""

    def __init__(self, errors: dict[str, IdentifierError]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
