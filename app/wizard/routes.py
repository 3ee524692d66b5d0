"""The web wizard: one URL per question, a redirect after every POST."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.wrappers import Response

from app.catalog import EntityType, Manufacturer, current_catalog
from app.consent import links
from app.consent import service as consent_service
from app.extensions import db, login_manager
from app.htmx import follow, is_htmx, render
from app.i18n import LANGUAGES, current_language, in_sentence, translate
from app.identifiers import IdentifierError
from app.models import ConsentStep, OnboardingRequest, Tenant
from app.onboarding import services
from app.onboarding.services import OWNER_LINK, Actor, InvalidAnswers, OnboardingError
from app.onboarding.states import Status, StepStatus
from app.onboarding.terms import terms_for
from app.wizard import bp, flow
from app.wizard.forms import (
    NO_COLLECTIVE,
    ActionForm,
    CollectiveForm,
    ManufacturerForm,
    PairingForm,
    TermsForm,
    TypeForm,
    details_form,
)

ErrorList = list[tuple[str, str]]


def _actor() -> Actor:
    if current_user.is_authenticated:
        return Actor.user(current_user)
    return OWNER_LINK


def _consent_request(request_id: uuid.UUID) -> OnboardingRequest:
    """A request whose consent pages this browser may open: its owner's, or through a link."""
    onboarding = db.session.get(OnboardingRequest, request_id)
    if onboarding is None or (onboarding.status == Status.DRAFT and not _is_owner(onboarding)):
        abort(404)
    if not (links.is_granted(onboarding.id) or _is_owner(onboarding)):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        abort(404)
    _expire_if_due(onboarding)
    return onboarding


def _is_owner(onboarding: OnboardingRequest) -> bool:
    return (
        current_user.is_authenticated
        and onboarding.tenant_id == current_user.tenant_id
        and onboarding.owner_id == current_user.id
    )


def _own_request(request_id: uuid.UUID, *options: ORMOption) -> OnboardingRequest:
    """The signed-in person's request; 404 for anyone else's (another tenant's too)."""
    found = (
        db.session.execute(
            select(OnboardingRequest, flow.TENANT_HAS_COLLECTIVES)
            .where(
                OnboardingRequest.id == request_id,
                OnboardingRequest.tenant_id == current_user.tenant_id,
                OnboardingRequest.owner_id == current_user.id,
            )
            .options(*options)
        )
        .unique()
        .first()
    )
    if found is None:
        abort(404)
    onboarding, has_collectives = found
    flow.remember_tenant_has_collectives(onboarding.tenant_id, has_collectives)
    _expire_if_due(onboarding)
    return onboarding


def _expire_if_due(onboarding: OnboardingRequest) -> None:
    """A request past its time fails as `expired` when it is next opened."""
    if services.expire_if_due(onboarding, current_app.config["REQUEST_EXPIRES_AFTER"]):
        db.session.commit()


def _question_or_redirect(
    request_id: uuid.UUID, name: str, *options: ORMOption
) -> OnboardingRequest | Response:
    onboarding = _own_request(request_id, *options)
    if onboarding.status != Status.DRAFT:
        # A canceled or failed request's own page says why; "already sent" would not.
        if request.method == "POST" and onboarding.status not in (Status.CANCELED, Status.FAILED):
            flash(gettext("Your answers were already sent, so they were not changed."), "info")
        return redirect(flow.resume_url(onboarding))
    if not flow.can_visit(onboarding, name):
        return redirect(flow.resume_url(onboarding))
    return onboarding


def _after_answer(onboarding: OnboardingRequest) -> Response:
    # Where to go is known before the commit, which would expire (and reload) the request.
    where = flow.resume_url(onboarding)
    db.session.commit()
    return redirect(where)


