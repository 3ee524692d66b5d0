"""Normalising and validating the identifiers a device owner types: VIN, EAN and catalog codes.

Pure Python so that the wizard, the API and the tests share one set of rules.
Every error carries an English message template and its parameters, so the
message can be translated later; literal templates are marked with ``N_`` for
Babel's extractor.
"""

import re
import unicodedata
from collections.abc import Callable

from stdnum.ean import calc_check_digit as gs1_check_digit
from vininfo import Vin
from vininfo.exceptions import ValidationError


def N_(text: str) -> str:
    """Mark ``text`` as a message template for extraction; return it unchanged."""
    return text


class IdentifierError(ValueError):
    """A value that is not a valid identifier.

    ``message`` is plain words for the person who typed it: ``template % params``.
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params: dict[str, object] = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The template filled in with its parameters."""
        return self.template % self.params

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # The keyword params would otherwise be lost when pickled (e.g. by a process pool).
        return (_rebuild_identifier_error, (self.template, self.params))


def _rebuild_identifier_error(template: str, params: dict[str, object]) -> IdentifierError:
    return IdentifierError(template, **params)


# Characters dropped by normalise(): besides str.isspace() whitespace (which covers the
# non-breaking and other Unicode spaces), the invisible ones that arrive by copy and paste,
# and the dashes that look like a hyphen.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_HYPHENS = "-\u00ad\u2010\u2011\u2012\u2013\u2014\u2212\ufe58\ufe63\uff0d"
_DROPPED = frozenset(_INVISIBLE + _HYPHENS)


def normalise(value: str) -> str:
    """Fold compatibility forms (NFKC: a full-width W or 1 typed on a CJK keyboard is W
    or 1), upper-case, and drop spaces and hyphens (and their Unicode lookalikes)."""
    folded = unicodedata.normalize("NFKC", value).upper()
    return "".join(c for c in folded if not c.isspace() and c not in _DROPPED)


def _shown(character: str) -> str:
    """The character as it can be shown inside quotes in a message."""
    return character if character.isprintable() else f"U+{ord(character):04X}"


# --- VIN ----------------------------------------------------------------------------------

