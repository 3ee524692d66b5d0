"""Languages: English, Dutch, French and German, through Flask-Babel.

The language is the one chosen with the switch on every page (a `lang` cookie, kept for
a year), else the best match for the browser's Accept-Language, else English. Beside it,
the browser's time zone (a `tz` cookie) says in which zone times are shown. Messages
live in app/translations/<language>/LC_MESSAGES/messages.po; the .mo files are compiled
from them (installing the package does it, see setup.py; so do `make run`, `make test` and
the test suite).

In code: `gettext` / `lazy_gettext` (module-level texts such as form labels) in Python,
`{{ _("...") }}` and `{{ ngettext(...) }}` in templates. Domain errors (IdentifierError,
OnboardingError) carry an English template marked with ``N_`` and their parameters;
`translate(error)` renders them in the page's language. Texts that are data, such as the
catalog's labels, hints and descriptions, are translated where they are shown with the
`|translated` filter (or `gettext(value)`), and extracted for translators by
app/catalog/babel.py. `|in_sentence` puts a label inside a sentence ("your electric
vehicle", but German "Ihr Elektrofahrzeug").
"""

from __future__ import annotations

import os
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    has_app_context,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import Babel, get_locale, gettext, lazy_gettext
from werkzeug.wrappers import Response

from app.security import safe_next

babel = Babel()

LANGUAGES = {"en": "English", "nl": "Nederlands", "fr": "Français", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
COOKIE_NAME = "lang"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60  # a year, in seconds
# The person's time zone, as their browser names it (static/js/app.js sets it, kept a
# year like the language); times are shown in it, in UTC until it is known.
TIMEZONE_COOKIE = "tz"
TRANSLATIONS = Path(__file__).with_name("translations")

# An entity's status as a person reads it (the stored values are the API's).
ENTITY_STATUS_LABELS = {
    "Connected": lazy_gettext("Connected"),
    "NeedsReconnect": lazy_gettext("Needs reconnecting"),
    "Disconnected": lazy_gettext("Disconnected"),
}

# Languages that write nouns in the middle of a sentence with a capital letter.
_CAPITALISED_NOUNS = frozenset({"de"})

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The `lang` cookie if it names one of our languages, else the browser's best match."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = request.cookies.get(COOKIE_NAME, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def current_timezone() -> tzinfo:
    """The `tz` cookie's zone if it names a real one (e.g. "Europe/Brussels"), else UTC."""
    name = request.cookies.get(TIMEZONE_COOKIE, "") if has_request_context() else ""
    if not name or len(name) > 64:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def current_language() -> str:
    """The language code of this request's pages ("en", "nl", "fr" or "de")."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def in_sentence(text: str) -> str:
    """A label as it reads inside a sentence: "Electric vehicle" -> "electric vehicle".

    Only the first letter is lowered, and not for an acronym ("EAN code"), a brand
    ("Xenn reference") nor in German, where nouns keep their capital ("Ihr Elektrofahrzeug").
    """
    text = str(text)
    if current_language() in _CAPITALISED_NOUNS or _starts_with_brand(text):
        return text
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _starts_with_brand(text: str) -> bool:
    catalog = current_app.extensions.get("catalog") if has_app_context() else None
    first_word = text.split(" ", 1)[0]
    return catalog is not None and first_word in catalog.brand_names


def translated(text: str) -> str:
    """A text that is data, such as a catalog label or hint, in the current language.

    For templates: unlike ``_()``, the result is escaped like any value, and a "%" in the
    text is just a character.
    """
    return gettext(text) if text else text


def entity_status_label(status: str) -> str:
    return str(ENTITY_STATUS_LABELS.get(status, status))


class _DomainError(Protocol):
    template: str
    params: dict[str, object]


def _translated_param(value: object) -> object:
    """A parameter that is itself a known text (a catalog label or description), translated."""
    if not isinstance(value, str) or not value:
        return value
    text = gettext(value)
    if text != value:
        return text
    # Labels are often put in a sentence with their first letter lowered ("enter plant ID").
    capital = value[0].upper() + value[1:]
    text = gettext(capital)
    return in_sentence(text) if text != capital else value


def translate(error: _DomainError) -> str:
    """An IdentifierError's or OnboardingError's message in the current language."""
    params = {name: _translated_param(value) for name, value in (error.params or {}).items()}
    template = gettext(error.template)
    return template % params if params else template


def _page_left() -> str | None:
    """The page the switch was used on: a local `next`, else the Referer when it is ours.

    Links carry no `next`, so the same header serves every page, htmx swaps included."""
    target = safe_next(request.args.get("next"))
    if target:
        return target
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@bp.get("/language/<code>")
def switch(code: str) -> Response:
    """Remember the chosen language for a year and go back to the page (never off-site)."""
    if code not in LANGUAGES:
        abort(404)
    response = redirect(_page_left() or url_for("main.home"))
    response.set_cookie(
        COOKIE_NAME,
        code,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def _template_context() -> dict[str, Any]:
    if not has_request_context():
        return {}
    return {"languages": LANGUAGES, "current_language": current_language()}


def _vary_on_language(response: Response) -> Response:
    # A page's language follows the Accept-Language header and the `lang` cookie.
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every .po catalog newer than its .mo (or without one); return the .mo written.

    `make run` and `make test` do it with pybabel; the test suite calls this, so a fresh
    checkout (the .mo files are not in git) runs in every language.
    """
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        partial = mo_path.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        partial.replace(mo_path)  # atomic: a running server never reads half a file
        written.append(mo_path)
    return written


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.context_processor(_template_context)
    app.add_template_filter(in_sentence, "in_sentence")
    app.add_template_filter(translated, "translated")
    app.add_template_filter(entity_status_label, "entity_status_label")
    app.after_request(_vary_on_language)
