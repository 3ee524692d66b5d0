"""The log of changes to the tenant's settings, newest first, a page at a time, in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import request
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.forms import ROLE_LABELS
from app.admin.guard import admin_required
from app.extensions import db
from app.htmx import render
from app.models import AdminChange, Role, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str
    what: str


def _role(value: Any) -> str:
    try:
        return str(ROLE_LABELS[Role(value)][0])
    except ValueError:
        return str(value)


def _who(actor: str, users: dict[int, User]) -> str:
    kind, _, ident = actor.partition(":")
    if kind == "user" and ident.isdigit() and int(ident) in users:
        return users[int(ident)].display_name
    if kind == "api-key":
        return gettext("API key")
    if kind == "operator":
        return gettext("Command line")
    return gettext("System")


def _what(change: AdminChange, users: dict[int, User]) -> str:
    data = change.data
    user = users.get(data.get("user_id", 0))
    name = user.display_name if user else "?"
    texts = {
        "user_invited": lambda: gettext(
            "Invited %(name)s as %(role)s", name=name, role=_role(data.get("role"))
        ),
        "password_set": lambda: gettext("%(name)s chose a password", name=name),
        "role_changed": lambda: gettext(
            "Changed %(name)s's role from %(before)s to %(after)s",
            name=name,
            before=_role(data.get("before")),
            after=_role(data.get("after")),
        ),
        "user_deactivated": lambda: gettext("Deactivated %(name)s", name=name),
        "user_reactivated": lambda: gettext("Reactivated %(name)s", name=name),
        "group_created": lambda: gettext("Created the group %(name)s", name=data.get("name")),
        "group_renamed": lambda: gettext(
            "Renamed the group %(before)s to %(after)s",
            before=data.get("before"),
            after=data.get("after"),
        ),
        "api_key_created": lambda: gettext("Created the API key %(key)s…", key=data.get("key")),
        "api_key_revoked": lambda: gettext("Revoked the API key %(key)s…", key=data.get("key")),
        "webhook_created": lambda: gettext(
            "Added the webhook endpoint %(url)s", url=data.get("url")
        ),
        "webhook_changed": lambda: gettext(
            "Changed the webhook endpoint %(url)s", url=data.get("url") or data.get("endpoint_id")
        ),
        "webhook_deleted": lambda: gettext(
            "Deleted the webhook endpoint %(url)s", url=data.get("url")
        ),
        "tenant_renamed": lambda: gettext(
            "Renamed the organisation from %(before)s to %(after)s",
            before=data.get("before"),
            after=data.get("after"),
        ),
        "logo_changed": lambda: gettext("Changed the logo"),
        "logo_removed": lambda: gettext("Removed the logo"),
    }
    text = texts.get(change.kind)
    return text() if text else change.kind


@bp.get("/history")
@admin_required
def history() -> Response:
    """Who changed what in the settings; `?before=ID` pages to older changes."""
    before = request.args.get("before", "")
    query = select(AdminChange).where(AdminChange.tenant_id == current_user.tenant_id)
    if before.isdigit():
        query = query.where(AdminChange.id < int(before))
    changes = list(db.session.scalars(query.order_by(AdminChange.id.desc()).limit(PAGE_SIZE + 1)))
    older = changes[PAGE_SIZE - 1].id if len(changes) > PAGE_SIZE else None
    changes = changes[:PAGE_SIZE]
    ids = {int(c.actor.split(":")[1]) for c in changes if c.actor.startswith("user:")}
    ids |= {int(c.data["user_id"]) for c in changes if isinstance(c.data.get("user_id"), int)}
    users = (
        {
            u.id: u
            for u in db.session.scalars(
                select(User).where(User.id.in_(ids), User.tenant_id == current_user.tenant_id)
            )
        }
        if ids
        else {}
    )
    lines = [Line(c.at, _who(c.actor, users), _what(c, users)) for c in changes]
    return render("admin/history.html", lines=lines, older=older, first_page=before.isdigit())
