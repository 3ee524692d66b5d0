"""The installer's pages: their installations, starting one for a customer (device, then
identifier and customer, then check), and the request page that hands the consent link
over (QR code, email, text message) and shows the owner's steps as they land.

Every POST is safe to repeat: the start form carries a key (one request per key), sending
is idempotent, and sending a message carries its own key (one message per key). The
status fragments only read the database.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from app.catalog import current_catalog
from app.consent.forms import SendLinkForm
from app.consent.links import LinkChannel, current_link, link_url
from app.consent.messages import (
    MessageChannel,
    masked,
)
from app.extensions import db
from app.forms import ErrorList, form_errors
from app.htmx import is_htmx, render
from app.i18n import translate
from app.installer import bp
from app.messaging import sms_available
from app.models import OnboardingRequest, utcnow
from app.onboarding import access, installs
from app.onboarding.access import Action
from app.onboarding.errors import OnboardingError
from app.onboarding.expiry import expire_on_open
from app.onboarding.states import FailureReason, Status, StepStatus
from app.onboarding.steps import current_step, untried_correction
from app.security import current_principal
from app.templating import PAIRING_CODE_MISMATCH, reason_label

POLL_SECONDS = 3
RECENT_DAYS = 30


def installer_only() -> None:
    if not access.starts_for_customers(current_principal()):
        abort(404)


def install(request_id: uuid.UUID, action: Action = Action.VIEW) -> OnboardingRequest:
    """One of this installer's requests; 404 for anyone else's (other tenants included)."""
    principal = current_principal()
    onboarding = db.session.scalar(
        select(OnboardingRequest).where(
            OnboardingRequest.id == request_id, access.installs_filter(principal)
        )
    )
    if onboarding is None or not access.can(principal, action, onboarding):
        abort(404)
    return onboarding


def next_url(onboarding: OnboardingRequest) -> str:
    """Where the installer carries this request on."""
    if onboarding.status != Status.DRAFT:
        return url_for("installer.request_page", request_id=onboarding.id)
    if not installs.details_given(onboarding):
        return url_for("installer.details", request_id=onboarding.id)
    return url_for("installer.check", request_id=onboarding.id)


@bp.errorhandler(OnboardingError)
def _not_allowed_now(error: OnboardingError) -> Response:
    db.session.rollback()
    flash(translate(error), "info")
    request_id = (request.view_args or {}).get("request_id")
    return redirect(
        url_for("installer.request_page", request_id=request_id)
        if request_id
        else url_for("installer.home")
    )


# ---------------------------------------------------------------- home


# What the installer can do when the owner's step did not work, by its reason.
NEXT_MOVES = {
    FailureReason.DENIED: _l(
        "The owner refused access. If that was a mistake, they can try again from the same link."
    ),
    FailureReason.DEVICE_NOT_FOUND: _l(
        "Check the identifier with the owner and fix it here; then they try the step again."
    ),
    FailureReason.PROVIDER_ERROR: _l(
        "The owner can try again from the same link in a few minutes."
    ),
    PAIRING_CODE_MISMATCH: _l(
        "Check the pairing code on the device with the owner; they can try again from the "
        "same link."
    ),
}
ANY_NEXT_MOVE = _l("The owner can try again from the same link; send it again if they closed it.")
FIXED_NEXT_MOVE = _l(
    "The identifier is fixed: the owner can try the step again from the same link."
)


@dataclass(frozen=True)
class Trouble:
    """A step of the owner's that did not work: which, why, and what the installer can do."""

    step: str
    reason: str
    next_move: str
    fix_identifier: bool


def trouble(onboarding: OnboardingRequest) -> Trouble | None:
    step = installs.failed_step(onboarding)
    if step is None:
        return None
    from app.consent.steps import step_label

    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    code = step.failure_reason or ""
    fixed = untried_correction(step, catalog) is not None
    return Trouble(
        step=step_label(step.kind, manufacturer),
        reason=reason_label(code) if code else gettext("it did not work"),
        next_move=str(FIXED_NEXT_MOVE if fixed else NEXT_MOVES.get(code, ANY_NEXT_MOVE)),
        fix_identifier=not fixed
        and code == FailureReason.DEVICE_NOT_FOUND
        and can_fix_identifier(onboarding),
    )


def can_fix_identifier(onboarding: OnboardingRequest) -> bool:
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    return (
        manufacturer is not None
        and bool(manufacturer.attributes)
        and onboarding.status != Status.DRAFT
        and not onboarding.is_final
        and access.can(current_principal(), Action.FIX_IDENTIFIER, onboarding)
    )


def _waiting_on(onboarding: OnboardingRequest) -> str:
    """The owner's step a request waits on, in words ("" when there is none)."""
    step = current_step(onboarding) if not onboarding.is_final else None
    if step is None or onboarding.status == Status.DRAFT:
        return ""
    from app.consent.steps import step_label

    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    return step_label(step.kind, manufacturer)


def _installs() -> tuple[list[OnboardingRequest], list[OnboardingRequest]]:
    """(today's installations, the recent ones before today), newest first."""
    now = utcnow()
    since = now - timedelta(days=RECENT_DAYS)
    rows = db.session.scalars(
        select(OnboardingRequest)
        .where(
            access.installs_filter(current_principal()),
            OnboardingRequest.created_at >= since,
            # A start the installer discarded leaves the list (its timeline keeps it).
            (OnboardingRequest.status != Status.CANCELED)
            | OnboardingRequest.submitted_at.is_not(None),
        )
        .order_by(OnboardingRequest.created_at.desc())
        .limit(100)
        # Each card reads its steps (the one waited on, or the one that did not work).
        .options(selectinload(OnboardingRequest.steps))
    ).all()
    today = [r for r in rows if r.created_at.date() == now.date()]
    earlier = [r for r in rows if r.created_at.date() != now.date()]
    return today, earlier


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _home_fingerprint(today: list[OnboardingRequest], earlier: list[OnboardingRequest]) -> str:
    return _fingerprint(*((r.id, r.version) for r in [*today, *earlier]))


