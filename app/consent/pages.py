"""The hosted consent pages: where the owner (signed in, or through a consent link) sees
the steps, takes them, and lands when the device is connected.

A partner's `redirectLink`, an installer's hand-over and a support resend all lead here.
The URLs stay under /onboarding/<id>/, where owners' bookmarks and messages point.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.catalog import current_catalog
from app.consent import bp
from app.consent.steps import OpenStep, handler_for, step_label
from app.consent.steps.app_consent import AppConsent
from app.consent.steps.base import scope_of
from app.consent.urls import resume_url
from app.extensions import db, login_manager
from app.forms import ActionForm, form_errors
from app.htmx import follow, is_htmx, render
from app.i18n import translate
from app.models import OnboardingRequest
from app.onboarding import access
from app.onboarding.access import Action
from app.onboarding.errors import InvalidAnswers, OnboardingError
from app.onboarding.expiry import expire_on_open
from app.onboarding.lifecycle import cancel_request, decline_request
from app.onboarding.states import Door, Status, StepStatus
from app.onboarding.steps import (
    correct_information,
    current_step,
    step_available,
    steps_to_redo,
)
from app.security import current_principal

PREFIX = "/onboarding/<uuid:request_id>"

bp.add_app_template_global(step_label, "step_label")


def _request(request_id: uuid.UUID) -> OnboardingRequest | Response:
    """A request this browser may see: 404 for anyone else's, sign-in when nobody is."""
    principal = current_principal()
    onboarding = db.session.get(OnboardingRequest, request_id)
    if onboarding is None or not access.sees(principal, onboarding):
        if principal.user is None:
            return login_manager.unauthorized()
        abort(404)
    # A request past its time fails as `expired` when it is next opened.
    expire_on_open(onboarding)
    return onboarding


def _owners_only() -> Response:
    """A staff session on a consent step: it may look, never consent."""
    return render(
        "errors/error.html",
        title=gettext("This step is for the device's owner"),
        message=gettext("This step is for the device's owner. Hand them the link or the QR code."),
        status=403,
    )


@bp.errorhandler(OnboardingError)
def _not_allowed_now(error: OnboardingError) -> Response:
    """A change the request's state no longer allows: say so and show where it stands."""
    db.session.rollback()
    flash(translate(error), "info")
    request_id = (request.view_args or {}).get("request_id")
    return redirect(
        url_for("consent.resume", request_id=request_id) if request_id else url_for("main.home")
    )


@bp.get(f"{PREFIX}/continue")
def resume(request_id: uuid.UUID) -> Response:
    """Wherever this request stands now."""
    onboarding = _request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    return redirect(resume_url(onboarding))


@bp.get(f"{PREFIX}/consent")
def overview(request_id: uuid.UUID) -> Response:
    onboarding = _request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    if onboarding.status in (Status.DRAFT, Status.SUCCEEDED):
        return redirect(resume_url(onboarding))
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    principal = current_principal()
    return render(
        "consent/overview.html",
        onboarding=onboarding,
        manufacturer=manufacturer,
        current=current_step(onboarding),
        redo=steps_to_redo(onboarding),
        scope=scope_of(onboarding),
        # A request someone else asked for, nothing agreed yet: the page introduces it
        # (who asks, the device, what is asked, how long it takes).
        landing=(
            onboarding.channel != Door.WIZARD
            and onboarding.steps_done == 0
            and not onboarding.is_final
        ),
        can_decline=access.can(principal, Action.CANCEL, onboarding),
    )


def _open_step(request_id: uuid.UUID, position: int) -> OpenStep | Response:
    """The step at `position`, or where the request stands when it is done or not open."""
    onboarding = _request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    principal = current_principal()
    if onboarding.status == Status.DRAFT:
        return redirect(resume_url(onboarding))  # not sent yet: no steps to take
    step = next((s for s in onboarding.steps if s.position == position), None)
    if step is None:
        abort(404)
    if not access.can(principal, Action.CONSENT, onboarding):
        return _owners_only()
    if step.status == StepStatus.DONE or not step_available(onboarding, step):
        if request.method == "POST" and step.status == StepStatus.DONE:
            flash(gettext("That step is already done."), "info")
        return redirect(resume_url(onboarding))
    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    entity_type = catalog.entity_type(onboarding.type)
    assert manufacturer is not None and entity_type is not None
    return OpenStep(onboarding, step, manufacturer, entity_type, principal, handler_for(step.kind))


