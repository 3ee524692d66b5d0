"""Entity Onboarding: the app factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.public_url import OnboardingApp

HERE = Path(__file__).resolve().parent


def _shared_folder(name: str) -> Path:
    """templates/ or static/: beside the package in a checkout, inside it once installed
    (setup.py copies them into the wheel)."""
    installed = HERE / name
    return installed if installed.is_dir() else HERE.parent / name


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, catalog, blueprints, commands."""
    app = OnboardingApp(
        __name__,
        instance_relative_config=True,
        template_folder=str(_shared_folder("templates")),
        static_folder=str(_shared_folder("static")),
    )
    from app.config import check_production, config_for, default_database_uri

    app.config.from_object(config_for(os.environ.get("APP_ENV")))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["PRODUCTION"]:
        check_production(app.config)
    # JSON answers keep the order their builders write (the documented one), unsorted: a
    # list of 50 requests would otherwise sort some 400 objects' keys on every call.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if hops := app.config["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = default_database_uri(app.instance_path)

    from app import database, htmx, logs, public_url

    public_url.init_app(app)
    logs.init_app(app)
    from app.catalog import init_app as init_catalog
    from app.extensions import csrf, db, login_manager

    db.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    htmx.init_app(app)
    init_catalog(app)

    from app import security, text
    from app.admin import bp as admin_bp
    from app.admin import branding
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.consent import bp as consent_bp
    from app.consent.sandbox import bp as sandbox_bp
    from app.installer import bp as installer_bp
    from app.main import bp as main_bp
    from app.support import bp as support_bp
    from app.wizard import bp as wizard_bp

    security.init_app(app)
    text.init_app(app)
    app.register_blueprint(admin_bp)
    branding.init_app(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(consent_bp)
    app.register_blueprint(sandbox_bp)
    app.register_blueprint(installer_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(wizard_bp)

    from app import cli, i18n, jobs, messaging, qr, templating

    jobs.init_app(app)
    messaging.init_app(app)
    qr.init_app(app)
    cli.init_app(app)
    templating.init_app(app)
    i18n.init_app(app)
    return app
