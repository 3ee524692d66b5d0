"""The web wizard: one URL per question, a redirect after every POST."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.wrappers import Response

from app.catalog import current_catalog
from app.consent.urls import resume_url
from app.extensions import db
from app.forms import ErrorList, details_form, device_notice, form_errors
from app.htmx import is_htmx, render
from app.i18n import translate
from app.models import OnboardingRequest, Tenant
from app.onboarding import access, devices, drafts, makers
from app.onboarding.access import Action
from app.onboarding.drafts import (
    QUESTION_COLLECTIVE,
    QUESTION_DETAILS,
    QUESTION_MANUFACTURER,
    QUESTION_TYPE,
)
from app.onboarding.errors import InvalidAnswers, OnboardingError
from app.onboarding.expiry import expire_on_open
from app.onboarding.states import Status
from app.security import current_principal
from app.wizard import bp, flow
from app.wizard.forms import NO_COLLECTIVE, CollectiveForm, ManufacturerForm, TypeForm


def own_request(request_id: uuid.UUID, *options: ORMOption) -> OnboardingRequest:
    """A request whose questions this person answers; 404 for anyone else's."""
    principal = current_principal()
    # Whether the tenant has groups (which questions apply) comes in the same statement.
    found = (
        db.session.execute(
            select(OnboardingRequest, drafts.TENANT_HAS_COLLECTIVES)
            .where(OnboardingRequest.id == request_id, access.request_filter(principal))
            .options(*options)
        )
        .unique()
        .first()
    )
    if found is None:
        abort(404)
    onboarding, has_collectives = found
    if not access.can(principal, Action.ANSWER, onboarding):
        abort(404)
    drafts.remember_tenant_has_collectives(onboarding.tenant_id, has_collectives)
    # A request past its time fails as `expired` when it is next opened.
    expire_on_open(onboarding)
    return onboarding


def question_or_redirect(
    request_id: uuid.UUID, name: str, *options: ORMOption
) -> OnboardingRequest | Response:
    onboarding = own_request(request_id, *options)
    if onboarding.status != Status.DRAFT:
        # A canceled or failed request's own page says why; "already sent" would not.
        if request.method == "POST" and onboarding.status not in (Status.CANCELED, Status.FAILED):
            flash(gettext("Your answers were already sent, so they were not changed."), "info")
        return redirect(resume_url(onboarding))
    if not flow.can_visit(onboarding, name):
        return redirect(resume_url(onboarding))
    return onboarding


def _after_answer(onboarding: OnboardingRequest) -> Response:
    # Where to go is known before the commit, which would expire (and reload) the request.
    where = resume_url(onboarding)
    db.session.commit()
    return redirect(where)


def question_page(
    template: str,
    onboarding: OnboardingRequest | None,
    name: str,
    errors: ErrorList,
    **context: Any,
) -> Response:
    if onboarding is not None:
        context["step_number"], context["step_count"] = flow.progress(onboarding, name)
        context["back_url"] = flow.previous_url(onboarding, name)
    else:
        # No request yet: count as the next pages will when every question applies, the
        # check page included.
        context["step_number"], context["step_count"] = 1, len(drafts.QUESTIONS) + 1
        context["back_url"] = url_for("main.home")
    return render(
        template, onboarding=onboarding, errors=errors, status=422 if errors else 200, **context
    )


@bp.errorhandler(OnboardingError)
def _not_allowed_now(error: OnboardingError) -> Response:
    """A change the request's state no longer allows: say so and show where it stands."""
    db.session.rollback()
    flash(translate(error), "info")
    request_id = (request.view_args or {}).get("request_id")
    return redirect(
        url_for("wizard.resume", request_id=request_id) if request_id else url_for("main.home")
    )


# ---------------------------------------------------------------- questions


