"""The catalog-driven details of identifiers: NFKC folding, a catalog pattern on top of the
EAN rule, whole-sentence messages that keep a brand's capitals, the number pad for
digit-only codes, and the VIN's maker from its WMI."""

from __future__ import annotations

import textwrap

import pytest

from app.catalog import CatalogError, load_catalog
from app.catalog.babel import catalog_texts
from app.catalog.model import DEFAULT_PATH, Attribute
from app.identifiers import IdentifierError, is_wmi, normalise, validate_ean, validate_vin
from app.identifiers import vin_maker as world_vin_maker
from app.onboarding.makers import BRAND_MAX_LENGTH, clean_brand_name

DUTCH_EAN = "871694800000123452"  # a valid GSRN of a Dutch grid operator
BELGIAN_EAN = "541448820000000008"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def full_width(text: str) -> str:
    """`text` as a CJK keyboard types it: the full-width forms of ASCII letters and digits."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def message_of(clean, raw):
    with pytest.raises(IdentifierError) as caught:
        clean(raw)
    return caught.value.message


# ---------------------------------------------------------------- NFKC


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        (
            full_width("WAUZZZ8V0KA000000"),
            "WAUZZZ8V0KA000000",
        ),  # full-width letters and digits
        (full_width("wauzzz8v0ka00000o"), "WAUZZZ8V0KA00000O"),  # full-width lower case
        (
            full_width("WAU-ZZZ\u30008V0KA000000"),
            "WAUZZZ8V0KA000000",
        ),  # full-width hyphen and space
        ("\u2460", "1"),  # a circled one is a compatibility form of 1
    ],
)
def test_normalise_folds_compatibility_forms(typed, normalised):
    assert normalise(typed) == normalised


def test_full_width_vin_and_ean_pass_the_rules_and_come_back_plain():
    assert validate_vin(full_width("WAUZZZ8V0KA000000")) == "WAUZZZ8V0KA000000"
    assert validate_ean(full_width("5414 4882 0000 000008")) == BELGIAN_EAN


def test_other_scripts_digits_are_not_folded_into_ascii():
    # NFKC keeps Arabic-Indic digits as they are; the rules refuse them by name.
    assert "position 1" in message_of(validate_ean, "\u0665" + BELGIAN_EAN[1:])


# ---------------------------------------------------------------- the Fluvius pattern


def test_fluvius_refuses_a_dutch_ean_with_its_own_message(catalog):
    ean = catalog.manufacturer("SmartMeter", "Fluvius").attribute("ean")

    assert validate_ean(DUTCH_EAN) == DUTCH_EAN  # a valid EAN in general...
    assert message_of(ean.clean, DUTCH_EAN) == (  # ...but not one Fluvius connects
        "Fluvius connects Belgian connection points only, whose EAN starts with 54."
        " Check the EAN on your energy bill."
    )
    assert ean.clean(full_width("541448820000000008")) == BELGIAN_EAN


def test_fluvius_hint_and_rule_agree(catalog):
    ean = catalog.manufacturer("SmartMeter", "Fluvius").attribute("ean")

    assert "starting with 54" in ean.hint
    assert ean.pattern == "54[0-9]{16}"
    assert ean.clean(ean.example) == ean.example


def write(tmp_path, attributes: str, extra: str = "") -> str:
    path = tmp_path / "catalog.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [types.Meter]
            label = "Meter"
            description = "A meter."
            steps = ["terms", "redirect"]

            [types.Meter.manufacturers.Acme]
            provider = "acme"
            {extra}
            attributes = [{attributes}]
            """
        )
    )
    return str(path)


def test_a_catalog_pattern_on_the_ean_rule_needs_a_message(tmp_path):
    path = write(
        tmp_path,
        '{ name = "ean", label = "EAN", hint = "18 digits.", rule = "ean",'
        ' pattern = "54[0-9]{16}" }',
    )
    with pytest.raises(CatalogError, match="'message' must be a non-empty string"):
        load_catalog(path)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            'rule = "choice", choices = [{ value = "a", label = "A" }], pattern = "a"',
            "a 'choice' attribute cannot have a 'pattern'",
        ),
        ('rule = "ean", pattern = "54[", message = "Belgian only."', "not a valid regular"),
        (
            'rule = "ean", pattern = "54[0-9]{16}", message = "Only 100% Belgian."',
            "'message' must be a whole sentence",
        ),
        (
            'rule = "ean", pattern = "54[0-9]{16}", message = "Belgian only"',
            "'message' must be a whole sentence",
        ),
        ('rule = "ean", message = "Belgian only."', "'message' goes with a 'pattern'"),
        ('rule = "ean", missing = "Enter %(what)s."', "'missing' must be a whole sentence"),
        (
            'rule = "ean", pattern = "54[0-9]{16}", message = "Belgian only.", '
            'example = "871694800000123452"',
            "does not match the pattern",
        ),
    ],
)
def test_the_loader_names_a_broken_pattern_or_message(tmp_path, entry, problem):
    path = write(tmp_path, f'{{ name = "x", label = "X", hint = "A hint.", {entry} }}')
    with pytest.raises(CatalogError, match=problem) as caught:
        load_catalog(path)
    assert "types.Meter.manufacturers.Acme.attributes.x" in str(caught.value)


