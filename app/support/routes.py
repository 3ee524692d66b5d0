"""The support console's pages: the requests list, one request, its actions, the funnel.

Only support staff and admins reach them, for their own tenant; anyone else gets 404.
Every action checks `access.can` and is recorded on the request's timeline with the
support person as actor.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import format_number, format_timedelta, gettext
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.catalog import current_catalog
from app.consent import links
from app.consent.forms import SendLinkForm
from app.consent.links import LinkChannel
from app.consent.messages import messages_of
from app.consent.steps import step_label
from app.extensions import db
from app.forms import ActionForm, details_form, form_errors, save_correction
from app.htmx import is_htmx, render
from app.models import ConsentLink, Event, OnboardingRequest, utcnow
from app.onboarding import access, console
from app.onboarding.access import Action, Principal
from app.onboarding.audit import record_event
from app.onboarding.lifecycle import cancel_request
from app.onboarding.states import Door, Status
from app.security import current_principal
from app.support import bp
from app.support.describe import (
    CANCEL_REASONS,
    DOOR_LABELS,
    QUESTION_LABELS,
    door_label,
    step_status_label,
    timeline,
    where_stalled,
    why_stalled,
)
from app.support.forms import (
    FUNNEL_DAYS,
    OTHER_REASON,
    CancelForm,
    NoteForm,
    filters_from,
    funnel_filters_from,
)

bp.add_app_template_global(door_label, "door_label")


@bp.app_template_filter("number")
def number(value: int) -> str:
    """1,000 / 1.000 / 1 000 as the page's language writes it."""
    return str(format_number(value))


@bp.app_template_filter("age")
def age(value: datetime) -> str:
    """How long ago, in words of the page's language ("3 days")."""
    return format_timedelta(utcnow() - value, threshold=1.1)


def _support() -> Principal:
    """The support person asking; 404 for anyone else (the console does not exist for them)."""
    principal = current_principal()
    if not principal.is_support:
        abort(404)
    return principal


def _stalled_after() -> timedelta:
    after: timedelta = current_app.config["STALLED_AFTER"]
    return after


def _request(request_id: uuid.UUID, action: Action = Action.VIEW) -> OnboardingRequest:
    principal = _support()
    onboarding = console.find_request(principal, request_id)
    if onboarding is None or not access.can(principal, action, onboarding):
        abort(404)
    return onboarding


def _choices() -> dict[str, Any]:
    catalog = current_catalog()
    return {
        "types": list(catalog.types.values()),
        "manufacturers": sorted(
            {m.name for t in catalog.types.values() for m in t.manufacturers.values()}
        ),
        "doors": [(d.value, DOOR_LABELS[d.value]) for d in Door],
        "statuses": [s.value for s in Status],
    }


# ---------------------------------------------------------------- the list


