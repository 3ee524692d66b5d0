"""A tenant's people: invitations with a set-password link, roles, deactivating.

The rules live here, the pages in app/admin/users.py. One rule holds over all of them: a
tenant always keeps an active admin, so nobody demotes or deactivates the last one. A
person is never deleted: their name stays on every timeline they appear in. Nothing here
commits; the view does.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app, render_template, url_for
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.identifiers import N_
from app.messaging import send_email
from app.models import Role, Tenant, User, utcnow
from app.onboarding.audit import Actor, record_admin_change

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 200
_SALT = "set-password"


class PeopleError(Exception):
    """A change the rules refuse; the message (translatable, N_) says why."""


def _fingerprint(user: User) -> str:
    # Part of the token: once the password changes, the link stops working (single use).
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def password_token(user: User) -> str:
    """A signed token for the set-password page: expires, and works once."""
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user)})


def user_for_token(token: str) -> User | None:
    """The active person the token was made for, if it is genuine, fresh and unused."""
    max_age = current_app.config["INVITE_MAX_AGE"].total_seconds()
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or data.get("p") != _fingerprint(user):
        return None
    return user


def password_problem(password: str, user: User) -> str | None:
    """Why `password` will not do (translatable), or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return N_("Use at least 12 characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        return N_("Use at most 200 characters.")
    if password.strip().lower() == user.email.lower():
        return N_("Do not use your email address as your password.")
    if len(set(password)) < 4:
        return N_("Use more different characters: this password is too easy to guess.")
    return None


def choose_password(user: User, password: str) -> None:
    """Set the password the person chose (the link that led here stops working)."""
    user.set_password(password)
    user.invited_at = None
    user.end_sessions()  # a session from before the new password stops working
    record_admin_change(user.tenant_id, "password_set", Actor.user(user), user_id=user.id)


def email_taken(email: str) -> bool:
    return (
        db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
        is not None
    )


def invite(tenant: Tenant, email: str, name: str, role: Role, actor: Actor) -> User:
    """A new account for `email` and an email with its set-password link (MailNotSent
    when it could not go: roll back)."""
    if email_taken(email):
        raise PeopleError(N_("Someone already has an account with this email address."))
    user = User(
        tenant=tenant,
        email=email,
        name=name,
        role=role,
        active=True,
        invited_at=utcnow(),
    )
    # Nobody knows this password: the person chooses theirs through the link.
    user.set_password(secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    record_admin_change(tenant.id, "user_invited", actor, user_id=user.id, role=str(role))
    send_invitation(user)
    return user


def send_invitation(user: User) -> None:
    """Email the person their set-password link."""
    url = url_for("auth.set_password", token=password_token(user), _external=True)
    context = {"user": user, "tenant": user.tenant, "url": url}
    send_email(
        user.email,
        gettext("%(tenant)s invites you to Entity Onboarding", tenant=user.tenant.name),
        render_template("messages/invitation.txt", **context),
        render_template("messages/invitation.html", **context),
        sender_name=user.tenant.name,
    )


def _other_active_admins(user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count(User.id)).where(
                User.tenant_id == user.tenant_id,
                User.role == Role.ADMIN,
                User.active.is_(True),
                User.id != user.id,
            )
        )
        or 0
    )


def _keeps_an_admin(user: User) -> bool:
    return user.role != Role.ADMIN or not user.active or _other_active_admins(user) > 0


def change_role(user: User, role: Role, actor: Actor) -> None:
    if role == user.role:
        return
    if role != Role.ADMIN and not _keeps_an_admin(user):
        raise PeopleError(N_("%(tenant)s needs an admin: make someone else an admin first."))
    record_admin_change(
        user.tenant_id, "role_changed", actor, user_id=user.id, before=user.role, after=str(role)
    )
    user.role = role


def set_active(user: User, active: bool, actor: Actor) -> None:
    """Deactivate (they cannot sign in, their sessions end) or reactivate an account."""
    if active == user.active:
        return
    if not active and not _keeps_an_admin(user):
        raise PeopleError(N_("%(tenant)s needs an admin: make someone else an admin first."))
    user.active = active
    if not active:
        user.end_sessions()
    kind = "user_reactivated" if active else "user_deactivated"
    record_admin_change(user.tenant_id, kind, actor, user_id=user.id)
