"""Every message in the code has a real translation in Dutch, French and German.

The messages are extracted from the current tree in-process, with the same babel.cfg as
`make messages`, so a new `_("...")`, `N_("...")` or catalog label fails here until each
language has a translation: present, not fuzzy, not empty, with the same placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.catalog import load_catalog
from app.catalog.babel import catalog_texts
from app.i18n import LANGUAGES, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in LANGUAGES if code != "en"]
# The keywords `make messages` passes to pybabel (-k _l -k lazy_gettext -k N_).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
SKIPPED_DIRECTORIES = {"node_modules", "tests", "instance", "static", "build", "dist"}
# A %-placeholder: %(name)s, %(count)d, %s ... ("%%" is a literal percent sign).
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?(?P<type>[%a-zA-Z])"
)
# Characters HTML gives a meaning to: a translation adds none the English does not have
# (`_()` in a template marks the translation itself as safe markup).
MARKUP = '<>&"'

Message = str | tuple[str, ...]


def _directory_filter(path: str) -> bool:
    name = Path(path).name
    return not name.startswith((".", "_")) and name not in SKIPPED_DIRECTORIES


def extract_messages() -> dict[Message, list[str]]:
    """Every message of the current tree, as pybabel extract finds it, with where it is."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    found: dict[Message, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, directory_filter=_directory_filter
    ):
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def placeholders(text: str) -> list[tuple[str | None, str]]:
    return sorted(
        (match["name"], match["type"])
        for match in PLACEHOLDER.finditer(text)
        if match["type"] != "%"
    )


def load(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def problems(messages: Iterable[Message], catalog: Catalog) -> list[str]:
    """What is wrong with `catalog`'s translation of each message (nothing when all is well)."""
    found = []
    for message in messages:
        ids = (message,) if isinstance(message, str) else message
        entry = catalog.get(ids[0])
        if entry is None:
            found.append(f"missing: {ids[0]!r}")
            continue
        if entry.fuzzy:
            found.append(f"fuzzy: {ids[0]!r}")
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if len(ids) > 1 and len(strings) != catalog.num_plurals:
            found.append(f"{catalog.num_plurals} plural forms wanted: {ids[0]!r}")
        expected = sorted(set().union(*(placeholders(i) for i in ids)))
        for string in strings:
            if not (string or "").strip():
                found.append(f"untranslated: {ids[0]!r}")
                continue
            if sorted(set(placeholders(string))) != expected:
                found.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
            for character in MARKUP:
                if character in string and not any(character in i for i in ids):
                    found.append(f"adds {character!r}: {ids[0]!r} -> {string!r}")
    return found


@pytest.fixture(scope="module")
def messages() -> dict[Message, list[str]]:
    return extract_messages()


def test_the_extraction_finds_the_messages_of_each_kind_of_source(messages):
    where = {place.split(":")[0] for places in messages.values() for place in places}
    # Python (gettext, lazy_gettext, N_), templates (_, ngettext) and the catalog file.
    assert "app/identifiers.py" in where
    assert "app/wizard/forms.py" in where
    assert "templates/base.html" in where
    assert "app/catalog/catalog.toml" in where
    assert "Enter the VIN." in messages
    assert "A VIN has %(expected)d characters; this one has %(length)d." in messages
    assert ("%(num)d answer saved", "%(num)d answers saved") in messages
    assert "Retrofit meter reader" in messages
    assert len(messages) > 250


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_translation(messages, language):
    found = problems(messages, load(language))
    assert not found, f"{len(found)} problem(s) in {language}:\n" + "\n".join(found)


def test_a_message_without_a_translation_fails_the_check():
    catalog = Catalog(locale="nl")
    catalog.add("Sign in", "Aanmelden")
    catalog.add("Question %(number)d of %(count)d", "Vraag %(number)d")
    catalog.add("Continue", "Doorgaan", flags=["fuzzy"])
    catalog.add("Back", "")

    found = problems(
        ["Sign in", "Question %(number)d of %(count)d", "Continue", "Back", "Cancel this request"],
        catalog,
    )

    assert found == [
        "placeholders differ: 'Question %(number)d of %(count)d' -> 'Vraag %(number)d'",
        "fuzzy: 'Continue'",
        "untranslated: 'Back'",
        "missing: 'Cancel this request'",
    ]


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_is_the_language_it_says(language):
    catalog = load(language)
    assert str(catalog.locale) == language
    assert catalog.get("Sign in") is not None


def test_every_text_of_the_catalog_file_is_extracted(messages):
    catalog = load_catalog()
    texts = set()
    for entity_type in catalog.types.values():
        texts |= {entity_type.label, entity_type.description}
        for manufacturer in entity_type.manufacturers.values():
            for attribute in manufacturer.attributes:
                texts |= {attribute.label, attribute.hint}
                texts |= {choice.label for choice in attribute.choices}
                if attribute.description:
                    texts.add(attribute.description)
            if manufacturer.pairing:
                pairing = manufacturer.pairing
                texts |= {pairing.label, pairing.hint, pairing.description}
    assert texts - set(messages) == set()


def test_the_catalog_extractor_gives_each_text_its_line_and_place():
    source = (
        '[types.EV]\nlabel = "Electric vehicle"\ndescription = "A car."\n'
        '[types.EV.manufacturers.Tesla]\nprovider = "tesla"\n'
        'attributes = [{ name = "vin", label = "VIN", hint = "17 \\"letters\\"" }]\n'
    )

    assert catalog_texts(source) == [
        (2, "types.EV.label", "Electric vehicle"),
        (3, "types.EV.description", "A car."),
        (6, "types.EV.manufacturers.Tesla.attributes[0].label", "VIN"),
        (6, "types.EV.manufacturers.Tesla.attributes[0].hint", '17 "letters"'),
    ]


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogs_are_up_to_date(language):
    # The session fixture compiles them; a stale .mo would show old texts.
    po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert mo.exists()
    assert mo.stat().st_mtime >= po.stat().st_mtime
