"""The API's collectives: households and energy communities that entities join."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.api import bp
from app.api.auth import require_principal, resolve_tenant
from app.api.idempotency import run_once
from app.api.pagination import page
from app.api.problems import ApiProblem
from app.api.schemas import CollectiveIn, CollectiveListQuery, CollectiveOut, CollectivePage
from app.api.serializers import collective_out
from app.api.spec import WRITE_ERRORS, responses, spec
from app.extensions import db
from app.models import Collective, CollectiveKind
from app.onboarding import access

COLLECTIVES = "Collectives"


@bp.post("/collectives")
@spec.validate(
    resp=responses(WRITE_ERRORS, HTTP_201=CollectiveOut),
    tags=[COLLECTIVES],
    operation_id="createCollective",
)
def create_collective(json: CollectiveIn) -> Any:
    """Create a Collective

    A Household or Community that entities can be onboarded into (`collectiveId`).
    """
    principal = require_principal()
    if not access.manages_collectives(principal):
        raise ApiProblem(403, "Only the tenant's staff can create collectives.")

    def act() -> tuple[dict[str, Any], int]:
        tenant = resolve_tenant(principal, json.tenantId)
        collective = Collective(
            tenant_id=tenant.id, name=json.name.strip() or json.name, kind=CollectiveKind(json.type)
        )
        db.session.add(collective)
        db.session.flush()
        return collective_out(collective), 201

    return run_once(principal, act)


@bp.get("/collectives")
@spec.validate(
    resp=responses(HTTP_200=CollectivePage), tags=[COLLECTIVES], operation_id="listCollectives"
)
def list_collectives(query: CollectiveListQuery) -> Any:
    """List Collectives"""
    principal = require_principal()
    tenant = resolve_tenant(principal, query.tenantId)
    stmt = select(Collective).where(access.collective_filter(principal, tenant.id))
    rows, next_cursor = page(stmt, Collective, query.limit, query.cursor)
    return {"data": [collective_out(c) for c in rows], "next": next_cursor}
