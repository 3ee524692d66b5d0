"""How a request reads to support: where and why it stalled, and its timeline in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.catalog import current_catalog
from app.consent.steps import step_label
from app.extensions import db
from app.models import Event, OnboardingRequest, User
from app.onboarding.states import Status, StepStatus
from app.onboarding.steps import current_step
from app.templating import reason_label, status_label

DOOR_LABELS = {
    "wizard": _l("Wizard"),
    "installer": _l("Installer"),
    "api": _l("API"),
}

# The timeline's first line, per door.
CREATED_THROUGH = {
    "wizard": _l("Created in the wizard"),
    "installer": _l("Created by an installer"),
    "api": _l("Created through the API"),
}

QUESTION_LABELS = {
    "type": _l("Kind of device"),
    "manufacturer": _l("Manufacturer"),
    "details": _l("Device details"),
    "collective": _l("Group"),
}

ROLE_LABELS = {
    "owner": _l("owner"),
    "installer": _l("installer"),
    "support": _l("support"),
    "admin": _l("admin"),
}

STEP_STATUS_LABELS = {
    StepStatus.TODO: _l("To do"),
    StepStatus.WAITING: _l("Waiting for the manufacturer"),
    StepStatus.DONE: _l("Done"),
    StepStatus.FAILED: _l("Failed"),
    StepStatus.REVOKED: _l("Revoked"),
}

CANCEL_REASONS = {
    "owner_asked": _l("The owner asked to stop"),
    "duplicate": _l("A duplicate of another request"),
    "wrong_device": _l("The wrong device was entered"),
}

CHANNEL_LABELS = {
    "email": _l("email"),
    "sms": _l("text message"),
    "shown": _l("QR code or copied link"),
    "api": _l("API"),
}


def door_label(door: str) -> str:
    return str(DOOR_LABELS.get(door, door))


def step_status_label(status: str) -> str:
    return str(STEP_STATUS_LABELS.get(StepStatus(status), status))


def _step_label(request: OnboardingRequest, kind: str) -> str:
    manufacturer = current_catalog().manufacturer(request.type, request.manufacturer)
    return step_label(kind, manufacturer)


def where_stalled(request: OnboardingRequest) -> str:
    """What the request waits on, in words."""
    if request.status == Status.DRAFT:
        answered = set(request.answered or [])
        question = next((q for q in QUESTION_LABELS if q not in answered), None)
        if question is None:
            return gettext("Waiting for the owner to check the answers and send them")
        return gettext(
            "Waiting for the owner to answer: %(question)s", question=QUESTION_LABELS[question]
        )
    if request.status == Status.IN_PROGRESS:
        return gettext("Connecting to the device")
    if request.is_final:
        return status_label(request.status)
    step = current_step(request)
    if step is None:
        return gettext("Waiting for the connection")
    return gettext(
        "Waiting for the owner: %(step)s (step %(position)s)",
        step=_step_label(request, step.kind),
        position=step.position,
    )


@dataclass(frozen=True)
class Why:
    message: str
    code: str


def why_stalled(request: OnboardingRequest) -> Why | None:
    """The last failure's plain message and reason code, when known."""
    step = current_step(request) if not request.is_final else None
    code = (step.failure_reason if step is not None else None) or request.failure_reason
    if not code:
        return None
    return Why(reason_label(code), code)


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class Line:
    at: Any
    kind: str
    text: str
    actor: str
    door: str
    detail: str = ""


def _users(events: Iterable[Event]) -> dict[int, User]:
    ids = {
        int(e.actor.split(":", 1)[1])
        for e in events
        if e.actor.startswith("user:") and e.actor.split(":", 1)[1].isdigit()
    }
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _actor(label: str, users: dict[int, User], request: OnboardingRequest) -> tuple[str, str]:
    """(who, which door) for an event's actor label."""
    kind, _, rest = label.partition(":")
    if kind == "user" and rest.isdigit() and int(rest) in users:
        user = users[int(rest)]
        role = str(ROLE_LABELS.get(user.role, user.role))
        return f"{user.display_name} ({role})", gettext("Web")
    if kind == "api-key":
        return gettext("API key %(id)s", id=rest), gettext("API")
    if kind == "owner-link":
        return gettext("Owner"), gettext("Consent link")
    if kind == "provider":
        manufacturer = request.manufacturer or ""
        name = manufacturer if manufacturer.lower() == rest.lower() else rest.title()
        return name, gettext("Manufacturer")
    if kind == "callback":
        return gettext("Manufacturer"), gettext("Manufacturer")
    return gettext("System"), gettext("System")


