import pickle

import pytest

from app.identifiers import (
    N_,
    VALIDATORS,
    IdentifierError,
    normalise,
    validate_code,
    validate_ean,
    validate_vin,
)


def gsrn_check_digit(body: str) -> str:
    """GS1 check digit for a 17-digit body, written out independently of the app's stdnum use.

    From the left, the digits of an 18-digit GSRN body are weighted 3, 1, 3, 1, ... 3.
    """
    assert len(body) == 17
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body))
    return str(-total % 10)


def with_check_digit(body: str) -> str:
    return body + gsrn_check_digit(body)


def wrong_last_digit(ean: str) -> str:
    return ean[:-1] + str((int(ean[-1]) + 1) % 10)


def message_of(validator, value: str) -> str:
    with pytest.raises(IdentifierError) as caught:
        validator(value)
    return caught.value.message


# --- the error itself ----------------------------------------------------------------------


def test_error_message_is_template_filled_with_params():
    error = IdentifierError("A VIN has 17 characters; this one has %(length)d.", length=16)

    assert error.template == "A VIN has 17 characters; this one has %(length)d."
    assert error.params == {"length": 16}
    assert error.message == "A VIN has 17 characters; this one has 16."
    assert str(error) == error.message
    assert isinstance(error, ValueError)


def test_error_without_params():
    error = IdentifierError("Enter the VIN")

    assert error.params == {}
    assert str(error) == "Enter the VIN"


def test_error_survives_pickling():
    error = pickle.loads(pickle.dumps(IdentifierError("%(n)d digits", n=3)))

    assert (error.template, error.params, str(error)) == ("%(n)d digits", {"n": 3}, "3 digits")


def test_n_returns_text_unchanged():
    assert N_("Enter the code") == "Enter the code"


def test_errors_raised_keep_template_and_params_apart():
    with pytest.raises(IdentifierError) as caught:
        validate_vin("1HGCM82633A00435")

    assert "%(" in caught.value.template
    assert 16 in caught.value.params.values()


# --- normalise -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("  1hgcm82633a004352 ", "1HGCM82633A004352"),
        ("1HG CM8 2633 A004352", "1HGCM82633A004352"),
        ("1HG-CM8-2633-A004352", "1HGCM82633A004352"),
        ("54 1448 8200 1234 5678", "541448820012345678"),
        ("\t54-1448\n8200", "5414488200"),
        ("54\u00a01448\u202f8200", "5414488200"),  # non-breaking and narrow no-break spaces
        ("54\u20131448\u22128200\u2010", "5414488200"),  # en dash, minus sign, hyphen
        ("\ufeff54\u200b1448", "541448"),  # pasted byte-order mark and zero-width space
        ("p 100-000-0000", "P1000000000"),
        ("", ""),
        ("  - ", ""),
    ],
)
def test_normalise(typed, normalised):
    assert normalise(typed) == normalised


# --- VIN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vin",
    [
        "1HGCM82633A004352",  # Honda Accord, USA: check digit 3
        "1M8GDM9AXKP042788",  # Motor Coach Industries bus: check digit X
        "3VWFE21C04M000001",  # Volkswagen, Mexico: check digit 0
        "5YJ3E1EA2KF317000",  # Tesla Model 3, USA
        "2T1BURHE5JC034461",  # Toyota Corolla, Canada
        "4T1BF1FKXCU063895",  # Toyota Camry, USA
        "11111111111111111",
    ],
)
def test_north_american_vin_with_correct_check_digit_is_valid(vin):
    assert validate_vin(vin) == vin


@pytest.mark.parametrize(
    "vin",
    [
        "WVWZZZ1JZXW000001",  # Volkswagen Golf, Germany: "Z" filler in position 9
        "WAUZZZ8V0KA000000",  # Audi A3, Germany: 0 where North America would need 4
        "WBA8E9C50GK000000",  # BMW, Germany
        "VF1RFB00X56000000",  # Renault, France
        "SALGA2EV9HA000000",  # Land Rover, United Kingdom
        "YV1DZ8256C2000000",  # Volvo, Sweden
        "JN1TANT31U0000000",  # Nissan, Japan
        "KMHD841CBJU000000",  # Hyundai, Korea
        "LRW3E7FA1MC000000",  # Tesla, China
        "9BWZZZ377VT004251",  # Volkswagen, Brazil
    ],
)
def test_vin_outside_north_america_is_valid_whatever_its_ninth_character(vin):
    assert validate_vin(vin) == vin


@pytest.mark.parametrize(
    ("typed", "vin"),
    [
        ("1hgcm82633a004352", "1HGCM82633A004352"),
        (" 1HGCM 82633 A004352 ", "1HGCM82633A004352"),
        ("1HGCM-82633-A004352", "1HGCM82633A004352"),
        ("wvw zzz 1jz xw 000001", "WVWZZZ1JZXW000001"),
        ("WVW\u2013ZZZ1JZXW\u00a0000001", "WVWZZZ1JZXW000001"),
    ],
)
def test_vin_is_normalised_before_it_is_checked(typed, vin):
    assert validate_vin(typed) == vin


