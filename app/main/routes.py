import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice
from wtforms.validators import Optional

from app.catalog import current_catalog
from app.consent import grants as consent_grants
from app.consent.urls import resume_url
from app.extensions import db
from app.forms import ActionForm, Form
from app.htmx import render
from app.i18n import translate
from app.main import bp
from app.main.home import draft_progress, owner_home
from app.models import Entity, EntityStatus
from app.onboarding import access, devices
from app.onboarding.errors import OnboardingError
from app.onboarding.states import Door
from app.security import current_principal
from app.templating import device_name

# Each list of the home page shows this many; "show all" shows the rest.
HOME_LIMIT = 10


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers and crawlers ask for it without reading the page's icon link."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/")
def home() -> Response:
    """The signed-in person's requests under way, devices and recent unfinished requests,
    a few of each; `?all=1` shows them all."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    principal = current_principal()
    if access.starts_for_customers(principal):
        return redirect(url_for("installer.home"))  # an installer's home is their installs
    show_all = request.args.get("all") == "1"
    listed = owner_home(principal, None if show_all else HOME_LIMIT)
    return render(
        "main/home.html",
        unfinished=listed.under_way,
        finished=listed.finished,
        entities=listed.entities,
        more=listed.more,
        show_all=show_all,
        resume_url=resume_url,
        draft_progress=draft_progress,
    )


DISCONNECT_REASONS = [
    ("sold", _l("I sold or replaced the device"), None),
    ("provider", _l("I want to use another service"), None),
    ("privacy", _l("I no longer want to share its data"), None),
    ("other", _l("Another reason"), None),
]


# Withdrawing consent asks for nothing: the reason helps us, and is the owner's to give.
NO_REASON = "not given"


class DisconnectForm(Form):
    reason = RadioField(
        _l("Why do you disconnect it? (optional)"),
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuple choices.
        choices=[SelectChoice(value, label) for value, label, _hint in DISCONNECT_REASONS],
        validators=[Optional()],
    )


@bp.route("/devices/<uuid:entity_id>/disconnect", methods=["GET", "POST"])
@login_required
def disconnect(entity_id: uuid.UUID) -> Response:
    """Offboard one of the owner's devices: revoke the consent and disconnect it."""
    principal = current_principal()
    entity = db.session.get(Entity, entity_id)
    if entity is None or not access.can_offboard(principal, entity):
        abort(404)
    if entity.status == EntityStatus.DISCONNECTED:
        flash(gettext("This device is disconnected."), "info")
        return redirect(url_for("main.home"))
    form = DisconnectForm()
    if form.validate_on_submit():
        if not consent_grants.offboard(entity, form.reason.data or NO_REASON, principal.actor):
            # Another tab (or a double click) disconnected it a moment ago.
            db.session.commit()
            flash(gettext("This device is disconnected."), "info")
            return redirect(url_for("main.home"))
        db.session.commit()
        flash(
            gettext(
                "%(device)s is disconnected. Its access was withdrawn.", device=device_name(entity)
            ),
            "success",
        )
        return redirect(url_for("main.home"))
    errors = [(form.reason.id, form.reason.errors[0])] if form.reason.errors else []
    return render(
        "main/disconnect.html",
        entity=entity,
        form=form,
        errors=errors,
        options=DISCONNECT_REASONS,
        status=422 if errors else 200,
    )


@bp.post("/devices/<uuid:entity_id>/reconnect")
@login_required
def reconnect(entity_id: uuid.UUID) -> Response:
    """Renew a device's consent: only the manufacturer's step, for the same entity."""
    principal = current_principal()
    entity = db.session.get(Entity, entity_id)
    if entity is None or not access.can_reconnect(principal, entity):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        onboarding, _new = devices.start_reconnect(
            entity, current_catalog(), principal.actor, door=Door.WIZARD, created_by=principal.user
        )
    except OnboardingError as error:
        db.session.rollback()
        flash(translate(error), "info")
        return redirect(url_for("main.home"))
    step = onboarding.steps[0]
    db.session.commit()
    # Straight to the manufacturer's step: one screen, then the manufacturer's own pages.
    return redirect(url_for("consent.step", request_id=onboarding.id, position=step.position))