@pytest.mark.parametrize(
    ("wmi", "problem"),
    [
        ('["WA"]', "is not a WMI"),
        ('["WAO"]', "is not a WMI"),  # O is no VIN character
        ('["wau"]', "is not a WMI"),
        ('"WAU"', "must be a list"),
    ],
)
def test_the_loader_checks_wmi_lists(tmp_path, wmi, problem):
    vin = '{ name = "vin", label = "VIN", hint = "17 characters.", rule = "vin" }'
    with pytest.raises(CatalogError, match=problem):
        load_catalog(write(tmp_path, vin, extra=f"wmi = {wmi}"))


def test_a_wmi_without_a_vin_or_on_two_makers_is_refused(tmp_path):
    code = (
        '{ name = "code", label = "Code", hint = "6 digits.", rule = "pattern",'
        ' pattern = "[0-9]{6}", description = "6 digits" }'
    )
    with pytest.raises(CatalogError, match="only a manufacturer asked for a VIN has WMIs"):
        load_catalog(write(tmp_path, code, extra='wmi = ["WAU"]'))

    source = DEFAULT_PATH.read_text().replace('wmi = ["WVW",', 'wmi = ["WAU", "WVW",')
    path = tmp_path / "two.toml"
    path.write_text(source)
    with pytest.raises(CatalogError, match="'WAU' is also Audi's"):
        load_catalog(path)


# ---------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("type_id", "manufacturer", "name", "message"),
    [
        ("RetrofitMeter", "Xenn", "reference", "Enter your Xenn reference."),
        ("EV", "Audi", "vin", "Enter your vehicle's VIN."),
        ("SmartMeter", "Fluvius", "ean", "Enter the EAN code of your connection point."),
        ("SmartMeter", "Fluvius", "flow", "Choose the type of contract."),
        ("PV", "SolarEdge", "siteId", "Enter your SolarEdge site ID."),
        ("SmartMeter", "re.alto P1-Dongle", "code", "Enter the code of your re.alto dongle."),
    ],
)
def test_an_empty_answer_is_asked_for_in_a_whole_sentence(
    catalog, type_id, manufacturer, name, message
):
    attribute = catalog.manufacturer(type_id, manufacturer).attribute(name)
    assert message_of(attribute.clean, "  ") == message
    assert message_of(attribute.clean, None) == message


def test_every_shipped_attribute_says_what_is_missing_in_a_sentence(catalog):
    for entity_type in catalog.types.values():
        for manufacturer in entity_type.manufacturers.values():
            for attribute in manufacturer.attributes:
                assert attribute.missing and attribute.missing.endswith("."), (
                    manufacturer.name,
                    attribute.name,
                )


def test_catalog_messages_are_extracted_for_translation():
    texts = {text for _line, _where, text in catalog_texts(DEFAULT_PATH.read_text())}
    assert "Enter your Xenn reference." in texts
    assert any(t.startswith("Fluvius connects Belgian connection points only") for t in texts)


def test_empty_after_normalising_asks_with_a_full_stop():
    assert message_of(validate_vin, " - ") == "Enter the VIN."
    assert message_of(validate_ean, "--") == "Enter the EAN."


# ---------------------------------------------------------------- the number pad


def test_digit_only_codes_are_known_from_their_rule_or_pattern(catalog):
    def attribute(type_id, manufacturer, name):
        return catalog.manufacturer(type_id, manufacturer).attribute(name)

    assert attribute("SmartMeter", "Fluvius", "ean").digits_only
    assert attribute("PV", "SMA", "plantId").digits_only
    assert attribute("PV", "SolarEdge", "siteId").digits_only
    assert attribute("PV", "Enphase", "systemId").digits_only
    assert catalog.manufacturer("RetrofitMeter", "Xenn").pairing.digits_only
    assert not attribute("RetrofitMeter", "Xenn", "reference").digits_only  # P + digits
    assert not attribute("PV", "Fronius", "pvSystemId").digits_only
    assert not attribute("EV", "Audi", "vin").digits_only
    assert not Attribute("x", "X", "", "pattern", pattern="[0-9A-Z]{12}").digits_only


