"""The installer's start pages: the device, the identifier and customer, then check."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app.catalog import current_catalog
from app.consent.messages import (
    new_submission_key,
)
from app.extensions import db
from app.forms import ActionForm, device_notice, form_errors
from app.htmx import render
from app.i18n import in_sentence, translate
from app.installer import bp
from app.installer.forms import (
    DEVICE_SEPARATOR,
    DeviceForm,
    device_value,
    fields_in_order,
    install_details_form,
)
from app.installer.routes import install, installer_only, next_url
from app.models import OnboardingRequest
from app.onboarding import access, devices, drafts, installs
from app.onboarding.access import Action
from app.onboarding.errors import InvalidAnswers
from app.onboarding.states import Status
from app.security import current_principal
from app.templating import type_label
from app.wizard.forms import NO_COLLECTIVE

POLL_SECONDS = 3
RECENT_DAYS = 30


# ---------------------------------------------------------------- start


def _device_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """(kind of device, [(value, manufacturer)]) for the device page."""
    return [
        (gettext(t.label), [(device_value(t.id, name), name) for name in t.manufacturers])
        for t in current_catalog().types.values()
    ]


def _device_page(form: DeviceForm, onboarding: OnboardingRequest | None) -> Response:
    errors = form_errors(form)
    return render(
        "installer/device.html",
        form=form,
        onboarding=onboarding,
        groups=_device_options(),
        errors=errors,
        step_number=1,
        step_count=3,
        status=422 if errors else 200,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def start() -> Response:
    installer_only()
    form = DeviceForm(current_catalog())
    if form.validate_on_submit():
        type_id, manufacturer = form.chosen()
        key = str(form.start_key.data or "")
        try:
            onboarding = installs.start_install(
                current_user.tenant,
                current_user,
                type_id,
                manufacturer,
                current_catalog(),
                current_principal().actor,
                start_key=key,
            )
            db.session.commit()
        except (IntegrityError, ValueError):
            # A twin of this form made the request at the same moment (or the key was
            # tampered with): answer the twin's request, or ask again.
            db.session.rollback()
            earlier = installs.started_with(current_user, key) if key else None
            if earlier is None:
                form.start_key.data = new_submission_key()
                form.device.errors = [gettext("Something went wrong. Choose the device again.")]
                return _device_page(form, None)
            onboarding = earlier
        return redirect(next_url(onboarding))
    return _device_page(form, None)


@bp.route("/<uuid:request_id>/device", methods=["GET", "POST"])
@login_required
def device(request_id: uuid.UUID) -> Response:
    onboarding = install(request_id, Action.ANSWER)
    if onboarding.status != Status.DRAFT:
        return redirect(next_url(onboarding))
    chosen = device_value(onboarding.type, onboarding.manufacturer or "")
    form = DeviceForm(current_catalog(), data={"device": chosen})
    if form.validate_on_submit():
        type_id, manufacturer = form.chosen()
        installs.change_device(
            onboarding, type_id, manufacturer, current_catalog(), current_principal().actor
        )
        db.session.commit()
        return redirect(url_for("installer.details", request_id=onboarding.id))
    return _device_page(form, onboarding)


def _groups() -> list[tuple[str, str]]:
    return [(str(c.id), c.name) for c in current_user.tenant.collectives]


def _typed_elsewhere(rendered_for: str, onboarding: OnboardingRequest) -> list[tuple[str, str]]:
    """(label, value) of what was typed for the device a stale form was rendered for,
    where the current device does not ask it: said back so nothing typed is lost."""
    type_id, _sep, name = rendered_for.partition(DEVICE_SEPARATOR)
    catalog = current_catalog()
    then = catalog.manufacturer(type_id, name)
    now = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    asked_now = {a.name for a in now.attributes} if now else set()
    typed = []
    for attribute in then.attributes if then else ():
        value = str(request.form.get(attribute.name) or "").strip()
        if value and attribute.name not in asked_now:
            typed.append((gettext(attribute.label), value))
    return typed


@bp.route("/<uuid:request_id>/details", methods=["GET", "POST"])
@login_required
def details(request_id: uuid.UUID) -> Response:
    onboarding = install(request_id, Action.ANSWER)
    if onboarding.status != Status.DRAFT:
        return redirect(next_url(onboarding))
    manufacturer = current_catalog().manufacturer(onboarding.type, onboarding.manufacturer)
    assert manufacturer is not None
    groups = _groups()
    device_now = device_value(onboarding.type, onboarding.manufacturer or "")
    data: dict[str, Any] = {
        **onboarding.information,
        **onboarding.properties,
        "customer_name": onboarding.customer_name,
        "customer_email": onboarding.email,
        "customer_mobile": onboarding.customer_mobile,
        "collective": NO_COLLECTIVE,
    }
    if drafts.QUESTION_COLLECTIVE in onboarding.answered:
        data["collective"] = str(onboarding.collective_id or NO_COLLECTIVE)
    form = install_details_form(manufacturer, groups, data=data)
    notice: dict[str, Any] | None = None
    rendered_for = str(form.rendered_for.data or "") if form.is_submitted() else ""
    # Rendered for another device (changed in another tab since): save nothing, ask again
    # for the device it is now, keeping what was typed.
    stale = bool(rendered_for) and rendered_for != device_now
    form.rendered_for.data = device_now
    # Every field is checked at once (the form's group, the domain's identifier and
    # customer), so one round trip shows every message.
    if not stale and form.is_submitted() and (form.validate() or "csrf_token" not in form.errors):
        answers = {a.name: getattr(form, a.name).data for a in manufacturer.attributes}
        customer = {
            "name": form.customer_name.data,
            "email": form.customer_email.data,
            "mobile": form.customer_mobile.data,
        }
        group = None
        if groups and form.collective.data not in (None, NO_COLLECTIVE):
            group = access.tenant_collective(onboarding.tenant_id, form.collective.data)
        try:
            installs.give_customer_details(
                onboarding,
                answers,
                customer,
                group,
                current_catalog(),
                current_principal().actor,
                default_region=current_app.config.get("PHONE_DEFAULT_REGION"),
            )
        except InvalidAnswers as invalid:
            db.session.rollback()
            for name, error in invalid.errors.items():
                if hasattr(form, name):
                    getattr(form, name).errors = [translate(error)]
        else:
            taken = None if form.errors else devices.device_taken(onboarding)
            # A connected device may be installed again on purpose: that renews its consent.
            if taken is not None and not (
                taken.entity is not None and request.form.get("renew") == "1"
            ):
                notice = device_notice(
                    taken,
                    manufacturer.device_id(onboarding.information) or "",
                    request_url=lambda other: url_for(
                        "installer.request_page", request_id=other.id
                    ),
                )
            elif not form.errors:
                db.session.commit()
                return redirect(url_for("installer.check", request_id=onboarding.id))
            db.session.rollback()  # nothing kept; the form still holds what was typed
    errors = [
        (form[name].id, form[name].errors[0])
        for name in fields_in_order(form, manufacturer)
        if form[name].errors
    ]
    return render(
        "installer/details.html",
        onboarding=onboarding,
        manufacturer=manufacturer,
        form=form,
        groups=groups,
        errors=errors,
        stale=stale,
        notice=notice,
        typed_elsewhere=_typed_elsewhere(rendered_for, onboarding) if stale else [],
        step_number=2,
        step_count=3,
        status=422 if errors or stale else 200,
    )


def _rows(onboarding: OnboardingRequest) -> list[dict[str, str]]:
    """The check page's rows: label, value, and the page to change it on."""
    catalog = current_catalog()
    manufacturer = catalog.manufacturer(onboarding.type, onboarding.manufacturer)
    device_url = url_for("installer.device", request_id=onboarding.id)
    details_url = url_for("installer.details", request_id=onboarding.id)
    rows = [
        {
            "label": gettext("Device"),
            "value": gettext(
                "%(manufacturer)s %(type)s",
                manufacturer=onboarding.manufacturer,
                type=in_sentence(type_label(onboarding.type)),
            ),
            "url": device_url,
            "change": gettext("device"),
        }
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
                "url": details_url,
                "change": in_sentence(gettext(attribute.label)),
            }
        )
    rows += [
        {
            "label": gettext("Customer"),
            "value": onboarding.customer_name or "",
            "url": details_url,
            "change": gettext("customer's name"),
        },
        {
            "label": gettext("Email address"),
            "value": onboarding.email or gettext("Not given"),
            "url": details_url,
            "change": gettext("email address"),
        },
        {
            "label": gettext("Mobile number"),
            "value": onboarding.customer_mobile or gettext("Not given"),
            "url": details_url,
            "change": gettext("mobile number"),
        },
    ]
    if _groups():
        rows.append(
            {
                "label": gettext("Group"),
                "value": onboarding.collective.name
                if onboarding.collective
                else gettext("No group"),
                "url": details_url,
                "change": gettext("group"),
            }
        )
    return rows


@bp.route("/<uuid:request_id>/check", methods=["GET", "POST"])
@login_required
def check(request_id: uuid.UUID) -> Response:
    onboarding = install(request_id, Action.ANSWER)
    if onboarding.status != Status.DRAFT:
        # Sent already (a retried POST): its page is where it stands.
        return redirect(next_url(onboarding))
    if not installs.details_given(onboarding):
        return redirect(next_url(onboarding))
    catalog = current_catalog()
    form = ActionForm()
    if form.validate_on_submit():
        try:
            installs.send_install(onboarding, catalog, current_principal().actor)
        except InvalidAnswers:
            db.session.rollback()
            drafts.ask_again(onboarding, drafts.QUESTION_DETAILS)
            db.session.commit()
            flash(gettext("Please check these details again."), "info")
            return redirect(url_for("installer.details", request_id=onboarding.id))
        db.session.commit()
        return redirect(url_for("installer.request_page", request_id=onboarding.id))
    return render(
        "installer/check.html",
        onboarding=onboarding,
        manufacturer=catalog.manufacturer(onboarding.type, onboarding.manufacturer),
        rows=_rows(onboarding),
        form=form,
        errors=[],
        step_number=3,
        step_count=3,
    )