@bp.get("/")
@login_required
def requests() -> Response:
    """The tenant's requests: stalled first by default, searched and filtered by the URL."""
    principal = _support()
    filters, errors = filters_from(request.args)
    stalled_after = _stalled_after()
    page = console.list_requests(
        principal, filters, stalled_after, console.Cursor.parse(request.args.get("after"))
    )
    counts = console.status_counts(principal, filters, stalled_after)
    args = {k: v for k, v in request.args.items() if v and k != "after"}
    context = {
        "filters": filters,
        "errors": errors,
        "page": page,
        "counts": counts,
        "count_cap": console.COUNT_CAP,
        "args": args,
        "first_page": "after" in request.args,
        "where_stalled": where_stalled,
        "why_stalled": why_stalled,
        "stalled": lambda r: console.is_stalled(r, stalled_after),
        "stalled_hours": int(stalled_after.total_seconds() // 3600),
        **_choices(),
    }
    # The filter form updates only the results in place; anything else swaps the page.
    block = "results" if is_htmx() and request.headers.get("HX-Target") == "results" else "main"
    return render("support/requests.html", block=block, **context)


# ---------------------------------------------------------------- one request


def _list_url() -> str:
    """The list the person came from, with its filters and page; else the stalled list."""
    came_from = urlsplit(request.referrer or "")
    path = url_for("support.requests")
    if came_from.netloc == request.host and came_from.path == path:
        return urlunsplit(("", "", path, came_from.query, ""))
    return path


def _page(onboarding: OnboardingRequest, status: int = 200, **extra: Any) -> Response:
    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    shown: ConsentLink | None = None
    shown_id = request.args.get("link")
    if shown_id:
        try:
            candidate = db.session.get(ConsentLink, uuid.UUID(shown_id))
        except ValueError:
            candidate = None
        if candidate is not None and candidate.request_id == onboarding.id:
            shown = candidate if links.is_usable(candidate) else None
    send_form = extra.pop("send_form", None) or SendLinkForm(
        formdata=None, data={"channel": "email", "to": onboarding.email or ""}
    )
    context = {
        "onboarding": onboarding,
        "list_url": _list_url(),
        "manufacturer": manufacturer,
        "attributes": manufacturer.attributes if manufacturer else (),
        "lines": timeline(onboarding),
        "links": links.links_of(onboarding),
        "messages": messages_of(onboarding),
        "link_usable": links.is_usable,
        "link_expires": links.expires_at,
        "shown_link": shown,
        "shown_url": links.link_url(shown) if shown else None,
        "send_form": send_form,
        "note_form": extra.pop("note_form", None) or NoteForm(formdata=None),
        "action_form": ActionForm(),
        "where_stalled": where_stalled,
        "why_stalled": why_stalled,
        "step_status_label": step_status_label,
        "stalled": console.is_stalled(onboarding, _stalled_after()),
        "errors": extra.pop("errors", []),
        **extra,
    }
    return render("support/request.html", status=status, **context)


@bp.get("/requests/<uuid:request_id>")
@login_required
def request_page(request_id: uuid.UUID) -> Response:
    """Everything about one request: answers, steps, entity, links and its timeline."""
    return _page(_request(request_id))


@bp.post("/requests/<uuid:request_id>/send-link")
@login_required
def send_link(request_id: uuid.UUID) -> Response:
    """Send a new consent link by email or text message; older links stop working."""
    onboarding = _request(request_id, Action.RESEND_LINK)
    form = SendLinkForm()
    sent = form.send(onboarding, current_principal().actor, replace=True)
    if sent is not None:
        flash(
            gettext(
                "A new link was sent to %(to)s. Older links no longer work.",
                to=sent.message.recipient,
            ),
            "success",
        )
        return redirect(url_for("support.request_page", request_id=onboarding.id))
    return _page(onboarding, 422, send_form=form, errors=form_errors(form))


@bp.post("/requests/<uuid:request_id>/show-link")
@login_required
def show_link(request_id: uuid.UUID) -> Response:
    """Show the owner's link as a QR code or to copy: the one already given out (the same
    on a retry), or a new one when none has long enough left; nothing is revoked."""
    onboarding = _request(request_id, Action.RESEND_LINK)
    if not ActionForm().validate_on_submit():
        abort(400)
    if onboarding.is_final or onboarding.status == Status.DRAFT:
        flash(gettext("This request has nothing to consent to now."), "info")
        return redirect(url_for("support.request_page", request_id=onboarding.id))
    link = links.current_link(onboarding, current_principal().actor, LinkChannel.SHOWN)
    db.session.commit()
    return redirect(
        url_for("support.request_page", request_id=onboarding.id, link=str(link.id)) + "#new-link"
    )


@bp.route("/requests/<uuid:request_id>/identifier", methods=["GET", "POST"])
@login_required
def fix_identifier(request_id: uuid.UUID) -> Response:
    """Correct the device's details: the wizard's rules; steps done for the old device reset."""
    onboarding = _request(request_id, Action.FIX_IDENTIFIER)
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    if manufacturer is None or not manufacturer.attributes or onboarding.is_final:
        flash(gettext("The details of this request cannot be changed now."), "info")
        return redirect(url_for("support.request_page", request_id=onboarding.id))
    answers = {**onboarding.information, **onboarding.properties}
    form = details_form(manufacturer, data=answers)
    reset = save_correction(onboarding, manufacturer, form, current_principal().actor)
    if reset is not None:
        if reset:
            redo = ", ".join(f"{s.position}. {step_label(s.kind, manufacturer)}" for s in reset)
            flash(
                gettext(
                    "Saved. The owner must take these steps again: %(steps)s. "
                    "Send them a new link.",
                    steps=redo,
                ),
                "success",
            )
        else:
            flash(gettext("Saved."), "success")
        return redirect(url_for("support.request_page", request_id=onboarding.id))
    errors = form_errors(form)
    return render(
        "support/identifier.html",
        onboarding=onboarding,
        manufacturer=manufacturer,
        form=form,
        errors=errors,
        status=422 if errors else 200,
    )


@bp.route("/requests/<uuid:request_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(request_id: uuid.UUID) -> Response:
    """Cancel the request with a reason, after a confirmation: it cannot be undone."""
    onboarding = _request(request_id, Action.CANCEL)
    if onboarding.is_final:
        # A retried cancel finds it done: its first answer said so, and the page does.
        if not (request.method == "POST" and onboarding.status == Status.CANCELED):
            flash(gettext("This request is finished; it cannot be canceled."), "info")
        return redirect(url_for("support.request_page", request_id=onboarding.id))
    form = CancelForm()
    if form.validate_on_submit():
        cancel_request(onboarding, current_principal().actor, reason=form.chosen_reason())
        db.session.commit()
        flash(gettext("The request was canceled."), "success")
        return redirect(url_for("support.request_page", request_id=onboarding.id))
    errors = form_errors(form)
    options = [(value, label, None) for value, label in CANCEL_REASONS.items()]
    options.append((OTHER_REASON, gettext("Another reason"), None))
    return render(
        "support/cancel.html",
        onboarding=onboarding,
        options=options,
        form=form,
        errors=errors,
        status=422 if errors else 200,
    )


@bp.post("/requests/<uuid:request_id>/notes")
@login_required
def add_note(request_id: uuid.UUID) -> Response:
    """An internal note on the timeline; never shown to the owner."""
    onboarding = _request(request_id, Action.ADD_NOTE)
    form = NoteForm()
    if form.validate_on_submit():
        key = form.submission_key.data
        notes = db.session.scalars(
            select(Event).where(Event.request_id == onboarding.id, Event.kind == "note")
        )
        if all(note.data.get("key") != key for note in notes):  # else a retry: added already
            record_event(
                onboarding, "note", current_principal().actor, text=form.text.data, key=key
            )
            db.session.commit()
        flash(gettext("The note was added."), "success")
        return redirect(url_for("support.request_page", request_id=onboarding.id) + "#timeline")
    return _page(onboarding, 422, note_form=form, errors=form_errors(form))


# ---------------------------------------------------------------- the funnel


@bp.get("/funnel")
@login_required
def funnel() -> Response:
    """How far the period's requests got, stage by stage: a chart and the same table."""
    principal = _support()
    filters = funnel_filters_from(request.args)
    stopped = console.funnel_counts(principal, filters)
    catalog = current_catalog()
    manufacturer = None
    if filters.type and filters.manufacturer:
        manufacturer = catalog.manufacturer(filters.type, filters.manufacturer)
    max_steps = max(
        (len(m.steps) for t in catalog.types.values() for m in t.manufacturers.values()),
        default=0,
    )
    stages: list[tuple[int, str]] = [(console.STAGE_CREATED, gettext("Created"))]
    stages += [
        (number, gettext("Answered: %(question)s", question=label))
        for number, label in enumerate(QUESTION_LABELS.values(), start=1)
    ]
    stages.append((console.STAGE_SUBMITTED, gettext("Sent to the owner")))
    if manufacturer is not None:
        stages += [
            (console.STAGE_SUBMITTED + spec_index, step_label_of_spec(manufacturer, spec.kind))
            for spec_index, spec in enumerate(manufacturer.steps, start=1)
        ]
    else:
        stages += [
            (console.STAGE_SUBMITTED + n, gettext("Consent step %(num)s done", num=n))
            for n in range(1, max_steps + 1)
        ]
    stages.append((console.STAGE_SUCCEEDED, gettext("Connected")))
    total = console.reached(stopped, console.STAGE_CREATED)
    rows = []
    previous = total
    for number, label in stages:
        got = console.reached(stopped, number)
        rows.append(
            {
                "stage": number,
                "label": label,
                "reached": got,
                "stopped": stopped.get(number, 0),
                "dropped": previous - got,
                "share": (got / total) if total else 0.0,
            }
        )
        previous = got
    since = filters.since().date()
    return render(
        "support/funnel.html",
        filters=filters,
        rows=rows,
        total=total,
        since=since,
        days_options=FUNNEL_DAYS,
        brands=console.brands_asked_for(principal, filters),
        **_choices(),
    )


def step_label_of_spec(manufacturer: Any, kind: str) -> str:
    return gettext("Done: %(step)s", step=step_label(kind, manufacturer))
