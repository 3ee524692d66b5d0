"""Normalising and validating how we reach a device's owner: an email address, a mobile number.

Pure rules in the style of app/identifiers.py: each returns the normalised value or raises
IdentifierError with an English template (marked ``N_``) and its parameters, translated
where it is shown (`app.i18n.translate`). The masks hide part of an address where it is
shown to more people than need it (the request's timeline, webhooks).
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from app.identifiers import N_, IdentifierError

# --- Email ---------------------------------------------------------------------------------

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets
_LOCAL_MAX_LENGTH = 64
# The characters of an unquoted local part (RFC 5322 dot-atom), plus letters of any script.
_LOCAL_SPECIALS = frozenset("!#$%&'*+-/=?^_`{|}~.")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)
_EXAMPLE_EMAIL = "name@example.com"


def _shown(character: str) -> str:
    """The character as it can be shown inside quotes in a message."""
    visible = character.isprintable() and not character.isspace()
    return character if visible else f"U+{ord(character):04X}"


def _ascii_domain(domain: str) -> str | None:
    """The domain in ASCII (IDNA for names in other scripts), or None if it cannot be."""
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def validate_email(value: str) -> str:
    """Return the email address trimmed, with its domain in lower case, or raise IdentifierError.

    The rule is the practical one of RFC 5321/5322 (no quoted local parts, no IP-literal
    domains): what people type, and nothing a mail server would refuse.
    """
    address = value.strip()
    if not address:
        raise IdentifierError(N_("Enter an email address"))
    if any(c.isspace() for c in address):
        raise IdentifierError(N_("An email address has no spaces."))
    if "@" not in address:
        raise IdentifierError(
            N_("An email address has an @, as in %(example)s."), example=_EXAMPLE_EMAIL
        )
    if address.count("@") > 1:
        raise IdentifierError(N_("An email address has only one @."))
    local, domain = address.split("@")
    if not local:
        raise IdentifierError(
            N_("Enter the part before the @, as in %(example)s."), example=_EXAMPLE_EMAIL
        )
    if not domain:
        raise IdentifierError(
            N_("Enter the part after the @, as in %(example)s."), example=_EXAMPLE_EMAIL
        )
    for character in local:
        if not (character.isalnum() or character in _LOCAL_SPECIALS):
            raise IdentifierError(
                N_('An email address cannot have "%(character)s" before the @.'),
                character=_shown(character),
            )
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise IdentifierError(
            N_("The part before the @ cannot start or end with a dot, nor have two in a row.")
        )
    if len(local) > _LOCAL_MAX_LENGTH:
        raise IdentifierError(
            N_("The part before the @ has at most %(limit)d characters; this one has %(length)d."),
            limit=_LOCAL_MAX_LENGTH,
            length=len(local),
        )
    domain = domain.lower().rstrip(".")
    ascii_domain = _ascii_domain(domain)
    labels = ascii_domain.split(".") if ascii_domain else []
    if len(labels) < 2:
        raise IdentifierError(
            N_("Enter the part after the @ in full, as in %(example)s."), example=_EXAMPLE_EMAIL
        )
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise IdentifierError(
            N_(
                'The part after the @ ("%(domain)s") is not a domain name; check you typed '
                "it correctly."
            ),
            domain=domain,
        )
    address = f"{local}@{domain}"
    if len(address) > EMAIL_MAX_LENGTH:
        raise IdentifierError(
            N_("An email address has at most %(limit)d characters; this one has %(length)d."),
            limit=EMAIL_MAX_LENGTH,
            length=len(address),
        )
    return address


def mask_email(address: str) -> str:
    """ "alice@example.com" -> "a•••e@example.com": enough to recognise, not to write to."""
    local, _, domain = address.partition("@")
    # Two letters or fewer: the first alone, or the mask would show the whole name.
    hidden = local[:1] + "•••" if len(local) <= 2 else local[0] + "•••" + local[-1]
    return f"{hidden}@{domain}"


# --- Mobile number -------------------------------------------------------------------------

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# What people put in a phone number besides digits: spaces, dots, dashes, brackets, slashes.
_SEPARATORS = frozenset(" .-()/\u00a0")
_EXAMPLE_MOBILE = "+32 470 12 34 56"


def validate_mobile(value: str, default_region: str | None = None) -> str:
    """Return the mobile number in E.164 ("+32470123456"), or raise IdentifierError.

    A number with a country code (+32 or 0032) is read as it is; one without is read as a
    number of `default_region` (an ISO country code such as "BE"), or refused when none is
    given. Text messages only reach mobile phones, so a landline number is refused too.
    """
    number = value.strip()
    if not number:
        raise IdentifierError(N_("Enter a mobile number"))
    for position, character in enumerate(number, start=1):
        if character.isdigit() and character.isascii():
            continue
        if character in _SEPARATORS or (character == "+" and position == 1):
            continue
        raise IdentifierError(
            N_(
                "A mobile number has only digits, spaces and a + at the start; this one has"
                ' "%(character)s".'
            ),
            character=_shown(character),
        )
    compact = "".join(c for c in number if c.isdigit() or c == "+")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+") and default_region is None:
        raise IdentifierError(
            N_("Start with the country code, for example %(example)s."), example=_EXAMPLE_MOBILE
        )
    try:
        parsed = phonenumbers.parse(compact, None if compact.startswith("+") else default_region)
    except NumberParseException as error:
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise IdentifierError(
                N_("The country code is not one we know; start with it, for example %(example)s."),
                example=_EXAMPLE_MOBILE,
            ) from None
        raise IdentifierError(
            N_("This mobile number is too short; check you typed all of it.")
        ) from None
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible in (ValidationResult.TOO_SHORT, ValidationResult.INVALID_LENGTH):
        raise IdentifierError(N_("This mobile number is too short; check you typed all of it."))
    if possible == ValidationResult.TOO_LONG:
        raise IdentifierError(N_("This mobile number is too long; check you typed it once."))
    if possible == ValidationResult.INVALID_COUNTRY_CODE:
        raise IdentifierError(
            N_("The country code is not one we know; start with it, for example %(example)s."),
            example=_EXAMPLE_MOBILE,
        )
    if not phonenumbers.is_valid_number(parsed):
        raise IdentifierError(N_("This is not a valid phone number; check the digits."))
    if phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise IdentifierError(
            N_("This is not a mobile number; text messages only reach mobile phones.")
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_mobile(number: str) -> str:
    """ "+32470123456" -> "+32 ••• ••• 456": the country code and the last three digits."""
    try:
        country = str(phonenumbers.parse(number, None).country_code)
    except NumberParseException:
        country = ""
    if not country:
        return "••• " + number[-3:]
    return f"+{country} ••• ••• {number[-3:]}"
