"""Template filters and error pages: how domain values read to a person."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import dates as babel_dates
from flask import Flask, redirect, request
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.api.problems import http_error_response
from app.catalog import Attribute, current_catalog
from app.extensions import db
from app.htmx import render
from app.i18n import current_timezone, in_sentence
from app.models import ConsentStep
from app.onboarding.steps import untried_correction

STATUS_LABELS = {
    "Draft": _l("Not sent yet"),
    "Pending": _l("Waiting for consent"),
    "InProgress": _l("Connecting"),
    "Succeeded": _l("Connected"),
    "Failed": _l("Failed"),
    "Canceled": _l("Canceled"),
}

# The pairing step's own reason (recorded by app/consent/service.py, not a request's).
PAIRING_CODE_MISMATCH = "pairing_code_mismatch"

# Every reason a step or request can fail with (tests/unit/test_reason_labels.py checks
# the code base records no other).
REASON_LABELS = {
    "expired": _l("it expired before the consent was given"),
    "denied": _l("access was refused"),
    "device_not_found": _l("the device is not on the account"),
    "provider_error": _l("the manufacturer had a problem"),
    "canceled_by_provider": _l("the manufacturer ended it"),
    PAIRING_CODE_MISMATCH: _l("the pairing code did not match the device"),
    "declined": _l("it was declined"),
    "discarded": _l("the draft was discarded"),
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def reason_label(reason: str | None) -> str:
    return REASON_LABELS.get(reason or "", reason or "")


def type_label(type_id: str) -> str:
    entity_type = current_catalog().entity_type(type_id)
    return gettext(entity_type.label) if entity_type else type_id


def identifier(item: Any) -> str:
    """The value that names this request's or entity's device (VIN, EAN, reference...)."""
    manufacturer = current_catalog().manufacturer(item.type, item.manufacturer)
    return (manufacturer.device_id(item.information or {}) if manufacturer else None) or ""


def device_name(item: Any) -> str:
    label = type_label(item.type)
    name = (
        gettext(
            "%(manufacturer)s %(type)s", manufacturer=item.manufacturer, type=in_sentence(label)
        )
        if item.manufacturer
        else label
    )
    ident = identifier(item)
    return f"{name} · {ident}" if ident else name


def _date_locale() -> str:
    # English pages are read in Belgium and the Netherlands: the day comes first (en_GB).
    locale = get_locale()
    return "en_GB" if locale is None or locale.language == "en" else str(locale)


def format_datetime(value: datetime | None) -> str:
    """ "27 November 2026, 19:48 CET", "27. November 2026 um 19:48 CET", ...: in the
    person's time zone (from their browser), the zone shown; UTC when it is not known."""
    if not value:
        return ""
    locale = _date_locale()
    local = _local(value)
    return gettext(
        "%(date)s, %(time)s %(zone)s",
        date=babel_dates.format_date(local, "long", locale=locale),
        time=babel_dates.format_time(local, "HH:mm", tzinfo=local.tzinfo, locale=locale),
        zone=local.tzname() or "UTC",
    )


def format_date(value: date | None) -> str:
    """ "27 November 2026", "27 november 2026", "27. November 2026", ... in the page's
    language; a moment's day as it is in the person's time zone."""
    if not value:
        return ""
    day = _local(value) if isinstance(value, datetime) else value
    return babel_dates.format_date(day, "long", locale=_date_locale())


def _local(value: datetime) -> datetime:
    # Stored times are UTC (a naive one is too).
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(current_timezone())


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def choice_label(attribute: Attribute, value: str) -> str:
    return next((gettext(c.label) for c in attribute.choices if c.value == value), value)


ERROR_PAGES = {
    400: (_l("Something in the request was not right"), _l("Go back and try again.")),
    403: (_l("You cannot open this page"), _l("Go back, or sign in with another account.")),
    404: (
        _l("Page not found"),
        _l(
            "If you typed the address, check it is correct. If you "
            "followed a link, the request may belong to another account."
        ),
    ),
    405: (_l("Page not found"), _l("This page cannot be opened this way.")),
    413: (_l("That was too much to send"), _l("Go back and send less.")),
    429: (_l("Too many tries"), _l("Wait a minute, then try again.")),
    500: (
        _l("Sorry, something went wrong on our side"),
        _l("Your answers are saved. Try again in a few minutes."),
    ),
}


@lru_cache(maxsize=256)
def _fingerprint(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _version_static_urls(app: Flask) -> None:
    """Every url_for('static', ...) carries the file's content hash (?v=...), so browsers
    may keep static files for a year and still get a changed file at once."""
    root = Path(app.static_folder or "")
    # Outside debug mode the files change only with a deploy, which starts new workers:
    # each file's hash is looked up once (a page links some ten of them).
    known: dict[str, str | None] | None = None if app.debug else {}

    def version(filename: str) -> str | None:
        path = root / filename
        return _fingerprint(str(path), path.stat().st_mtime) if path.is_file() else None

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or "filename" not in values:
            return
        filename = values["filename"]
        if known is None:
            found = version(filename)
        elif filename in known:
            found = known[filename]
        else:
            found = known[filename] = version(filename)
        if found is not None:
            values["v"] = found

    long_max_age = app.get_send_file_max_age

    def max_age(filename: str | None) -> int | None:
        # Only a URL with the hash may be kept for long. A file fetched by its plain URL (an
        # ES module's import of its neighbour) is checked again each time: cheap, by ETag.
        return long_max_age(filename) if request.args.get("v") else None

    app.get_send_file_max_age = max_age  # type: ignore[method-assign]


def untried_device(step: ConsentStep) -> str | None:
    """The identifier corrected since the step failed for another one, not tried yet."""
    return untried_correction(step, current_catalog())


def init_app(app: Flask) -> None:
    _version_static_urls(app)
    filters: dict[str, Callable[..., Any]] = {
        "status_label": status_label,
        "reason_label": reason_label,
        "type_label": type_label,
        "identifier": identifier,
        "device_name": device_name,
        "datetime": format_datetime,
        "date": format_date,
        "slug": slug,
        "choice_label": choice_label,
        "untried_device": untried_device,
    }
    for name, function in filters.items():
        app.add_template_filter(function, name)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        title, message = ERROR_PAGES.get(code, (error.name, error.description or ""))
        if request.path.startswith("/api/"):
            return http_error_response(error)
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
