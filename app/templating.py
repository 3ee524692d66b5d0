"""Template filters and error pages: how domain values read to a person."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Flask, redirect, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.catalog import Attribute, current_catalog
from app.extensions import db
from app.htmx import render

STATUS_LABELS = {
    "Draft": "Not sent yet",
    "Pending": "Waiting for consent",
    "InProgress": "Connecting",
    "Succeeded": "Connected",
    "Failed": "Failed",
    "Canceled": "Canceled",
}

REASON_LABELS = {
    "expired": "it expired before the consent was given",
    "denied": "access was refused",
    "device_not_found": "the device is not on the account",
    "provider_error": "the manufacturer had a problem",
    "canceled_by_provider": "the manufacturer ended it",
}

# The attributes that name a device best, in order of preference.
IDENTIFYING = ("vin", "ean", "reference", "code", "plantId", "siteId", "pvSystemId", "systemId")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def reason_label(reason: str | None) -> str:
    return REASON_LABELS.get(reason or "", reason or "")


def type_label(type_id: str) -> str:
    entity_type = current_catalog().entity_type(type_id)
    return entity_type.label if entity_type else type_id


def identifier(item: Any) -> str:
    """The value that names this request's or entity's device (VIN, EAN, reference...)."""
    information = item.information or {}
    return next((str(information[k]) for k in IDENTIFYING if information.get(k)), "")


def device_name(item: Any) -> str:
    label = type_label(item.type)
    name = f"{item.manufacturer} {label.lower()}" if item.manufacturer else label
    ident = identifier(item)
    return f"{name} · {ident}" if ident else name


def format_datetime(value: datetime | None) -> str:
    return value.strftime("%d %B %Y, %H:%M UTC") if value else ""


def format_date(value: datetime | None) -> str:
    return value.strftime("%d %B %Y") if value else ""


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def choice_label(attribute: Attribute, value: str) -> str:
    return next((c.label for c in attribute.choices if c.value == value), value)


ERROR_PAGES = {
    400: ("Something in the request was not right", "Go back and try again."),
    403: ("You cannot open this page", "Go back, or sign in with another account."),
    404: ("Page not found", "If you typed the address, check it is correct. If you followed a "
          "link, the request may belong to another account."),
    405: ("Page not found", "This page cannot be opened this way."),
    413: ("That was too much to send", "Go back and send less."),
    429: ("Too many tries", "Wait a minute, then try again."),
    500: ("Sorry, something went wrong on our side", "Your answers are saved. Try again in "
          "a few minutes."),
}


def init_app(app: Flask) -> None:
    for name, function in {
        "status_label": status_label,
        "reason_label": reason_label,
        "type_label": type_label,
        "identifier": identifier,
        "device_name": device_name,
        "datetime": format_datetime,
        "date": format_date,
        "slug": slug,
        "choice_label": choice_label,
    }.items():
        app.add_template_filter(function, name)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        title, message = ERROR_PAGES.get(code, (error.name, error.description or ""))
        if request.path.startswith("/api/"):
            return error.get_response()
        return render("errors/error.html", title=title, message=message, status=code)

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def changed_meanwhile(error: Exception) -> Response:
        # Another tab or a double click changed the request first: show where it stands now.
        db.session.rollback()
        if request.method == "GET":
            raise error
        return redirect(request.path)

    @app.errorhandler(500)
    def server_error(error: Exception) -> Response:
        db.session.rollback()
        title, message = ERROR_PAGES[500]
        return render("errors/error.html", title=title, message=message, status=500)