@pytest.mark.parametrize("typed", ["", "   ", " - ", "\u00a0"])
def test_empty_vin_asks_for_one(typed):
    assert message_of(validate_vin, typed) == "Enter the VIN."


@pytest.mark.parametrize(
    ("vin", "length"),
    [
        ("1HGCM82633A00435", 16),
        ("1HGCM82633A0043521", 18),
        ("WVWZZZ1JZXW00001", 16),
        ("1HGCM", 5),
    ],
)
def test_vin_of_wrong_length_says_how_many_characters(vin, length):
    assert message_of(validate_vin, vin) == (f"A VIN has 17 characters; this one has {length}.")


@pytest.mark.parametrize(
    ("vin", "character", "position", "hint"),
    [
        ("1HGCMO2633A004352", "O", 6, ", which is often a 0 (zero)"),
        ("WVWZZZ1JZXWOOOOO1", "O", 12, ", which is often a 0 (zero)"),
        ("1HGCM82633AQ04352", "Q", 12, ", which is often a 0 (zero)"),
        ("IHGCM82633A004352", "I", 1, ", which is often a 1 (one)"),
        ("wvwzzz1jzxw00000i", "I", 17, ", which is often a 1 (one)"),
        ("1HGCM82633A00435*", "*", 17, ""),
        ("WVWZZZ1JZÄW000001", "Ä", 10, ""),
    ],
)
def test_vin_with_a_character_it_cannot_have_says_which_and_where(vin, character, position, hint):
    assert message_of(validate_vin, vin) == (
        "A VIN has only digits and the letters A to Z except I, O and Q;"
        f' this one has "{character}" at position {position}{hint}.'
    )


def test_invalid_vin_character_position_counts_only_what_is_kept():
    # Spaces and hyphens are dropped, so positions are those of the VIN itself.
    assert "at position 6" in message_of(validate_vin, "1HGCM-O2633-A004352")


def test_invalid_vin_character_is_reported_before_the_length():
    assert '"O" at position 6' in message_of(validate_vin, "1HGCMO2633A00435")


@pytest.mark.parametrize(
    "vin",
    [
        "1HGCM82643A004352",  # 4 typed for the check digit 3
        "1HGCM82633A004353",  # last digit mistyped
        "1M8GDM9A1KP042788",  # 1 typed for X
        "5YJ3E1EA7KF317000",
        "2T1BURHE0JC034461",
        "4T1BF1FK5CU063895",
        "5UXWX7C5XBA000000",
        "1FTFW1ETZDFC10312",  # a European-style filler is not allowed in North America
    ],
)
def test_north_american_vin_with_wrong_check_digit_is_refused(vin):
    assert message_of(validate_vin, vin) == (
        "This VIN's check digit (the 9th character) does not match the others;"
        " check you typed it correctly."
    )


# --- EAN -----------------------------------------------------------------------------------

BELGIAN_EANS = [
    "541448820012345678",  # Fluvius-style
    "541453020000000127",
    with_check_digit("54144882000000001"),
    with_check_digit("54145400999999999"),
]
DUTCH_EANS = [
    "871694800000123452",  # Liander-style
    "871687120000045678",  # Enexis-style
    "871692400123456783",  # Stedin-style
    with_check_digit("87168600000000001"),
]


def test_hard_coded_eans_agree_with_the_independent_check_digit():
    for ean in BELGIAN_EANS + DUTCH_EANS:
        assert ean[-1] == gsrn_check_digit(ean[:-1]), ean


@pytest.mark.parametrize("ean", BELGIAN_EANS + DUTCH_EANS)
def test_belgian_or_dutch_ean_with_correct_check_digit_is_valid(ean):
    assert validate_ean(ean) == ean


@pytest.mark.parametrize(
    ("typed", "ean"),
    [
        ("54 1448 8200 1234 5678", "541448820012345678"),
        ("541448-820012-345678", "541448820012345678"),
        (" 871694800000123452\n", "871694800000123452"),
        ("8716\u00a09480\u00a00000\u00a0123452", "871694800000123452"),
    ],
)
def test_ean_is_normalised_before_it_is_checked(typed, ean):
    assert validate_ean(typed) == ean


@pytest.mark.parametrize("typed", ["", "  ", "--"])
def test_empty_ean_asks_for_one(typed):
    assert message_of(validate_ean, typed) == "Enter the EAN."


@pytest.mark.parametrize(
    ("ean", "length"),
    [
        ("54144882001234567", 17),
        ("5414488200123456780", 19),
        ("8716948000001234", 16),
        ("5414488200123", 13),  # a product barcode, not a connection point
    ],
)
def test_ean_of_wrong_length_says_how_many_digits(ean, length):
    assert message_of(validate_ean, ean) == f"An EAN has 18 digits; this one has {length}."


@pytest.mark.parametrize(
    ("ean", "character", "position"),
    [
        ("54A448820012345678", "A", 3),
        ("54144882001234567o", "O", 18),
        ("EAN541448820012345678", "E", 1),
        ("5414488200.12345678", ".", 11),
    ],
)
def test_ean_with_a_character_that_is_not_a_digit_says_which_and_where(ean, character, position):
    assert message_of(validate_ean, ean) == (
        f'An EAN has only digits; this one has "{character}" at position {position}.'
    )


