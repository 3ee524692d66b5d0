"""A Babel extractor for catalog.toml: every text a person reads becomes a message.

Labels, hints, descriptions and messages of entity types, attributes, choices and
pairing codes are translated where they are shown (``{{ attribute.label|translated }}``
in a template, ``gettext(attribute.label)`` in Python); this extractor puts them in
messages.pot.
Referenced from babel.cfg at the repository root:

    [extractors]
    catalog = app.catalog.babel:extract_catalog

    [catalog: app/catalog/catalog.toml]

Manufacturer names, patterns and examples are not texts to translate.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

# Keys whose string values are shown to a person.
TEXT_KEYS = ("label", "hint", "description", "missing", "message")


def _texts(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """(where, text) for every text in the parsed TOML, in file order."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else key
            if key in TEXT_KEYS and isinstance(value, str) and value.strip():
                yield here, value
            else:
                yield from _texts(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _texts(item, f"{where}[{index}]")


def catalog_texts(source: str) -> list[tuple[int, str, str]]:
    """(line number, where, text) of every text in a catalog file's source."""
    lines = source.splitlines()
    found = []
    for where, text in _texts(tomllib.loads(source), ""):
        # TOML basic strings are written like JSON strings; find the line that holds it.
        quoted = json.dumps(text, ensure_ascii=False)
        lineno = next((i for i, line in enumerate(lines, start=1) if quoted in line), 1)
        found.append((lineno, where, text))
    return found


def extract_catalog(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method: yields (lineno, funcname, message, comments)."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for lineno, where, text in catalog_texts(source):
        yield lineno, None, text, [f"catalog: {where}"]