@bp.get("")
@login_required
def home() -> Response:
    installer_only()
    today, earlier = _installs()
    return render(
        "installer/home.html",
        today=today,
        earlier=earlier,
        seen=_home_fingerprint(today, earlier),
        waiting_on=_waiting_on,
        trouble=trouble,
        next_url=next_url,
        poll_seconds=POLL_SECONDS,
    )


@bp.get("/installs")
@login_required
def installs_list() -> Response:
    """The list of installations, for the home page to poll (reads only)."""
    installer_only()
    today, earlier = _installs()
    seen = _home_fingerprint(today, earlier)
    if is_htmx() and request.args.get("seen") == seen:
        return Response(status=204)  # nothing changed: nothing to swap or announce
    context: dict[str, Any] = {
        "today": today,
        "earlier": earlier,
        "seen": seen,
        "waiting_on": _waiting_on,
        "trouble": trouble,
        "next_url": next_url,
        "poll_seconds": POLL_SECONDS,
    }
    if is_htmx():
        return render("installer/home.html", block="installs", **context)
    return redirect(url_for("installer.home"))


# ---------------------------------------------------------------- hand over and watch


def _send_forms(onboarding: OnboardingRequest) -> dict[str, SendLinkForm]:
    """A send form per channel, filled in with the customer's address or number."""
    forms = {
        MessageChannel.EMAIL.value: SendLinkForm(
            prefix="email", formdata=None, data={"to": onboarding.email or ""}
        )
    }
    if sms_available():
        forms[MessageChannel.SMS.value] = SendLinkForm(
            prefix="sms", formdata=None, data={"to": onboarding.customer_mobile or ""}
        )
    return forms


def _status_context(onboarding: OnboardingRequest) -> dict[str, Any]:
    catalog = current_catalog()
    return {
        "onboarding": onboarding,
        "manufacturer": catalog.manufacturer(onboarding.type, onboarding.manufacturer),
        "current": current_step(onboarding),
        "trouble": trouble(onboarding),
        "can_fix_identifier": can_fix_identifier(onboarding),
        "seen": _fingerprint(onboarding.version, *(s.status for s in onboarding.steps)),
        "poll_seconds": POLL_SECONDS,
        "StepStatus": StepStatus,
    }


def _request_page(
    onboarding: OnboardingRequest,
    forms: dict[str, SendLinkForm] | None = None,
    errors: ErrorList | None = None,
) -> Response:
    context = _status_context(onboarding)
    url = None
    if not onboarding.is_final and access.can(current_principal(), Action.RESEND_LINK, onboarding):
        # The link shown stays the same across loads (a new one only when half its life is
        # gone); making one is a change, so this GET commits.
        url = link_url(current_link(onboarding, current_principal().actor, LinkChannel.SHOWN))
        db.session.commit()
    return render(
        "installer/request.html",
        url=url,
        send_forms=forms or _send_forms(onboarding),
        errors=errors or [],
        status=422 if errors else 200,
        **context,
    )


@bp.get("/<uuid:request_id>")
@login_required
def request_page(request_id: uuid.UUID) -> Response:
    onboarding = install(request_id)
    if onboarding.status == Status.DRAFT:
        return redirect(next_url(onboarding))
    expire_on_open(onboarding)
    return _request_page(onboarding)


@bp.get("/<uuid:request_id>/status")
@login_required
def request_status(request_id: uuid.UUID) -> Response:
    """Where the owner's steps stand, for the request page to poll (reads only)."""
    onboarding = install(request_id)
    context = _status_context(onboarding)
    if not is_htmx():
        return redirect(url_for("installer.request_page", request_id=onboarding.id))
    if request.args.get("seen") == context["seen"] and not onboarding.is_final:
        return Response(status=204)  # nothing changed: nothing to swap or announce
    return render("installer/request.html", block="live", **context)


@bp.post("/<uuid:request_id>/send")
@login_required
def send(request_id: uuid.UUID) -> Response:
    """Send the consent link by email or text message (the same form twice sends once)."""
    onboarding = install(request_id, Action.RESEND_LINK)
    prefix = "sms" if "sms-channel" in request.form else "email"
    forms = _send_forms(onboarding)
    if prefix not in forms:
        abort(404)  # text messages are not available here
    form = SendLinkForm(prefix=prefix)
    forms[prefix] = form
    actor = current_principal().actor
    sent = form.send(onboarding, actor)
    if sent is not None:
        recipient = sent.message.recipient
        is_email = sent.message.channel == MessageChannel.EMAIL
        # The address or number typed here is the customer's from now on (cleaned as sent).
        if installs.remember_contact(
            onboarding,
            actor,
            email=recipient if is_email else None,
            mobile=None if is_email else recipient,
        ):
            db.session.commit()
        to = masked(sent.message.channel, recipient)
        if sent.message.channel == MessageChannel.EMAIL:
            text = gettext("The link was sent by email to %(to)s.", to=to)
        else:
            text = gettext("The link was sent by text message to %(to)s.", to=to)
        flash(text, "success")
        return redirect(url_for("installer.request_page", request_id=onboarding.id))
    db.session.refresh(onboarding)
    return _request_page(onboarding, forms, form_errors(form))
