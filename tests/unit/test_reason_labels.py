"""Every reason a step or a request can fail with reads as words, in every language.

The reasons are found in the code itself: each FailureReason, and each text passed as the
reason to `fail_step_attempt` or `set_status` (a new literal there fails this test until
it has a label).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

from app import create_app
from app.i18n import LANGUAGES
from app.onboarding.states import FailureReason
from app.templating import REASON_LABELS, reason_label

APP = Path(__file__).resolve().parents[2] / "app"


def _reason_argument(call: ast.Call) -> ast.expr | None:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    keyword = next((k.value for k in call.keywords if k.arg == "reason"), None)
    if name == "fail_step_attempt":
        return call.args[3] if len(call.args) > 3 else keyword
    if name == "set_status":
        return keyword
    return None


def recorded_reasons() -> set[str]:
    reasons = {str(member) for member in FailureReason}
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            argument = _reason_argument(node)
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                reasons.add(argument.value)
    return reasons


def test_the_scan_finds_the_pairing_steps_own_reason() -> None:
    assert "pairing_code_mismatch" in recorded_reasons()


@pytest.mark.parametrize("reason", sorted(recorded_reasons()))
def test_every_recorded_reason_has_a_label_in_every_language(reason: str) -> None:
    assert reason in REASON_LABELS
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    english = str(REASON_LABELS[reason])
    with app.test_request_context():
        for language in LANGUAGES:
            with force_locale(language):
                label = reason_label(reason)
                assert label and label != reason
                if language != "en":
                    assert str(label) != english, (reason, language)
