from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from app.admin import people
from app.admin.forms import SetPasswordForm
from app.auth import bp, throttle
from app.auth.forms import LoginForm
from app.extensions import db
from app.forms import form_errors
from app.htmx import render
from app.models import User
from app.security import safe_next

# Checked against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = "scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        wait = throttle.seconds_to_wait(email)
        if wait:
            return _too_many_tries(form, next_url, wait)
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        password = form.password.data or ""
        # The hash is always checked, so an unknown or inactive account takes as long.
        password_ok = (
            user.check_password(password)
            if user is not None
            else check_password_hash(_DUMMY_HASH, password)
        )
        if user is not None and user.active and password_ok:
            _start_session()
            login_user(user)
            return redirect(next_url or url_for("main.home"))
        throttle.record_failure(email)
        # One message whether the email exists or not.
        form.form_errors.append(gettext("The email address or the password is not right."))
    errors = [("email", message) for message in form.form_errors]
    errors += [
        (getattr(form, name).id, messages[0])
        for name, messages in form.errors.items()
        if name and messages
    ]
    return render(
        "auth/login.html",
        form=form,
        next_url=next_url,
        errors=errors,
        status=422 if errors else 200,
    )


def _too_many_tries(form: LoginForm, next_url: str | None, wait: int) -> Response:
    minutes = max(1, -(-wait // 60))
    message = ngettext(
        "Too many failed sign-ins. Wait %(num)d minute, then try again.",
        "Too many failed sign-ins. Wait %(num)d minutes, then try again.",
        minutes,
    )
    response = render(
        "auth/login.html", form=form, next_url=next_url, errors=[("email", message)], status=429
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _start_session() -> None:
    """A new session for the signed-in user: nothing from before signing in carries over
    (no fixed session, no consent links), and a new CSRF token is made."""
    session.clear()
    g.pop("csrf_token", None)


@bp.post("/logout")
@login_required
def logout() -> Response:
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()  # the consent links this browser opened go with it
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response:
    """Choose a password through an invitation's link (signed, expiring, single use)."""
    user = people.user_for_token(token)
    if user is None:
        return render("auth/set_password.html", user=None, form=None, errors=[], status=404)
    form = SetPasswordForm()
    if form.validate_on_submit():
        problem = people.password_problem(form.password.data or "", user)
        if problem:
            form.password.errors = [gettext(problem)]
        else:
            people.choose_password(user, form.password.data or "")
            db.session.commit()
            logout_user()
            _start_session()
            login_user(user)
            flash(gettext("Your password is set. Welcome!"), "success")
            return redirect(url_for("main.home"))
    errors = form_errors(form)
    response = render(
        "auth/set_password.html",
        user=user,
        form=form,
        errors=errors,
        min_length=people.PASSWORD_MIN_LENGTH,
        status=422 if errors else 200,
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response.headers["Cache-Control"] = "no-store"
    return response
