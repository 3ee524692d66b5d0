"""The rules for an owner's email address and mobile number, and how they are masked."""

import pytest

from app.contacts import mask_email, mask_mobile, validate_email, validate_mobile
from app.identifiers import IdentifierError


def message_of(validator, value: str, *args) -> str:
    with pytest.raises(IdentifierError) as caught:
        validator(value, *args)
    return caught.value.message


# --- email ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  alice@example.com\t", "alice@example.com"),
        # The domain is case-insensitive; the part before the @ is the mail server's business.
        ("Alice.Smith@Example.COM", "Alice.Smith@example.com"),
        ("o'brien+onboarding@mail.example.ie", "o'brien+onboarding@mail.example.ie"),
        ("jürgen@bäcker.de", "jürgen@bäcker.de"),
        ("x@example.com.", "x@example.com"),
    ],
)
def test_valid_email_addresses_are_kept_normalised(typed, kept):
    assert validate_email(typed) == kept


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an email address"),
        ("   ", "Enter an email address"),
        ("alice example.com", "An email address has no spaces."),
        ("alice@exa mple.com", "An email address has no spaces."),
        ("alice.example.com", "An email address has an @, as in name@example.com."),
        ("alice@@example.com", "An email address has only one @."),
        ("a@b@example.com", "An email address has only one @."),
        ("@example.com", "Enter the part before the @, as in name@example.com."),
        ("alice@", "Enter the part after the @, as in name@example.com."),
        ("alice@example", "Enter the part after the @ in full, as in name@example.com."),
        ("ali,ce@example.com", 'An email address cannot have "," before the @.'),
        ("<alice>@example.com", 'An email address cannot have "<" before the @.'),
        (
            ".alice@example.com",
            "The part before the @ cannot start or end with a dot, nor have two in a row.",
        ),
        (
            "al..ice@example.com",
            "The part before the @ cannot start or end with a dot, nor have two in a row.",
        ),
        (
            "alice@-example.com",
            'The part after the @ ("-example.com") is not a domain name; check you typed it'
            " correctly.",
        ),
        (
            "alice@exam_ple.com",
            'The part after the @ ("exam_ple.com") is not a domain name; check you typed it'
            " correctly.",
        ),
        (
            "alice@10.0.0.1",
            'The part after the @ ("10.0.0.1") is not a domain name; check you typed it correctly.',
        ),
        (
            "a" * 65 + "@example.com",
            "The part before the @ has at most 64 characters; this one has 65.",
        ),
        (
            "alice@" + ".".join(["d" * 60] * 5) + ".com",
            "An email address has at most 254 characters; this one has 314.",
        ),
    ],
)
def test_invalid_email_addresses_say_what_is_wrong(typed, message):
    assert message_of(validate_email, typed) == message


def test_a_line_break_never_gets_into_an_address():
    # A header injection attempt is refused like any space.
    assert message_of(validate_email, "alice@example.com\nBcc: x@evil.example") == (
        "An email address has no spaces."
    )


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("alice@example.com", "a•••e@example.com"),
        ("al@example.com", "a•••@example.com"),
        ("a@example.com", "a•••@example.com"),
    ],
)
def test_an_email_address_is_masked_but_recognisable(address, masked):
    assert mask_email(address) == masked


# --- mobile number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+32 470 12 34 56", "+32470123456"),
        ("+32470123456", "+32470123456"),
        ("0032 470 12 34 56", "+32470123456"),
        ("+32 (0)470/12.34.56", "+32470123456"),
        ("+31 6 12345678", "+31612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+49 1512 3456789", "+4915123456789"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_valid_mobile_numbers_come_back_in_e164(typed, e164):
    assert validate_mobile(typed) == e164


def test_a_national_number_needs_the_country_unless_one_is_configured():
    assert message_of(validate_mobile, "0470 12 34 56") == (
        "Start with the country code, for example +32 470 12 34 56."
    )
    assert validate_mobile("0470 12 34 56", "BE") == "+32470123456"
    assert validate_mobile("06 12345678", "NL") == "+31612345678"
    # A country code typed wins over the configured country.
    assert validate_mobile("+31 6 12345678", "BE") == "+31612345678"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a mobile number"),
        (
            "+32 470 12 34 5x",
            'A mobile number has only digits, spaces and a + at the start; this one has "x".',
        ),
        (
            "32+470123456",
            'A mobile number has only digits, spaces and a + at the start; this one has "+".',
        ),
        ("+32 470 12 34", "This mobile number is too short; check you typed all of it."),
        ("+", "This mobile number is too short; check you typed all of it."),
        ("+32 470 12 34 56 78 90", "This mobile number is too long; check you typed it once."),
        (
            "+999 470 12 34 56",
            "The country code is not one we know; start with it, for example +32 470 12 34 56.",
        ),
        ("+32 470 12 34 5", "This is not a valid phone number; check the digits."),
        # Landlines of Brussels, Ghent and Amsterdam cannot receive a text message.
        ("+32 2 511 11 11", "This is not a mobile number; text messages only reach mobile phones."),
        ("+32 9 265 00 00", "This is not a mobile number; text messages only reach mobile phones."),
        (
            "+31 20 123 4567",
            "This is not a mobile number; text messages only reach mobile phones.",
        ),
    ],
)
def test_invalid_mobile_numbers_say_what_is_wrong(typed, message):
    assert message_of(validate_mobile, typed) == message


def test_a_mobile_number_is_masked_to_its_country_and_last_digits():
    assert mask_mobile("+32470123456") == "+32 ••• ••• 456"
    assert mask_mobile("+4915123456789") == "+49 ••• ••• 789"
