"""Groups (collectives): the list with how many devices each holds, creating, renaming
(names are unique in a tenant, whatever their case), and a group's devices a page at a
time."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.admin import bp
from app.admin.forms import GroupForm
from app.admin.guard import admin_required, form_errors
from app.api.pagination import page
from app.api.problems import ApiProblem
from app.extensions import db
from app.htmx import render
from app.models import Collective, Entity
from app.onboarding import access
from app.onboarding.audit import record_admin_change
from app.security import current_principal

LIST_SIZE = 500  # groups shown at once
DEVICES_PAGE = 50


def _group(collective_id: uuid.UUID) -> Collective:
    group = db.session.scalar(
        select(Collective).where(
            Collective.id == collective_id, access.managed_collective_filter(current_principal())
        )
    )
    if group is None:
        abort(404)
    return group


def _name_taken(name: str, but: uuid.UUID | None = None) -> bool:
    query = select(Collective.id).where(
        access.managed_collective_filter(current_principal()),
        func.lower(Collective.name) == name.lower(),
    )
    if but is not None:
        query = query.where(Collective.id != but)
    return db.session.scalar(query.limit(1)) is not None


def _valid_name(form: GroupForm, but: uuid.UUID | None = None) -> str | None:
    """The cleaned name when the form is good, else None (its message beside the field)."""
    if not form.validate_on_submit():
        return None
    name = " ".join((form.name.data or "").split())
    if _name_taken(name, but):
        form.name.errors = [gettext("There is already a group with this name. Choose another.")]
        return None
    return name


@bp.route("/groups", methods=["GET", "POST"])
@admin_required
def groups() -> Response:
    """The tenant's groups; POST creates one."""
    form = GroupForm()
    name = _valid_name(form)
    if name is not None:
        group = Collective(tenant_id=current_user.tenant_id, name=name, kind=form.kind.data)
        db.session.add(group)
        db.session.flush()
        record_admin_change(
            group.tenant_id,
            "group_created",
            current_principal().actor,
            group_id=str(group.id),
            name=name,
        )
        db.session.commit()
        flash(gettext("The group %(name)s is created.", name=name), "success")
        return redirect(url_for("admin.groups"))
    devices = (
        select(Entity.collective_id, func.count(Entity.id).label("devices"))
        .where(Entity.tenant_id == current_user.tenant_id)
        .group_by(Entity.collective_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Collective, func.coalesce(devices.c.devices, 0))
        .outerjoin(devices, devices.c.collective_id == Collective.id)
        .where(access.managed_collective_filter(current_principal()))
        .order_by(func.lower(Collective.name), Collective.id)
        .limit(LIST_SIZE)
    ).all()
    errors = form_errors(form)
    return render(
        "admin/groups.html",
        groups=[(group, count) for group, count in rows],
        form=form,
        errors=errors,
        status=422 if errors else 200,
    )


@bp.route("/groups/<uuid:collective_id>", methods=["GET", "POST"])
@admin_required
def group(collective_id: uuid.UUID) -> Response:
    """One group: rename it (POST), and its devices, DEVICES_PAGE at a time."""
    collective = _group(collective_id)
    form = GroupForm(data={"name": collective.name, "kind": collective.kind})
    name = _valid_name(form, but=collective.id)
    if name is not None:
        if name != collective.name or form.kind.data != collective.kind:
            record_admin_change(
                collective.tenant_id,
                "group_renamed",
                current_principal().actor,
                group_id=str(collective.id),
                before=collective.name,
                after=name,
                group_kind=form.kind.data,
            )
            collective.name = name
            collective.kind = form.kind.data or collective.kind
            db.session.commit()
        flash(gettext("The group is saved."), "success")
        return redirect(url_for("admin.group", collective_id=collective.id))
    after = request.args.get("after") or None
    query = select(Entity).where(
        Entity.collective_id == collective.id, Entity.tenant_id == collective.tenant_id
    )
    try:
        devices, next_cursor = page(query, Entity, DEVICES_PAGE, after)
    except ApiProblem:  # a cursor we did not give out: the first page
        devices, next_cursor = page(query, Entity, DEVICES_PAGE, None)
        after = None
    errors = form_errors(form)
    return render(
        "admin/group.html",
        group=collective,
        form=form,
        devices=devices,
        next_cursor=next_cursor,
        first_page=after is not None,
        errors=errors,
        status=422 if errors else 200,
    )
