"""Where a request goes next: pure rules, no database, no Flask."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from app.onboarding.navigation import (
    Place,
    Where,
    after_declaration,
    declares_on_check,
    where_next,
)
from app.onboarding.states import FINAL, Status, StepKind, StepStatus


def request(status: Status = Status.PENDING, steps: tuple[Any, ...] = (), **fields: Any) -> Any:
    values = {"answered": [], "return_url": None, "id": "r1", **fields}
    return SimpleNamespace(status=status, steps=list(steps), is_final=status in FINAL, **values)


def step(position: int, kind: StepKind, status: StepStatus = StepStatus.TODO) -> Any:
    return SimpleNamespace(position=position, kind=kind, status=status)


@pytest.mark.parametrize(
    ("kinds", "declares"),
    [
        (["terms", "redirect"], True),
        (["terms", "app_consent"], True),
        (["terms", "pairing_code"], True),
        (["terms"], True),
        (["terms", "redirect", "terms"], False),  # two declarations: each on its own page
        (["redirect", "terms"], False),
        ([], False),
    ],
)
def test_check_answers_ends_in_the_declaration_for_one_terms_step_first(kinds, declares):
    assert declares_on_check([StepKind(k) for k in kinds]) is declares


def test_after_the_declaration_a_sign_in_step_goes_straight_to_the_manufacturer():
    sent = request(steps=(step(1, StepKind.TERMS, StepStatus.DONE), step(2, StepKind.REDIRECT)))
    assert after_declaration(sent) == Where(Place.MANUFACTURER, position=2)


@pytest.mark.parametrize("kind", [StepKind.APP_CONSENT, StepKind.PAIRING_CODE])
def test_after_the_declaration_other_steps_open_their_own_page(kind):
    sent = request(steps=(step(1, StepKind.TERMS, StepStatus.DONE), step(2, kind)))
    assert after_declaration(sent) == Where(Place.STEP, position=2)


def test_sent_without_the_declaration_the_terms_page_comes_first():
    sent = request(steps=(step(1, StepKind.TERMS), step(2, StepKind.REDIRECT)))
    assert after_declaration(sent) == Where(Place.STEP, position=1)


def test_a_finished_request_goes_where_it_always_does():
    done = request(
        Status.SUCCEEDED,
        steps=(step(1, StepKind.TERMS, StepStatus.DONE),),
        return_url="https://partner.example/back",
    )
    where = after_declaration(done)
    assert where.place == Place.PARTNER
    assert where.url == "https://partner.example/back?id=r1&status=Succeeded"


def test_a_draft_goes_to_its_first_unanswered_question_then_check():
    draft = request(Status.DRAFT, answered=["type"])
    assert where_next(draft, ["type", "details"]) == Where(Place.QUESTION, question="details")
    draft.answered.append("details")
    assert where_next(draft, ["type", "details"]) == Where(Place.CHECK)


def test_a_declined_request_returns_to_the_partner_with_status_canceled():
    declined = request(Status.CANCELED, return_url="https://partner.example/back?x=1")
    assert where_next(declined).url == "https://partner.example/back?x=1&id=r1&status=Canceled"