def _stopped(revoked: int) -> str:
    """How many older links a new one stopped, if any."""
    if not revoked:
        return ""
    return ngettext(
        "%(num)d older link stopped working", "%(num)d older links stopped working", revoked
    )


def _text(request: OnboardingRequest, event: Event) -> tuple[str, str]:
    data = event.data or {}
    kind = event.kind
    step = _step_label(request, data["step"]) if data.get("step") else ""
    position = data.get("position", "")
    if kind == "created":
        channel = data.get("channel", "")
        return str(CREATED_THROUGH.get(channel, door_label(channel))), ""
    if kind == "status":
        to = status_label(data.get("to") or "")
        if data.get("from"):
            text = gettext(
                "Status: %(from)s → %(to)s", **{"from": status_label(data["from"]), "to": to}
            )
        else:
            text = gettext("Status: %(to)s", to=to)
        return text, reason_label(data.get("reason")) if data.get("reason") else ""
    if kind == "answer":
        question = QUESTION_LABELS.get(data.get("question", ""), data.get("question", ""))
        return gettext("Answered: %(question)s", question=question), str(data.get("value") or "")
    if kind == "information_corrected":
        before = ", ".join(f"{v}" for v in (data.get("before") or {}).values())
        after = ", ".join(f"{v}" for v in (data.get("after") or {}).values())
        return gettext("Details corrected"), gettext(
            "from %(before)s to %(after)s", before=before, after=after
        )
    if kind == "step_started":
        return gettext("Step %(position)s started: %(step)s", position=position, step=step), ""
    if kind == "step_done":
        return gettext("Step %(position)s done: %(step)s", position=position, step=step), ""
    if kind == "step_failed":
        reason = data.get("reason") or ""
        return (
            gettext("Step %(position)s failed: %(step)s", position=position, step=step),
            f"{reason_label(reason)} ({reason})",
        )
    if kind == "step_reset":
        return gettext(
            "Step %(position)s to be taken again (it was for the old device): %(step)s",
            position=position,
            step=step,
        ), ""
    if kind == "link_created":
        channel = str(CHANNEL_LABELS.get(data.get("channel", ""), data.get("channel", "")))
        revoked = int(data.get("revoked") or 0)
        return gettext("New consent link (%(channel)s)", channel=channel), _stopped(revoked)
    if kind == "message_sent":
        channel = str(CHANNEL_LABELS.get(data.get("channel", ""), data.get("channel", "")))
        revoked = int(data.get("revoked") or 0)
        return gettext(
            "Consent link sent by %(channel)s to %(to)s", channel=channel, to=data.get("to", "")
        ), _stopped(revoked)
    if kind == "cancel_reason":
        reason = data.get("reason") or ""
        return gettext("Reason for canceling"), str(CANCEL_REASONS.get(reason, reason))
    if kind == "entity_created":
        return gettext("Device connected"), ""
    if kind == "offboarded":
        return gettext("Device disconnected"), str(data.get("reason") or "")
    if kind == "callback_rejected":
        return gettext("A manufacturer's message was not acted on"), ""
    if kind == "reminder_sent":
        return gettext("Reminder %(number)s sent to the owner", number=data.get("number", "")), ""
    if kind == "note":
        return gettext("Internal note"), str(data.get("text") or "")
    return kind, ""


def timeline(request: OnboardingRequest) -> list[Line]:
    """Every event of the request, oldest first, in words."""
    events = list(request.events)
    users = _users(events)
    lines = []
    for event in events:
        actor, door = _actor(event.actor, users, request)
        text, detail = _text(request, event)
        lines.append(Line(event.at, event.kind, text, actor, door, detail))
    return lines