def _form_errors(form: Any) -> ErrorList:
    return [
        (getattr(form, name).id, messages[0])
        for name, messages in form.errors.items()
        if messages and hasattr(form, name)
    ]


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
        # No request yet: count as the next pages will, the check page included, and
        # the group question only when the tenant has groups.
        count = len(flow.QUESTIONS) + (
            1 if flow.tenant_has_collectives(current_user.tenant_id) else 0
        )
        context["step_number"], context["step_count"] = 1, count
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
        services.QUESTION_TYPE,
        _form_errors(form),
        form=form,
        options=options,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def start() -> Response:
    form = TypeForm(current_catalog())
    if form.validate_on_submit():
        onboarding = services.start_draft(
            current_user.tenant, current_user, form.type.data, current_catalog(), _actor()
        )
        return _after_answer(onboarding)
    return _type_page(form, None)


@bp.get("/<uuid:request_id>")
@login_required
def resume(request_id: uuid.UUID) -> Response:
    return redirect(flow.resume_url(_own_request(request_id)))


@bp.route("/<uuid:request_id>/type", methods=["GET", "POST"])
@login_required
def type(request_id: uuid.UUID) -> Response:
    onboarding = _question_or_redirect(request_id, services.QUESTION_TYPE)
    if isinstance(onboarding, Response):
        return onboarding
    form = TypeForm(current_catalog(), data={"type": onboarding.type})
    if form.validate_on_submit():
        services.choose_type(onboarding, form.type.data, current_catalog(), _actor())
        return _after_answer(onboarding)
    return _type_page(form, onboarding)


@bp.route("/<uuid:request_id>/manufacturer", methods=["GET", "POST"])
@login_required
def manufacturer(request_id: uuid.UUID) -> Response:
    onboarding = _question_or_redirect(request_id, services.QUESTION_MANUFACTURER)
    if isinstance(onboarding, Response):
        return onboarding
    entity_type = current_catalog().entity_type(onboarding.type)
    assert entity_type is not None
    names = list(entity_type.manufacturers)
    form = ManufacturerForm(names, data={"manufacturer": onboarding.manufacturer})
    if form.validate_on_submit():
        services.choose_manufacturer(
            onboarding, form.manufacturer.data, current_catalog(), _actor()
        )
        return _after_answer(onboarding)
    query = (request.args.get("q") or "").strip()
    shown = [n for n in names if query.casefold() in n.casefold()] if query else names
    context = {"form": form, "entity_type": entity_type, "shown": shown, "query": query}
    if is_htmx() and request.headers.get("HX-Target") == "manufacturer-options":
        return render("wizard/manufacturer.html", block="options", onboarding=onboarding, **context)
    return _page(
        "wizard/manufacturer.html",
        onboarding,
        services.QUESTION_MANUFACTURER,
        _form_errors(form),
        **context,
    )


@bp.route("/<uuid:request_id>/details", methods=["GET", "POST"])
@login_required
def details(request_id: uuid.UUID) -> Response:
    onboarding = _question_or_redirect(request_id, services.QUESTION_DETAILS)
    if isinstance(onboarding, Response):
        return onboarding
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    assert manufacturer is not None
    form = details_form(manufacturer, data={**onboarding.information, **onboarding.properties})
    errors: ErrorList = []
    if form.validate_on_submit():
        answers = {a.name: getattr(form, a.name).data for a in manufacturer.attributes}
        try:
            services.give_details(onboarding, answers, current_catalog(), _actor())
        except InvalidAnswers as invalid:
            for name, error in invalid.errors.items():
                getattr(form, name).errors = [translate(error)]
        else:
            return _after_answer(onboarding)
    errors = _form_errors(form)
    return _page(
        "wizard/details.html",
        onboarding,
        services.QUESTION_DETAILS,
        errors,
        form=form,
        manufacturer=manufacturer,
    )


COLLECTIVE_KINDS = {"Household": _l("Household"), "Community": _l("Community")}


