"""Hosted consent pages reached through a signed link, without an account."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from app.consent import bp, service
from app.consent.links import LinkError, link_from_token
from app.consent.providers import get_provider
from app.consent.urls import resume_url
from app.extensions import csrf, db
from app.htmx import render
from app.models import OnboardingRequest
from app.onboarding import access
from app.onboarding.states import StepStatus
from app.onboarding.steps import current_step
from app.security import current_principal, grant_link


@bp.app_template_global()
def is_sandbox(provider: str) -> bool:
    return get_provider(provider).sandbox


@bp.get("/c/<token>")
def open_link(token: str) -> Response:
    """Check the link, let this browser into that one request, and go to its consent pages."""
    try:
        link = link_from_token(token)
    except LinkError as error:
        return _link_problem(error)
    grant_link(link.request_id)
    return redirect(resume_url(link.request))


def _link_problem(error: LinkError) -> Response:
    back = None
    status = 400
    if error.reason == "replaced":
        title = gettext("This link was replaced by a newer one")
        message = gettext(
            "A newer link to the same request was sent or shown since, and only the newest "
            "one works. Open the most recent message you received, or ask whoever sent it "
            "to send the link again."
        )
        status = 410
        onboarding = db.session.get(OnboardingRequest, error.request_id)
        if onboarding is not None and access.can(
            current_principal(), access.Action.CONSENT, onboarding
        ):
            # This browser is already in the steps (it opened a link before): carry on there.
            back = resume_url(onboarding)
    elif error.expired:
        title = gettext("This link has expired")
        message = gettext(
            "Links to give consent work for a limited time. Ask whoever sent it "
            "to you for a new one."
        )
    else:
        title = gettext("This link does not work")
        message = gettext(
            "It may have been copied incompletely. Open it again from the message "
            "you received, or ask whoever sent it for a new one."
        )
    return render(
        "errors/error.html",
        title=title,
        message=message,
        back_url=back,
        back_text=gettext("Back to your consent steps"),
        status=status,
    )


@bp.get("/consent/callback/<provider>")
def oauth_callback(provider: str) -> Response:
    """Where the manufacturer sends the owner back after signing in (OAuth 2.0 redirect)."""
    try:
        onboarding = service.finish_redirect(provider, request.args.to_dict())
    except service.CallbackRejected as rejected:
        db.session.commit()  # nothing changed but the rejection on the timeline
        return _callback_problem(rejected)
    db.session.commit()
    if onboarding.is_final:
        return redirect(resume_url(onboarding))
    step = current_step(onboarding)
    if step is not None and step.status == StepStatus.FAILED:
        # Back on the step itself, which says what went wrong and how to go on.
        return redirect(url_for("consent.step", request_id=onboarding.id, position=step.position))
    return redirect(url_for("consent.overview", request_id=onboarding.id))


@bp.post("/consent/callback/<provider>/app")
@csrf.exempt
def app_callback(provider: str) -> Response:
    """A manufacturer's signed server-to-server callback with an in-app approval decision."""
    try:
        service.receive_app_callback(
            provider,
            request.get_data(),
            request.headers.get("X-Sandbox-Timestamp", ""),
            request.headers.get("X-Sandbox-Signature", ""),
        )
    except service.CallbackRejected as rejected:
        db.session.commit()  # nothing changed but the rejection on the timeline
        status = 401 if rejected.reason == "bad_signature" else 404
        return Response(rejected.reason, status=status, mimetype="text/plain")
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()  # the owner's page settled it at the same moment
    return Response(status=204)


CALLBACK_MESSAGES = {
    "unknown_state": (
        _l("This sign-in link is not one we started"),
        _l(
            "Nothing was changed. Go back to your consent steps and start the "
            "sign-in again from there."
        ),
    ),
    "state_reused": (
        _l("This sign-in was already used"),
        _l(
            "Nothing was changed. If your device is not connected yet, start the "
            "sign-in again from your consent steps."
        ),
    ),
    "other_browser": (
        _l("Finish the sign-in in the browser where you started it"),
        _l(
            "For your safety, a sign-in started in one browser cannot finish in "
            "another. Nothing was changed."
        ),
    ),
    "missing_verifier": (
        _l("This sign-in cannot be checked"),
        _l("Nothing was changed. Start the sign-in again from your consent steps."),
    ),
    "step_not_waiting": (
        _l("This step is not waiting for a sign-in"),
        _l("Nothing was changed. Your consent steps show where your request stands."),
    ),
    "missing_code": (
        _l("The manufacturer did not send an answer we can use"),
        _l("Nothing was changed. Start the sign-in again from your consent steps."),
    ),
    "code_rejected": (
        _l("The manufacturer did not accept this sign-in"),
        _l(
            "It may have expired or been used already. Nothing was changed. Start "
            "the sign-in again from your consent steps."
        ),
    ),
}


def _callback_problem(rejected: service.CallbackRejected) -> Response:
    title, message = CALLBACK_MESSAGES.get(rejected.reason, CALLBACK_MESSAGES["unknown_state"])
    back = None
    if rejected.request is not None and access.can(
        current_principal(), access.Action.CONSENT, rejected.request
    ):
        back = url_for("consent.overview", request_id=rejected.request.id)
    return render(
        "errors/error.html",
        title=title,
        message=message,
        back_url=back,
        back_text=gettext("Back to your consent steps"),
        status=400,
    )
