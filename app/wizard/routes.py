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

from app.catalog import Manufacturer, current_catalog
from app.consent import service as consent_service
from app.consent.steps.terms import TermsForm, agree, shown_terms, terms_changed
from app.consent.urls import resume_url
from app.extensions import db
from app.forms import ActionForm, ErrorList, details_form, device_notice, form_errors
from app.htmx import is_htmx, render
from app.i18n import in_sentence, translate
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
from app.onboarding.navigation import Place, after_declaration, declares_on_check
from app.onboarding.states import Status
from app.onboarding.steps import submit_request
from app.security import current_principal, safe_next
from app.wizard import bp, flow
from app.wizard.forms import NO_COLLECTIVE, CollectiveForm, ManufacturerForm, TypeForm


def _own_request(request_id: uuid.UUID, *options: ORMOption) -> OnboardingRequest:
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


def _question_or_redirect(
    request_id: uuid.UUID, name: str, *options: ORMOption
) -> OnboardingRequest | Response:
    onboarding = _own_request(request_id, *options)
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


def _page(
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
    return _page(
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
    return redirect(resume_url(_own_request(request_id)))


@bp.route("/<uuid:request_id>/type", methods=["GET", "POST"])
@login_required
def type(request_id: uuid.UUID) -> Response:
    onboarding = _question_or_redirect(request_id, QUESTION_TYPE)
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
    onboarding = _question_or_redirect(request_id, QUESTION_MANUFACTURER)
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
    return _page(
        "wizard/manufacturer.html",
        onboarding,
        QUESTION_MANUFACTURER,
        form_errors(form),
        **context,
    )


@bp.route("/<uuid:request_id>/details", methods=["GET", "POST"])
@login_required
def details(request_id: uuid.UUID) -> Response:
    onboarding = _question_or_redirect(request_id, QUESTION_DETAILS)
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
    return _page(
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
    onboarding = _question_or_redirect(
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
    return _page(
        "wizard/collective.html",
        onboarding,
        QUESTION_COLLECTIVE,
        form_errors(form),
        form=form,
        options=options,
    )


# ---------------------------------------------------------------- check and submit


def _answers(onboarding: OnboardingRequest, manufacturer: Manufacturer | None) -> list[dict]:
    """The check-answers rows: label, value, and the question to change it."""
    catalog = current_catalog()
    entity_type = catalog.entity_type(onboarding.type)
    rows = [
        {
            "label": gettext("Device"),
            "value": gettext(entity_type.label) if entity_type else onboarding.type,
            "question": "wizard.type",
            "change": gettext("kind of device"),
        },
        {
            "label": gettext("Manufacturer"),
            "value": onboarding.manufacturer,
            "question": "wizard.manufacturer",
            "change": gettext("manufacturer"),
        },
    ]
    for attribute in manufacturer.attributes if manufacturer else ():
        value = onboarding.information.get(
            attribute.name, onboarding.properties.get(attribute.name)
        )
        if attribute.choices:
            value = next((gettext(c.label) for c in attribute.choices if c.value == value), value)
        rows.append(
            {
                "label": gettext(attribute.label),
                "value": value or gettext("Not given"),
                "question": "wizard.details",
                "change": in_sentence(gettext(attribute.label)),
            }
        )
    if entity_type is not None and drafts.only_manufacturer(entity_type.manufacturers):
        rows[1]["question"] = None  # the type's only manufacturer: nothing to change
    if drafts.offers_collective(onboarding):
        rows.append(
            {
                "label": gettext("Group"),
                "value": (
                    onboarding.collective.name if onboarding.collective else gettext("No group")
                ),
                "question": "wizard.collective",
                "change": gettext("group"),
            }
        )
    return rows


@bp.route("/<uuid:request_id>/check", methods=["GET", "POST"])
@login_required
def check(request_id: uuid.UUID) -> Response:
    """Check answers, then the declaration: agreeing to the terms here sends the request,
    records the terms step's evidence and goes straight on to the manufacturer."""
    onboarding = _question_or_redirect(request_id, flow.CHECK)
    if isinstance(onboarding, Response):
        return onboarding
    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    entity_type = catalog.entity_type(onboarding.type)
    assert manufacturer is not None and entity_type is not None
    declaration = declares_on_check([spec.kind for spec in manufacturer.steps])
    terms, language = shown_terms(onboarding, entity_type, manufacturer)
    form = TermsForm(data={"version": terms.version if declaration else ""})
    if form.validate_on_submit():
        # The version comes only with the declaration shown; without it the request is
        # sent and the terms are agreed on their own page.
        posted = request.form.get("version", "")
        agreed = declaration and bool(posted)
        if agreed and posted != terms.version:
            terms_changed()
            return redirect(request.path)
        actor = current_principal().actor
        try:
            submit_request(onboarding, catalog, actor)
        except InvalidAnswers:
            # An answer no longer passes (the rules changed): ask it again.
            db.session.rollback()
            drafts.ask_again(onboarding, QUESTION_DETAILS)
            db.session.commit()
            flash(gettext("Please check these details again."), "info")
            return redirect(resume_url(onboarding))
        if agreed:
            agree(onboarding, onboarding.steps[0], terms, language, actor)
        return _after_check(onboarding, manufacturer)
    return _page(
        "wizard/check.html",
        onboarding,
        flow.CHECK,
        [],
        form=form,
        rows=_answers(onboarding, manufacturer),
        manufacturer=manufacturer,
        terms=terms if declaration else None,
        next_step=manufacturer.steps[1] if declaration and len(manufacturer.steps) > 1 else None,
    )


def _after_check(onboarding: OnboardingRequest, manufacturer: Manufacturer) -> Response:
    where = after_declaration(onboarding)
    if where.place == Place.MANUFACTURER:
        step = next(s for s in onboarding.steps if s.position == where.position)
        url = consent_service.start_redirect(
            onboarding, step, manufacturer, current_principal().actor
        )
        db.session.commit()
        return redirect(url)
    if where.place == Place.STEP:
        url = url_for("consent.step", request_id=onboarding.id, position=where.position)
    else:
        url = resume_url(onboarding)
    db.session.commit()
    return redirect(url)


# ---------------------------------------------------------------- discard a draft


@bp.route("/<uuid:request_id>/discard", methods=["GET", "POST"])
@login_required
def discard(request_id: uuid.UUID) -> Response:
    """Throw a Draft away, after a confirmation page (a form: it works without JavaScript)."""
    onboarding = _own_request(request_id)
    if onboarding.status != Status.DRAFT:
        return redirect(resume_url(onboarding))
    form = ActionForm()
    if form.validate_on_submit():
        drafts.discard_draft(onboarding, current_principal().actor)
        db.session.commit()
        flash(gettext("The draft was discarded."), "info")
        return redirect(url_for("main.home"))
    return render(
        "wizard/discard.html",
        onboarding=onboarding,
        form=form,
        # Keeping it goes back where the owner came from (home or check answers).
        back_url=safe_next(request.args.get("next")) or url_for("main.home"),
    )