def test_ean_with_arabic_indic_digits_is_refused():
    # str.isdigit() accepts these; a connection point's EAN never has them.
    message = message_of(validate_ean, "54\u0661448820012345678")
    assert message == 'An EAN has only digits; this one has "\u0661" at position 3.'


@pytest.mark.parametrize("ean", BELGIAN_EANS + DUTCH_EANS)
def test_ean_with_wrong_check_digit_is_refused(ean):
    assert message_of(validate_ean, wrong_last_digit(ean)) == (
        "This EAN's last digit (the check digit) does not match the others;"
        " check you typed it correctly."
    )


def test_ean_with_two_digits_swapped_is_refused():
    swapped = "541448820012345768"  # ...678 typed as ...768
    assert message_of(validate_ean, swapped).startswith("This EAN's last digit")


@pytest.mark.parametrize(
    ("body", "prefix"),
    [
        ("40123456789012345", "40"),  # Germany
        ("30123456789012345", "30"),  # France
        ("50123456789012345", "50"),  # United Kingdom
        ("57123456789012345", "57"),  # Denmark
        ("45123456789012345", "45"),
        ("00000000000000000", "00"),
    ],
)
def test_ean_from_another_country_is_refused_even_with_correct_check_digit(body, prefix):
    assert message_of(validate_ean, with_check_digit(body)) == (
        "An EAN of a Belgian or Dutch connection point starts with 54 or 87;"
        f" this one starts with {prefix}."
    )


# --- codes ---------------------------------------------------------------------------------

PAIRING_CODE = r"P\d{10}"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("P1000000000", "P1000000000"),
        ("p1000000000", "P1000000000"),
        (" P 100 000 0000 ", "P1000000000"),
        ("P-1234-567-890", "P1234567890"),
    ],
)
def test_code_matching_the_pattern_is_returned_normalised(typed, code):
    assert validate_code(typed, PAIRING_CODE, description="P followed by 10 digits") == code


@pytest.mark.parametrize(
    ("typed", "pattern", "code"),
    [
        ("ab12cd", r"[A-Z]{2}\d{2}[A-Z]{2}", "AB12CD"),
        ("123456", r"\d{6}", "123456"),
        ("ref 2024 0001", r"REF\d{8}", "REF20240001"),
    ],
)
def test_code_matches_other_catalog_patterns(typed, pattern, code):
    assert validate_code(typed, pattern, description="a code") == code


@pytest.mark.parametrize(
    "typed",
    [
        "P100000000",  # 9 digits
        "P10000000000",  # 11 digits
        "Q1000000000",
        "1000000000",
        "XP1000000000",  # the whole value must match, not just part of it
        "P1000000000X",
        "P\u0661" + "\u0660" * 9,  # Arabic-Indic digits are not the digits the pattern means
    ],
)
def test_code_not_matching_the_pattern_says_what_it_should_be_with_an_example(typed):
    message = message_of(
        lambda value: validate_code(
            value, PAIRING_CODE, description="P followed by 10 digits", example="P1000000000"
        ),
        typed,
    )
    assert message == "This should be P followed by 10 digits, for example P1000000000."


def test_code_not_matching_the_pattern_without_an_example():
    message = message_of(
        lambda value: validate_code(value, r"\d{6}", description="6 digits"), "12345"
    )
    assert message == "This should be 6 digits."


@pytest.mark.parametrize("typed", ["", "   ", "-"])
def test_empty_code_asks_for_one(typed):
    message = message_of(
        lambda value: validate_code(value, PAIRING_CODE, description="P followed by 10 digits"),
        typed,
    )
    assert message == "Enter the code."


# --- registry and wording ------------------------------------------------------------------


def test_validators_are_looked_up_by_identifier_kind():
    assert sorted(VALIDATORS) == ["ean", "vin"]
    assert VALIDATORS["vin"] is validate_vin
    assert VALIDATORS["ean"] is validate_ean
    assert VALIDATORS["vin"](" 1hgcm82633a004352") == "1HGCM82633A004352"
    assert VALIDATORS["ean"]("54 1448 8200 1234 5678") == "541448820012345678"


@pytest.mark.parametrize(
    ("validator", "value"),
    [
        (validate_vin, ""),
        (validate_vin, "1HGCM82633A00435"),
        (validate_vin, "1HGCMO2633A004352"),
        (validate_vin, "1HGCM82643A004352"),
        (validate_ean, ""),
        (validate_ean, "54144882001234567"),
        (validate_ean, "54A448820012345678"),
        (validate_ean, "541448820012345679"),
        (validate_ean, with_check_digit("40123456789012345")),
    ],
)
def test_messages_are_plain_words(validator, value):
    message = message_of(validator, value).lower()
    for jargon in ("regex", "pattern", "modulus", "mod 10", "checksum", "gsrn", "iso", "invalid"):
        assert jargon not in message
    assert "%(" not in message