@bp.route("/<uuid:request_id>/collective", methods=["GET", "POST"])
@login_required
def collective(request_id: uuid.UUID) -> Response:
    # The tenant's groups come with the request, in one statement.
    onboarding = _question_or_redirect(
        request_id,
        services.QUESTION_COLLECTIVE,
        joinedload(OnboardingRequest.tenant).joinedload(Tenant.collectives),
    )
    if isinstance(onboarding, Response):
        return onboarding
    collectives = onboarding.tenant.collectives
    chosen = None
    if services.QUESTION_COLLECTIVE in onboarding.answered:
        chosen = str(onboarding.collective_id) if onboarding.collective_id else NO_COLLECTIVE
    form = CollectiveForm([(str(c.id), c.name) for c in collectives], data={"collective": chosen})
    if form.validate_on_submit():
        value = form.collective.data
        # The form took only one of these, all the request's tenant's.
        group = next((c for c in collectives if str(c.id) == value), None)
        services.choose_collective(onboarding, group, _actor())
        return _after_answer(onboarding)
    options = [(str(c.id), c.name, COLLECTIVE_KINDS.get(c.kind, c.kind)) for c in collectives]
    options.append((NO_COLLECTIVE, gettext("No group"), None))
    return _page(
        "wizard/collective.html",
        onboarding,
        services.QUESTION_COLLECTIVE,
        _form_errors(form),
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
    if any(q.name == services.QUESTION_COLLECTIVE for q in flow.applicable(onboarding)):
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
    onboarding = _question_or_redirect(request_id, flow.CHECK)
    if isinstance(onboarding, Response):
        return onboarding
    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    form = ActionForm()
    errors: ErrorList = []
    if form.validate_on_submit():
        try:
            services.submit_request(onboarding, catalog, _actor())
        except InvalidAnswers:
            # An answer no longer passes (the rules changed): ask it again.
            db.session.rollback()
            onboarding.answered = [n for n in onboarding.answered if n != services.QUESTION_DETAILS]
            db.session.commit()
            flash(gettext("Please check these details again."), "info")
            return redirect(flow.resume_url(onboarding))
        db.session.commit()
        return redirect(url_for("wizard.consent", request_id=onboarding.id))
    return _page(
        "wizard/check.html",
        onboarding,
        flow.CHECK,
        errors,
        form=form,
        rows=_answers(onboarding, manufacturer),
        manufacturer=manufacturer,
    )


@bp.post("/<uuid:request_id>/cancel")
@login_required
def cancel(request_id: uuid.UUID) -> Response:
    onboarding = _own_request(request_id)
    form = ActionForm()
    if form.validate_on_submit() and not onboarding.is_final:
        services.cancel_request(onboarding, _actor(), reason="canceled by the owner")
        db.session.commit()
        flash(gettext("The request was canceled. Nothing was connected."), "info")
    return redirect(url_for("main.home"))


# ---------------------------------------------------------------- consent


def _step_label(kind: str, manufacturer: Manufacturer | None) -> str:
    name = manufacturer.name if manufacturer else ""
    return {
        "terms": gettext("Agree to share your device's data"),
        "redirect": gettext("Sign in at %(manufacturer)s and allow access", manufacturer=name),
        "app_consent": gettext("Allow access in the %(manufacturer)s app", manufacturer=name),
        "pairing_code": gettext("Enter the pairing code"),
    }.get(kind, kind)


@bp.app_template_global()
def step_label(kind: str, manufacturer: Manufacturer | None) -> str:
    return _step_label(kind, manufacturer)


@bp.get("/<uuid:request_id>/consent")
def consent(request_id: uuid.UUID) -> Response:
    onboarding = _consent_request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    if onboarding.status == Status.DRAFT:
        return redirect(flow.resume_url(onboarding))
    if onboarding.status == Status.SUCCEEDED:
        return redirect(url_for("wizard.done", request_id=onboarding.id))
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    current = services.current_step(onboarding)
    return render(
        "wizard/consent.html",
        onboarding=onboarding,
        manufacturer=manufacturer,
        current=current,
        cancel_form=ActionForm(),
    )


@dataclass(frozen=True)
class _OpenStep:
    """A consent step the owner can act on now, with what its pages show."""

    onboarding: OnboardingRequest
    step: ConsentStep
    manufacturer: Manufacturer
    entity_type: EntityType

    def context(self, **extra: Any) -> dict[str, Any]:
        return {
            "onboarding": self.onboarding,
            "consent_step": self.step,
            "manufacturer": self.manufacturer,
            "entity_type": self.entity_type,
            "approval": consent_service.open_attempt(self.step),
            "identifier": consent_service.device_identifier(self.onboarding, self.manufacturer),
            **extra,
        }

    def render(self, errors: ErrorList, block: str = "main", **extra: Any) -> Response:
        return render(
            "wizard/step.html",
            block=block,
            errors=errors,
            status=422 if errors else 200,
            **self.context(**extra),
        )


def _open_step(request_id: uuid.UUID, position: int) -> _OpenStep | Response:
    """The step at `position`, or a redirect to where the request stands when it is done
    or not open yet."""
    onboarding = _consent_request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    if onboarding.status == Status.DRAFT:
        return redirect(flow.resume_url(onboarding))  # not sent yet: no steps to take
    step = next((s for s in onboarding.steps if s.position == position), None)
    if step is None:
        abort(404)
    if step.status == StepStatus.DONE or not services.step_available(onboarding, step):
        if request.method == "POST" and step.status == StepStatus.DONE:
            flash(gettext("That step is already done."), "info")
        return redirect(flow.resume_url(onboarding))
    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    entity_type = catalog.entity_type(onboarding.type)
    assert manufacturer is not None and entity_type is not None
    return _OpenStep(onboarding, step, manufacturer, entity_type)


def _evidence() -> dict[str, Any]:
    return {
        "ip": request.remote_addr,
        "user_agent": (request.user_agent.string or "")[:500],
    }


@bp.route("/<uuid:request_id>/steps/<int:position>", methods=["GET", "POST"])
def step(request_id: uuid.UUID, position: int) -> Response:
    page = _open_step(request_id, position)
    if isinstance(page, Response):
        return page
    if page.step.kind == "terms":
        return _terms_step(page)
    if page.step.kind == "pairing_code":
        return _pairing_step(page)
    return _provider_step(page)


def _terms_step(page: _OpenStep) -> Response:
    # The terms in the language they were shown in (posted back with them): the hash
    # kept is of the very text the owner read.
    shown_in = request.form.get("language", "")
    with force_locale(shown_in) if shown_in in LANGUAGES else nullcontext():
        terms = terms_for(
            page.onboarding.tenant.name,
            in_sentence(gettext(page.entity_type.label)),
            page.manufacturer.name,
        )
        terms_language = current_language()
    form = TermsForm(data={"version": terms.version})
    if form.validate_on_submit():
        if form.version.data != terms.version:
            flash(
                gettext("The terms changed while you were reading them. Please read them again."),
                "info",
            )
            return redirect(request.path)
        services.complete_step(
            page.onboarding,
            page.step,
            _actor(),
            {
                **_evidence(),
                "terms_version": terms.version,
                "terms_sha256": terms.sha256,
                "terms_language": terms_language,
            },
        )
        db.session.commit()
        return redirect(flow.resume_url(page.onboarding))
    return page.render([], form=form, terms=terms)


def _pairing_step(page: _OpenStep) -> Response:
    pairing = page.manufacturer.pairing
    assert pairing is not None
    form = PairingForm()
    form.code.label.text = gettext(pairing.label)
    if form.validate_on_submit():
        try:
            services.enter_pairing_code(
                page.onboarding,
                page.step,
                form.code.data or "",
                page.manufacturer,
                _actor(),
                _evidence(),
            )
        except IdentifierError as error:
            db.session.commit()  # keep the failed attempt on the timeline
            form.code.errors = [translate(error)]
        else:
            db.session.commit()
            return redirect(flow.resume_url(page.onboarding))
    return page.render(_form_errors(form), form=form, pairing=pairing)


def _provider_step(page: _OpenStep) -> Response:
    """A redirect or app_consent step: start it at the manufacturer, or show its state."""
    form = ActionForm()  # the action is the button
    if form.validate_on_submit():
        if page.step.kind == "redirect":
            url = consent_service.start_redirect(
                page.onboarding, page.step, page.manufacturer, _actor()
            )
            db.session.commit()
            return redirect(url)
        if page.step.status != StepStatus.WAITING:
            consent_service.start_app_consent(
                page.onboarding, page.step, page.manufacturer, _actor()
            )
            db.session.commit()
        return redirect(request.path)
    if page.step.kind == "app_consent" and page.step.status == StepStatus.WAITING:
        consent_service.check_app_consent(page.onboarding, page.step)
        db.session.commit()
        if page.step.status == StepStatus.DONE:
            return redirect(flow.resume_url(page.onboarding))
    return page.render([], form=form, correction=_correction_form(page))


def _correction_form(page: _OpenStep) -> Any:
    """The identifying fields, prefilled, for correcting a device not found on the account."""
    if not page.manufacturer.attributes:
        return None
    onboarding = page.onboarding
    return details_form(page.manufacturer, data={**onboarding.information, **onboarding.properties})


@bp.get("/<uuid:request_id>/steps/<int:position>/status")
def step_status(request_id: uuid.UUID, position: int) -> Response:
    """The live status of a step waiting for the manufacturer (polled by the page)."""
    page = _open_step(request_id, position)
    if isinstance(page, Response):
        return follow(page.location or url_for("main.home"))
    if page.step.kind == "app_consent" and page.step.status == StepStatus.WAITING:
        consent_service.check_app_consent(page.onboarding, page.step)
        db.session.commit()
    if page.step.status == StepStatus.DONE:
        return follow(flow.resume_url(page.onboarding))
    if page.step.status != StepStatus.WAITING:
        return follow(url_for("wizard.step", request_id=page.onboarding.id, position=position))
    return page.render([], block="live_status")


@bp.post("/<uuid:request_id>/steps/<int:position>/identifier")
def correct_identifier(request_id: uuid.UUID, position: int) -> Response:
    """Correct the identifier after the device was not found on the account, then retry."""
    page = _open_step(request_id, position)
    if isinstance(page, Response):
        return page
    form = _correction_form(page)
    if form is None:
        abort(404)
    if form.validate_on_submit():
        answers = {a.name: getattr(form, a.name).data for a in page.manufacturer.attributes}
        try:
            services.correct_information(page.onboarding, answers, current_catalog(), _actor())
        except InvalidAnswers as invalid:
            for name, error in invalid.errors.items():
                getattr(form, name).errors = [translate(error)]
        else:
            db.session.commit()
            flash(gettext("Saved. Try the connection again."), "success")
            return redirect(
                url_for("wizard.step", request_id=page.onboarding.id, position=position)
            )
    return page.render(_form_errors(form), form=ActionForm(), correction=form)


@bp.get("/<uuid:request_id>/done")
def done(request_id: uuid.UUID) -> Response:
    onboarding = _consent_request(request_id)
    if isinstance(onboarding, Response):
        return onboarding
    if onboarding.status != Status.SUCCEEDED or onboarding.entity is None:
        return redirect(flow.resume_url(onboarding))
    catalog = current_catalog()
    return render(
        "wizard/done.html",
        onboarding=onboarding,
        entity=onboarding.entity,
        entity_type=catalog.entity_type(onboarding.type),
        manufacturer=catalog.manufacturer(onboarding.type, onboarding.manufacturer),
    )
