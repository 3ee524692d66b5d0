"""The support console's forms: filters come from the URL; actions post with CSRF."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from app.consent.messages import SUBMISSION_KEY_MAX_LENGTH, new_submission_key
from app.onboarding.console import VIEW_ALL, VIEW_STALLED, Filters, FunnelFilters
from app.onboarding.states import Door, Status
from app.support.describe import CANCEL_REASONS

OTHER_REASON = "other"
NOTE_MAX_LENGTH = 2000
FUNNEL_DAYS = (7, 30, 90)


class NoteForm(FlaskForm):
    """An internal note; its submission key makes a retried form add it once."""

    text = TextAreaField(
        _l("Internal note"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Write the note.")),
            Length(max=NOTE_MAX_LENGTH, message=_l("Keep the note under 2,000 characters.")),
        ],
    )
    submission_key = HiddenField(
        default=new_submission_key,
        validators=[DataRequired(), Length(max=SUBMISSION_KEY_MAX_LENGTH)],
    )


class CancelForm(FlaskForm):
    reason = RadioField(
        _l("Why is the request canceled?"),
        choices=[
            *(SelectChoice(value, label) for value, label in CANCEL_REASONS.items()),
            SelectChoice(OTHER_REASON, _l("Another reason")),
        ],
        validators=[InputRequired(_l("Choose why the request is canceled."))],
    )
    other = StringField(_l("The reason"), validators=[Length(max=300)])

    def validate_other(self, field: Field) -> None:
        if self.reason.data == OTHER_REASON and not (field.data or "").strip():
            raise ValidationError(_l("Type the reason."))

    def chosen_reason(self) -> str:
        return (
            (self.other.data or "").strip()
            if self.reason.data == OTHER_REASON
            else self.reason.data
        )


def _date(value: str | None, errors: dict[str, Any], name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[name] = _l("Enter a date like 2026-11-30.")
        return None


def filters_from(args: Any) -> tuple[Filters, dict[str, Any]]:
    """The list's filters as the URL gives them, and a message per field that is wrong.

    An unknown choice is ignored (a stale bookmark), a wrong date is said next to its field.
    """
    errors: dict[str, Any] = {}
    view = args.get("view", VIEW_STALLED)
    status = args.get("status", "")
    door = args.get("door", "")
    stage = args.get("stage", "")
    filters = Filters(
        view=view if view in (VIEW_STALLED, VIEW_ALL) else VIEW_STALLED,
        q=args.get("q", "")[:200],
        status=status if status in {s.value for s in Status} else "",
        type=args.get("type", "")[:40],
        manufacturer=args.get("manufacturer", "")[:60],
        door=door if door in {d.value for d in Door} else "",
        created_from=_date(args.get("created_from"), errors, "created_from"),
        created_to=_date(args.get("created_to"), errors, "created_to"),
        stage=int(stage) if stage.isdigit() and len(stage) < 4 else None,
    )
    return filters, errors


def funnel_filters_from(args: Any) -> FunnelFilters:
    days = args.get("days", "30")
    door = args.get("door", "")
    return FunnelFilters(
        days=int(days) if days.isdigit() and int(days) in FUNNEL_DAYS else 30,
        type=args.get("type", "")[:40],
        manufacturer=args.get("manufacturer", "")[:60],
        door=door if door in {d.value for d in Door} else "",
    )
