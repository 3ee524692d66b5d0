from flask import redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.extensions import db
from app.htmx import render
from app.main import bp
from app.models import Entity, OnboardingRequest
from app.onboarding.states import FINAL, Status
from app.wizard.flow import resume_url


@bp.get("/")
def home() -> Response:
    """The signed-in person's requests (unfinished first) and connected devices."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    requests = db.session.scalars(
        select(OnboardingRequest)
        .where(OnboardingRequest.tenant_id == current_user.tenant_id,
               OnboardingRequest.owner_id == current_user.id)
        .order_by(OnboardingRequest.last_activity_at.desc())
    ).all()
    entities = db.session.scalars(
        select(Entity)
        .where(Entity.tenant_id == current_user.tenant_id, Entity.owner_id == current_user.id)
        .order_by(Entity.created_at.desc())
    ).all()
    unfinished = [r for r in requests if r.status not in FINAL]
    finished = [r for r in requests if r.status in FINAL and r.status != Status.SUCCEEDED]
    return render("main/home.html", unfinished=unfinished, finished=finished,
                  entities=entities, resume_url=resume_url)