# ---------------------------------------------------------------- the VIN's maker


@pytest.mark.parametrize(
    ("vin", "maker", "listed"),
    [
        ("WAUZZZ8V0KA000000", "Audi", True),
        ("TRUZZZ8J0A1000001", "Audi", True),  # Audi Hungary
        ("WVWZZZ1KZAW000001", "Volkswagen", True),
        ("WVGZZZ5NZJW000001", "Volkswagen", True),  # a Volkswagen SUV
        ("5YJ3E1EA0KF000316", "Tesla", True),
        ("XP7YGCEK0PB000001", "Tesla", True),  # Tesla Berlin, vininfo: "Tesla Germany"
        ("LRW3E7FS0NC000001", "Tesla", True),  # Tesla Shanghai, vininfo: "Tesla China"
        ("WBA3A5C55CF256985", "BMW", True),
        ("KMHC851CGLU000001", "Hyundai", True),  # vininfo says "Genesis"
        ("KNAFX411AA5000001", "Kia", True),
        ("YV1MS382X62000001", "Volvo", True),  # vininfo: "Volvo Cars"
        ("VF1AG000000000000", "Renault", True),
        ("JTDKB20U000000001", "Toyota", False),  # not in the catalog: vininfo names it
        ("WP0ZZZ99ZTS392124", "Porsche car", False),
        ("W0L00000000000000", "Opel", False),  # vininfo: "Opel/Vauxhall"
    ],
)
def test_a_vins_maker_comes_from_the_catalog_then_the_world_table(catalog, vin, maker, listed):
    found = catalog.entity_type("EV").vin_maker(vin)

    assert found is not None and found.name == maker
    assert (found.manufacturer is not None) == listed


def test_an_unknown_wmi_names_no_maker(catalog):
    assert catalog.entity_type("EV").vin_maker("ZZZ00000000000000") is None
    assert world_vin_maker("ZZZ00000000000000") is None


@pytest.mark.parametrize(
    ("chosen", "vin", "other"),
    [
        ("Audi", "WVWZZZ1KZAW000001", "Volkswagen"),
        ("Volkswagen", "WAUZZZ8V0KA000000", "Audi"),
        ("Tesla", "WBA3A5C55CF256985", "BMW"),
        ("Audi", "JTDKB20U000000001", "Toyota"),
        ("Audi", "WAUZZZ8V0KA000000", None),
        ("Audi", "TRUZZZ8J0A1000001", None),
        ("Volvo", "YV1MS382X62000001", None),
        ("Audi", "ZZZ00000000000000", None),  # nobody knows this maker: no question
    ],
)
def test_other_vin_maker_is_asked_only_on_a_real_mismatch(catalog, chosen, vin, other):
    ev = catalog.entity_type("EV")
    found = ev.other_vin_maker(ev.manufacturers[chosen], vin)
    assert (found.name if found else None) == other


def test_a_manufacturer_without_wmis_is_never_questioned(catalog):
    from dataclasses import replace

    ev = catalog.entity_type("EV")
    audi = replace(ev.manufacturers["Audi"], wmi=())
    assert ev.other_vin_maker(audi, "WVWZZZ1KZAW000001") is None


def test_every_ev_maker_lists_wmis_and_they_are_wmis(catalog):
    for manufacturer in catalog.entity_type("EV").manufacturers.values():
        assert manufacturer.wmi, manufacturer.name
        assert all(is_wmi(code) for code in manufacturer.wmi)


# ---------------------------------------------------------------- a brand not listed


@pytest.mark.parametrize(
    ("typed", "brand"),
    [("  Zaptec ", "Zaptec"), (full_width("Easee"), "Easee"), ("Wall  Box", "Wall Box")],
)
def test_a_brand_name_is_tidied(typed, brand):
    assert clean_brand_name(typed) == brand


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the brand of your device."),
        ("   ", "Enter the brand of your device."),
        (None, "Enter the brand of your device."),
        ("Zap\ntec", "A brand name is one line of letters, digits and spaces;"),
        ("Zap\x00tec", "A brand name is one line of letters, digits and spaces;"),
        ("Zap\u200btec", "A brand name is one line of letters, digits and spaces;"),
        (
            "x" * (BRAND_MAX_LENGTH + 1),
            "A brand name can be at most 60 characters; this one has 61.",
        ),
    ],
)
def test_a_bad_brand_name_is_explained(typed, message):
    assert message_of(clean_brand_name, typed).startswith(message)