def _type_page(form: TypeForm, onboarding: OnboardingRequest | None) -> Response:
    catalog = current_catalog()
    options = [(t.id, gettext(t.label), gettext(t.description)) for t in catalog.types.values()]
    return question_page(
        "wizard/type.html",
        onboarding,
        QUESTION_TYPE,
        form_errors(form),
        form=form,
        options=options,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def start() -> Response:
    form = TypeForm(current_catalog())
    if form.validate_on_submit():
        onboarding = drafts.start_draft(
            current_user.tenant,
            current_user,
            form.type.data,
            current_catalog(),
            current_principal().actor,
        )
        return _after_answer(onboarding)
    return _type_page(form, None)


@bp.get("/<uuid:request_id>")
@login_required
def resume(request_id: uuid.UUID) -> Response:
    return redirect(resume_url(own_request(request_id)))


@bp.route("/<uuid:request_id>/type", methods=["GET", "POST"])
@login_required
def type(request_id: uuid.UUID) -> Response:
    onboarding = question_or_redirect(request_id, QUESTION_TYPE)
    if isinstance(onboarding, Response):
        return onboarding
    form = TypeForm(current_catalog(), data={"type": onboarding.type})
    if form.validate_on_submit():
        drafts.choose_type(onboarding, form.type.data, current_catalog(), current_principal().actor)
        return _after_answer(onboarding)
    return _type_page(form, onboarding)


@bp.route("/<uuid:request_id>/manufacturer", methods=["GET", "POST"])
@login_required
def manufacturer(request_id: uuid.UUID) -> Response:
    onboarding = question_or_redirect(request_id, QUESTION_MANUFACTURER)
    if isinstance(onboarding, Response):
        return onboarding
    entity_type = current_catalog().entity_type(onboarding.type)
    assert entity_type is not None
    names = list(entity_type.manufacturers)
    form = ManufacturerForm(names, data={"manufacturer": onboarding.manufacturer})
    if form.validate_on_submit():
        drafts.choose_manufacturer(
            onboarding, form.manufacturer.data, current_catalog(), current_principal().actor
        )
        return _after_answer(onboarding)
    query = (request.args.get("q") or "").strip()
    shown = [n for n in names if query.casefold() in n.casefold()] if query else names
    context: dict[str, Any] = {
        "form": form,
        "entity_type": entity_type,
        "shown": shown,
        "query": query,
    }
    if is_htmx() and request.headers.get("HX-Target") == "manufacturer-options":
        return render("wizard/manufacturer.html", block="options", onboarding=onboarding, **context)
    return question_page(
        "wizard/manufacturer.html",
        onboarding,
        QUESTION_MANUFACTURER,
        form_errors(form),
        **context,
    )


@bp.route("/<uuid:request_id>/details", methods=["GET", "POST"])
@login_required
def details(request_id: uuid.UUID) -> Response:
    onboarding = question_or_redirect(request_id, QUESTION_DETAILS)
    if isinstance(onboarding, Response):
        return onboarding
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    assert manufacturer is not None
    form = details_form(manufacturer, data={**onboarding.information, **onboarding.properties})
    errors: ErrorList = []
    notice: dict[str, Any] | None = None
    if form.validate_on_submit():
        answers = {a.name: getattr(form, a.name).data for a in manufacturer.attributes}
        try:
            drafts.give_details(onboarding, answers, current_catalog(), current_principal().actor)
        except InvalidAnswers as invalid:
            for name, error in invalid.errors.items():
                getattr(form, name).errors = [translate(error)]
        else:
            taken = devices.device_taken(onboarding)
            # A connected device may be connected again on purpose: that renews it.
            if taken is not None and not (
                taken.entity is not None and request.form.get("renew") == "1"
            ):
                notice = _device_notice(taken, manufacturer.device_id(onboarding.information) or "")
                db.session.rollback()  # nothing kept; the form still holds what was typed
            elif makers.vin_mismatch(onboarding, current_catalog()) is not None:
                # The VIN names another maker: ask once whether to continue or switch.
                db.session.commit()
                return redirect(url_for("wizard.vin_maker", request_id=onboarding.id))
            else:
                return _after_answer(onboarding)
    errors = form_errors(form)
    return question_page(
        "wizard/details.html",
        onboarding,
        QUESTION_DETAILS,
        errors,
        form=form,
        manufacturer=manufacturer,
        notice=notice,
    )


def _device_notice(taken: devices.DeviceTaken, device_id: str) -> dict[str, Any]:
    """What the identifier step tells the owner about a device the tenant already has."""
    return device_notice(
        taken,
        device_id,
        request_url=resume_url,
        entity_url=lambda entity: url_for("main.home", _anchor=f"device-{entity.id}"),
    )


COLLECTIVE_KINDS = {"Household": _l("Household"), "Community": _l("Community")}


@bp.route("/<uuid:request_id>/collective", methods=["GET", "POST"])
@login_required
def collective(request_id: uuid.UUID) -> Response:
    # The tenant's groups come with the request, in one statement.
    onboarding = question_or_redirect(
        request_id,
        QUESTION_COLLECTIVE,
        joinedload(OnboardingRequest.tenant).joinedload(Tenant.collectives),
    )
    if isinstance(onboarding, Response):
        return onboarding
    collectives = onboarding.tenant.collectives
    chosen = None
    if QUESTION_COLLECTIVE in onboarding.answered:
        chosen = str(onboarding.collective_id) if onboarding.collective_id else NO_COLLECTIVE
    form = CollectiveForm([(str(c.id), c.name) for c in collectives], data={"collective": chosen})
    if form.validate_on_submit():
        value = form.collective.data
        # The form took only one of these, all the request's tenant's.
        group = next((c for c in collectives if str(c.id) == value), None)
        drafts.choose_collective(onboarding, group, current_principal().actor)
        return _after_answer(onboarding)
    options = [(str(c.id), c.name, COLLECTIVE_KINDS.get(c.kind, c.kind)) for c in collectives]
    options.append((NO_COLLECTIVE, gettext("No group"), None))
    return question_page(
        "wizard/collective.html",
        onboarding,
        QUESTION_COLLECTIVE,
        form_errors(form),
        form=form,
        options=options,
    )