_VIN_LENGTH = 17
_VIN_CHARACTERS = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
# Letter values and position weights of the North American check digit (49 CFR 565.15).
_VIN_LETTER_VALUES = {
    letter: int(value)
    for letter, value in zip("ABCDEFGHJKLMNPRSTUVWXYZ", "12345678123457923456789", strict=True)
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_CHECK_DIGIT_INDEX = 8
# World manufacturer identifiers starting 1-5 are North America, where the check digit is
# mandatory; elsewhere position 9 is often a filler such as "Z" and must not be checked.
_NORTH_AMERICAN_REGIONS = frozenset("12345")


def _vin_check_digit(vin: str) -> str:
    total = sum(
        (int(c) if c.isdigit() else _VIN_LETTER_VALUES[c]) * weight
        for c, weight in zip(vin, _VIN_WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value: str) -> str:
    """Return the normalised VIN, or raise IdentifierError saying what is wrong with it."""
    vin = normalise(value)
    if not vin:
        raise IdentifierError(N_("Enter the VIN."))
    for position, character in enumerate(vin, start=1):
        if character in _VIN_CHARACTERS:
            continue
        if character in "OQ":
            template = N_(
                "A VIN has only digits and the letters A to Z except I, O and Q; this one has"
                ' "%(character)s" at position %(position)d, which is often a 0 (zero).'
            )
        elif character == "I":
            template = N_(
                "A VIN has only digits and the letters A to Z except I, O and Q; this one has"
                ' "%(character)s" at position %(position)d, which is often a 1 (one).'
            )
        else:
            template = N_(
                "A VIN has only digits and the letters A to Z except I, O and Q; this one has"
                ' "%(character)s" at position %(position)d.'
            )
        raise IdentifierError(template, character=_shown(character), position=position)
    if len(vin) != _VIN_LENGTH:
        raise IdentifierError(
            N_("A VIN has %(expected)d characters; this one has %(length)d."),
            expected=_VIN_LENGTH,
            length=len(vin),
        )
    if vin[0] in _NORTH_AMERICAN_REGIONS and vin[_VIN_CHECK_DIGIT_INDEX] != _vin_check_digit(vin):
        raise IdentifierError(
            N_(
                "This VIN's check digit (the 9th character) does not match the others;"
                " check you typed it correctly."
            )
        )
    return vin


_WMI_LENGTH = 3
# vininfo's name for a WMI it does not know.
_UNKNOWN_MAKER = "UnsupportedBrand"


def is_wmi(value: object) -> bool:
    """Whether `value` is a world manufacturer identifier: 3 VIN characters (upper case)."""
    return (
        isinstance(value, str)
        and len(value) == _WMI_LENGTH
        and all(c in _VIN_CHARACTERS for c in value)
    )


def vin_maker(vin: str) -> str | None:
    """The maker the world WMI table (vininfo's) names for a valid VIN, or None if unknown.

    Only for makers the catalog does not list: the catalog's own WMI lists decide for its
    brands (vininfo names KMH "Genesis", where most KMH cars are Hyundais).
    """
    try:
        name = Vin(vin).manufacturer
    except ValidationError:
        return None
    if not name or name == _UNKNOWN_MAKER:
        return None
    # "Opel/Vauxhall", "Scania, Södertälje": the first name is the one people say.
    return re.split(r"[/,]", name)[0].strip() or None


# --- EAN of a connection point -------------------------------------------------------------

_EAN_LENGTH = 18
_DIGITS = frozenset("0123456789")
# GS1 prefixes of the Belgian (54) and Dutch (87) grid operators' connection point EANs.
_EAN_COUNTRY_PREFIXES = ("54", "87")


def validate_ean(value: str) -> str:
    """Return the normalised 18-digit EAN of a Belgian or Dutch connection point, or raise."""
    ean = normalise(value)
    if not ean:
        raise IdentifierError(N_("Enter the EAN."))
    for position, character in enumerate(ean, start=1):
        if character not in _DIGITS:
            raise IdentifierError(
                N_(
                    'An EAN has only digits; this one has "%(character)s" at position %(position)d.'
                ),
                character=_shown(character),
                position=position,
            )
    if len(ean) != _EAN_LENGTH:
        raise IdentifierError(
            N_("An EAN has %(expected)d digits; this one has %(length)d."),
            expected=_EAN_LENGTH,
            length=len(ean),
        )
    if not ean.startswith(_EAN_COUNTRY_PREFIXES):
        raise IdentifierError(
            N_(
                "An EAN of a Belgian or Dutch connection point starts with 54 or 87;"
                " this one starts with %(prefix)s."
            ),
            prefix=ean[:2],
        )
    # stdnum's EAN check digit weighs digits from the right, so it holds for any length.
    if gs1_check_digit(ean[:-1]) != ean[-1]:
        raise IdentifierError(
            N_(
                "This EAN's last digit (the check digit) does not match the others;"
                " check you typed it correctly."
            )
        )
    return ean


# --- Codes from the catalog ----------------------------------------------------------------


def validate_code(
    value: str,
    pattern: str,
    *,
    description: str,
    example: str | None = None,
    message: str | None = None,
) -> str:
    """Return the normalised code if all of it matches ``pattern``, or raise IdentifierError.

    ``description`` says in words what the pattern asks for ("P followed by 10 digits");
    ``message``, when given, is said instead of "This should be <description>".
    The pattern is matched against the normalised (upper-case, no spaces or hyphens) value,
    with ASCII-only classes so that ``\\d`` does not accept other scripts' digits.
    """
    code = normalise(value)
    if not code:
        raise IdentifierError(N_("Enter the code."))
    if re.fullmatch(pattern, code, flags=re.ASCII) is None:
        if message is not None:
            raise IdentifierError(message)
        if example is None:
            raise IdentifierError(N_("This should be %(description)s."), description=description)
        raise IdentifierError(
            N_("This should be %(description)s, for example %(example)s."),
            description=description,
            example=example,
        )
    return code


VALIDATORS: dict[str, Callable[[str], str]] = {"vin": validate_vin, "ean": validate_ean}
