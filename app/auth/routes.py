from flask import flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import db
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
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        password = form.password.data or ""
        # The hash is always checked, so an unknown or inactive account takes as long.
        password_ok = (
            user.check_password(password)
            if user is not None
            else check_password_hash(_DUMMY_HASH, password)
        )
        if user is not None and user.active and password_ok:
            login_user(user)
            return redirect(next_url or url_for("main.home"))
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


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))