@bp.route(f"{PREFIX}/steps/<int:position>", methods=["GET", "POST"])
def step(request_id: uuid.UUID, position: int) -> Response:
    page = _open_step(request_id, position)
    if isinstance(page, Response):
        return page
    return page.handler.handle(page)


@bp.get(f"{PREFIX}/steps/<int:position>/status")
def step_status(request_id: uuid.UUID, position: int) -> Response:
    """The live status of a step waiting for the manufacturer (polled by the page)."""
    page = _open_step(request_id, position)
    if isinstance(page, Response):
        return follow(page.location or url_for("main.home"))
    if isinstance(page.handler, AppConsent) and page.handler.settle(page):
        return follow(page.next_url())
    if page.step.status != StepStatus.WAITING:
        return follow(url_for("consent.step", request_id=page.onboarding.id, position=position))
    if is_htmx():
        return render(page.handler.template, block="live_status", **page.context())
    return page.render([], form=ActionForm())


@bp.post(f"{PREFIX}/steps/<int:position>/identifier")
def correct_identifier(request_id: uuid.UUID, position: int) -> Response:
    """Correct the identifier after the device was not found on the account, then retry."""
    page = _open_step(request_id, position)
    if isinstance(page, Response):
        return page
    form = page.correction_form()
    if form is None:
        abort(404)
    if form.validate_on_submit():
        answers = {a.name: getattr(form, a.name).data for a in page.manufacturer.attributes}
        try:
            correct_information(page.onboarding, answers, current_catalog(), page.principal.actor)
        except InvalidAnswers as invalid:
            for name, error in invalid.errors.items():
                getattr(form, name).errors = [translate(error)]
        else:
            db.session.commit()
            flash(gettext("Saved. Try the connection again."), "success")
            return redirect(
                url_for("consent.step", request_id=page.onboarding.id, position=position)
            )
    return page.render(form_errors(form), form=ActionForm(), correction=form)


@bp.route(f"{PREFIX}/cancel", methods=["GET", "POST"])
def cancel(request_id: uuid.UUID) -> Response:
    """Cancel a request, after a confirmation page (a form: it works without JavaScript)."""
    onboarding = _request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    if not access.can(current_principal(), Action.CANCEL, onboarding):
        abort(404)
    if onboarding.is_final:
        return redirect(url_for("main.home"))
    form = ActionForm()
    if form.validate_on_submit():
        cancel_request(onboarding, current_principal().actor, reason="canceled by the owner")
        db.session.commit()
        flash(gettext("The request was canceled. Nothing was connected."), "info")
        return redirect(url_for("main.home"))
    return _confirm(onboarding, form, declining=False)


@bp.route(f"{PREFIX}/decline", methods=["GET", "POST"])
def decline(request_id: uuid.UUID) -> Response:
    """ "Not now": the owner declines the request a link brought them (Canceled, reason
    `declined`) and goes back to the partner's site when it gave a returnUrl."""
    onboarding = _request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    if not access.can(current_principal(), Action.CANCEL, onboarding):
        abort(404)
    if onboarding.is_final:
        return redirect(resume_url(onboarding))
    form = ActionForm()
    if form.validate_on_submit():
        decline_request(onboarding, current_principal().actor)
        # Where to go is known before the commit, which would expire the request.
        where = resume_url(onboarding)
        db.session.commit()
        flash(gettext("You declined the request. Nothing was connected."), "info")
        return redirect(where)
    return _confirm(onboarding, form, declining=True)


def _confirm(onboarding: OnboardingRequest, form: ActionForm, declining: bool) -> Response:
    return render(
        "consent/cancel.html",
        onboarding=onboarding,
        form=form,
        declining=declining,
        back_url=url_for("consent.overview", request_id=onboarding.id),
    )


@bp.get(f"{PREFIX}/done")
def done(request_id: uuid.UUID) -> Response:
    onboarding = _request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    if onboarding.status != Status.SUCCEEDED or onboarding.entity is None:
        return redirect(resume_url(onboarding))
    if not access.sees_done(current_principal(), onboarding):
        abort(404)
    catalog = current_catalog()
    return render(
        "consent/done.html",
        onboarding=onboarding,
        entity=onboarding.entity,
        entity_type=catalog.entity_type(onboarding.type),
        manufacturer=catalog.manufacturer(onboarding.type, onboarding.manufacturer),
        scope=scope_of(onboarding),
    )
