"""Users: the list, inviting someone (an email with a set-password link), changing a
role, deactivating and reactivating. The rules are in app/admin/people.py."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin import bp, people
from app.admin.forms import ROLE_LABELS, InviteForm, RoleForm, role_options
from app.admin.guard import admin_required, form_errors
from app.extensions import db
from app.forms import ActionForm
from app.htmx import render
from app.messaging import MailNotSent
from app.models import Role, User
from app.onboarding import access
from app.security import current_principal

LIST_SIZE = 100  # people shown at once; the next ones are a page further


def _user(user_id: int) -> User:
    user = db.session.scalar(
        select(User).where(User.id == user_id, access.user_filter(current_principal()))
    )
    if user is None:
        abort(404)
    return user


def _users_page(form: InviteForm, status: int = 200) -> Response:
    """LIST_SIZE people at a time, by email address (`?after=EMAIL` for the next ones)."""
    after = request.args.get("after") or None
    query = select(User).where(access.user_filter(current_principal()))
    if after:
        query = query.where(User.email > after)
    people_list = list(db.session.scalars(query.order_by(User.email).limit(LIST_SIZE + 1)))
    next_after = people_list[LIST_SIZE - 1].email if len(people_list) > LIST_SIZE else None
    errors = form_errors(form)
    return render(
        "admin/users.html",
        users=people_list[:LIST_SIZE],
        next_after=next_after,
        first_page=after is not None,
        form=form,
        roles=ROLE_LABELS,
        role_options=role_options(),
        errors=errors,
        status=422 if errors else status,
    )


@bp.route("/", methods=["GET", "POST"])
@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users() -> Response:
    """The people of the tenant; POST invites one."""
    form = InviteForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        try:
            people.invite(
                current_user.tenant,
                email,
                (form.name.data or "").strip(),
                Role(form.role.data),
                current_principal().actor,
            )
        except people.PeopleError as error:
            form.email.errors = [gettext(str(error))]
            db.session.rollback()
        except MailNotSent:
            db.session.rollback()
            form.email.errors = [
                gettext("The invitation could not be sent, so nobody was invited. Try again.")
            ]
        else:
            db.session.commit()
            flash(
                gettext(
                    "%(email)s is invited: we emailed them a link to choose their password.",
                    email=email,
                ),
                "success",
            )
            return redirect(url_for("admin.users"))
    return _users_page(form)


def _user_page(user: User, role_form: RoleForm, problem: str | None = None) -> Response:
    errors = form_errors(role_form)
    if problem:
        errors.append(("role", problem))
    return render(
        "admin/user.html",
        user=user,
        role_form=role_form,
        action_form=ActionForm(),
        roles=ROLE_LABELS,
        role_options=role_options(),
        is_self=user.id == current_user.id,
        errors=errors,
        problem=problem,
        status=422 if errors else 200,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int) -> Response:
    """One person: their role (POST changes it), and (de)activating them."""
    person = _user(user_id)
    form = RoleForm(data={"role": person.role})
    if form.validate_on_submit():
        try:
            people.change_role(person, Role(form.role.data), current_principal().actor)
        except people.PeopleError as error:
            db.session.rollback()
            return _user_page(person, form, gettext(str(error), tenant=current_user.tenant.name))
        db.session.commit()
        flash(gettext("%(name)s's role is saved.", name=person.display_name), "success")
        return redirect(url_for("admin.user", user_id=person.id))
    return _user_page(person, form)


def _set_active(user_id: int, active: bool) -> Response:
    person = _user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        people.set_active(person, active, current_principal().actor)
    except people.PeopleError as error:
        db.session.rollback()
        return _user_page(
            person,
            RoleForm(formdata=None, data={"role": person.role}),
            gettext(str(error), tenant=current_user.tenant.name),
        )
    db.session.commit()
    message = (
        gettext("%(name)s can sign in again.", name=person.display_name)
        if active
        else gettext(
            "%(name)s is deactivated: they cannot sign in, and are signed out everywhere.",
            name=person.display_name,
        )
    )
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate_user(user_id: int) -> Response:
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate_user(user_id: int) -> Response:
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/invite-again")
@admin_required
def invite_again(user_id: int) -> Response:
    """Email a fresh set-password link to someone who has not chosen a password yet."""
    person = _user(user_id)
    if not ActionForm().validate_on_submit() or person.invited_at is None or not person.active:
        abort(400)
    try:
        people.send_invitation(person)
    except MailNotSent:
        flash(gettext("The invitation could not be sent. Try again."), "error")
    else:
        flash(gettext("We emailed %(email)s a new link.", email=person.email), "success")
    return redirect(url_for("admin.user", user_id=person.id))
