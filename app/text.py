"""The one rule for text that arrives from outside (forms, query strings, API JSON).

Control characters cannot be stored (PostgreSQL refuses NUL) and mean nothing in a name,
an address or a reference; a lone surrogate (JSON's "\\ud800") cannot even be encoded as
UTF-8. Both are refused where the text arrives, with a message beside its field, so that
nothing of the kind reaches the database or a page. Multi-line fields may hold line
breaks and tabs.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request

from app.identifiers import N_, IdentifierError

# C0 and C1 controls, DEL, and the surrogate halves; the multi-line variant allows \t \n \r.
_REFUSED = "\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff"
_REFUSED_MULTILINE = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ud800-\\udfff"
_SINGLE_LINE = re.compile(f"[{_REFUSED}]")
_MULTILINE = re.compile(f"[{_REFUSED_MULTILINE}]")

# The same rule as a JSON Schema pattern, published in the OpenAPI document so that
# clients and generated tests know what is accepted. Surrogates are left out of it: a lone
# one is not Unicode text at all (RFC 7493), and regex engines refuse to name them.
JSON_SCHEMA_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"

UNUSABLE_CHARACTER = N_(
    "This has a character that cannot be used here (an invisible control character). "
    "Type it again without it."
)


def has_unusable(value: str, multiline: bool = False) -> bool:
    """Whether `value` holds a character the rule refuses."""
    return (_MULTILINE if multiline else _SINGLE_LINE).search(value) is not None


def check_text(value: str, multiline: bool = False) -> str:
    """`value` unchanged, or IdentifierError when it holds a refused character."""
    if has_unusable(value, multiline):
        raise IdentifierError(UNUSABLE_CHARACTER)
    return value


def refuse_unusable_query() -> None:
    """Before every page: 400 for a query string holding a refused character.

    A query string has no field to show a message beside, and several pages hand its
    values to the database (search, filters, a provider's `state`). The API checks its
    own parameters and names them in a problem, so it is left to do that.
    """
    if request.path.startswith("/api/"):
        return
    # Line breaks and tabs pass, as in a multi-line field: a `next` holding one is dropped
    # by its own check, and nothing stores them.
    args = request.args.items(multi=True)
    if any(has_unusable(k, multiline=True) or has_unusable(v, multiline=True) for k, v in args):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(refuse_unusable_query)
