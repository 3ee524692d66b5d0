"""The catalog: the shipped file as written, broken files refused by name, and Attribute.clean."""

from pathlib import Path

import pytest

from app import create_app
from app.catalog import DEFAULT_PATH, Attribute, CatalogError, Choice, load_catalog
from app.identifiers import IdentifierError

# ---------------------------------------------------------------- the shipped catalog

EV_MAKERS = ["Audi", "BMW", "Tesla", "Volkswagen", "Renault", "Kia", "Hyundai", "Volvo"]
PV_MAKERS = ["Huawei", "SMA", "SolarEdge", "Fronius", "Enphase"]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def steps_of(manufacturer):
    return [(step.kind, step.provider) for step in manufacturer.steps]


def attribute_names(manufacturer):
    return [attribute.name for attribute in manufacturer.attributes]


def test_shipped_catalog_has_the_four_types_with_their_manufacturers(catalog):
    assert catalog.path == DEFAULT_PATH
    assert {type_id: list(t.manufacturers) for type_id, t in catalog.types.items()} == {
        "EV": EV_MAKERS,
        "PV": PV_MAKERS,
        "SmartMeter": ["Fluvius", "re.alto P1-Dongle"],
        "RetrofitMeter": ["Xenn"],
    }


def test_every_type_has_a_label_and_description(catalog):
    assert [t.label for t in catalog.types.values()] == [
        "Electric vehicle",
        "Solar inverter",
        "Smart meter",
        "Retrofit meter reader",
    ]
    assert all(t.description for t in catalog.types.values())


def test_the_catalog_says_what_each_device_reads_and_which_commands_it_takes(catalog):
    audi, renault = catalog.manufacturer("EV", "Audi"), catalog.manufacturer("EV", "Renault")
    assert [s.name for s in audi.reads] == ["charge_state", "charged_energy", "odometer"]
    assert [s.name for s in audi.commands] == ["charging"]
    assert renault.reads == audi.reads and renault.commands == ()  # read-only
    for meter in ("SmartMeter", "RetrofitMeter"):
        for manufacturer in catalog.types[meter].manufacturers.values():
            assert {s.name for s in manufacturer.reads} == {"grid_import", "grid_export"}
            assert manufacturer.commands == ()


@pytest.mark.parametrize("name", EV_MAKERS)
def test_every_ev_needs_a_vin_then_terms_and_the_makers_own_consent(catalog, name):
    ev = catalog.manufacturer("EV", name)
    consent = "app_consent" if name in ("Kia", "Hyundai") else "redirect"

    assert attribute_names(ev) == ["vin"]
    vin = ev.attributes[0]
    assert (vin.rule, vin.required, vin.target) == ("vin", True, "information")
    assert vin.label == "Vehicle identification number (VIN)"
    assert steps_of(ev) == [("terms", None), (consent, name.lower())]
    assert ev.pairing is None


def test_pv_inverters_ask_what_each_brand_needs(catalog):
    pv = catalog.types["PV"].manufacturers

    assert {name: attribute_names(m) for name, m in pv.items()} == {
        "Huawei": [],
        "SMA": ["plantId", "email"],
        "SolarEdge": ["siteId"],
        "Fronius": ["pvSystemId"],
        "Enphase": ["systemId"],
    }
    assert {name: steps_of(m) for name, m in pv.items()} == {
        "Huawei": [("terms", None), ("redirect", "huawei")],
        "SMA": [("terms", None), ("redirect", "sma")],
        "SolarEdge": [("terms", None), ("app_consent", "solaredge")],
        "Fronius": [("terms", None), ("redirect", "fronius")],
        "Enphase": [("terms", None), ("redirect", "enphase")],
    }


def test_sma_plant_id_and_email_rules(catalog):
    plant_id, email = catalog.manufacturer("PV", "SMA").attributes

    assert (plant_id.label, plant_id.rule, plant_id.pattern) == ("Plant ID", "pattern", "[0-9]{7}")
    assert (plant_id.description, plant_id.example) == ("7 digits", "1234567")
    assert (email.label, email.rule, email.required) == (
        "Email address of the account",
        "email",
        True,
    )


def test_fluvius_needs_an_ean_and_a_flow_kept_under_properties(catalog):
    fluvius = catalog.manufacturer("SmartMeter", "Fluvius")
    ean, flow = fluvius.attributes

    assert (ean.name, ean.rule, ean.target) == ("ean", "ean", "information")
    assert (flow.name, flow.rule, flow.target, flow.required) == (
        "flow",
        "choice",
        "properties",
        True,
    )
    assert flow.choices == (Choice("B2C", "Home (B2C)"), Choice("B2B", "Business (B2B)"))
    assert steps_of(fluvius) == [("terms", None), ("redirect", "fluvius")]
    assert fluvius.country == "BE"


def test_p1_dongle_needs_its_code_and_a_pairing_code(catalog):
    dongle = catalog.manufacturer("SmartMeter", "re.alto P1-Dongle")

    assert attribute_names(dongle) == ["code"]
    assert (dongle.attributes[0].pattern, dongle.attributes[0].example) == (
        "[0-9A-Z]{12}",
        "RA1B2C3D4E5F",
    )
    assert steps_of(dongle) == [("terms", None), ("pairing_code", None)]
    assert dongle.pairing is not None
    assert (dongle.pairing.pattern, dongle.pairing.example) == ("[0-9]{6}", "482913")


def test_xenn_needs_its_reference_and_a_pairing_code(catalog):
    xenn = catalog.manufacturer("RetrofitMeter", "Xenn")
    reference = xenn.attributes[0]

    assert (reference.name, reference.rule, reference.pattern) == (
        "reference",
        "pattern",
        "P[0-9]{10}",
    )
    assert reference.example == "P1000000000"
    assert steps_of(xenn) == [("terms", None), ("pairing_code", None)]
    assert xenn.pairing is not None
    assert xenn.pairing.clean("750 218") == "750218"


def test_every_manufacturer_starts_with_the_terms(catalog):
    for entity_type in catalog.types.values():
        for manufacturer in entity_type.manufacturers.values():
            assert manufacturer.steps[0].kind == "terms", manufacturer.name
            assert manufacturer.type_id == entity_type.id


def test_lookups_of_unknown_names_answer_none(catalog):
    assert catalog.entity_type("Boiler") is None
    assert catalog.entity_type(None) is None
    assert catalog.manufacturer("EV", "Huawei") is None
    assert catalog.manufacturer("Boiler", "Audi") is None
    assert catalog.manufacturer("EV", None) is None
    assert catalog.manufacturer("EV", "Audi").attribute("vin").rule == "vin"
    assert catalog.manufacturer("EV", "Audi").attribute("ean") is None


# ---------------------------------------------------------------- broken catalogs

VALID = """
[types.EV]
label = "Electric vehicle"
description = "A car."
steps = ["terms", "redirect"]
reads = ["energy"]

[types.EV.manufacturers.Audi]
provider = "audi"
attributes = [{ name = "vin", label = "VIN", hint = "17 characters.", rule = "vin" }]

[types.Meter]
label = "Meter"
description = "A meter."
steps = ["terms", "pairing_code"]
reads = ["energy"]

[types.Meter.manufacturers.Xenn]

[[types.Meter.manufacturers.Xenn.attributes]]
name = "reference"
label = "Reference"
hint = "P and 10 digits."
rule = "pattern"
pattern = "P[0-9]{10}"
description = "P followed by 10 digits"
example = "P1000000000"

[types.Meter.manufacturers.Xenn.pairing]
label = "Pairing code"
hint = "6 digits."
pattern = "[0-9]{6}"
description = "6 digits"

[scopes.energy]
label = "energy used"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return str(caught.value)


def test_small_valid_catalog_loads(tmp_path):
    catalog = load_catalog(write(tmp_path, VALID))

    assert list(catalog.types) == ["EV", "Meter"]
    assert catalog.manufacturer("Meter", "Xenn").pairing.description == "6 digits"
    assert [s.label for s in catalog.manufacturer("Meter", "Xenn").reads] == ["energy used"]
    assert catalog.manufacturer("Meter", "Xenn").commands == ()


BROKEN = {
    "invalid TOML": (
        VALID.replace('label = "Meter"', 'label = "Meter'),
        "is not valid TOML",
        "(at line 13",
    ),
    "unknown rule": (
        VALID.replace('rule = "vin"', 'rule = "magic"'),
        "types.EV.manufacturers.Audi.attributes.vin",
        "'rule' must be one of vin, ean, pattern, email, choice, text, not 'magic'",
    ),
    "pattern rule without pattern": (
        VALID.replace('pattern = "P[0-9]{10}"\n', ""),
        "types.Meter.manufacturers.Xenn.attributes.reference",
        "'pattern' must be a non-empty string",
    ),
    "pattern that is no regular expression": (
        VALID.replace('pattern = "P[0-9]{10}"', 'pattern = "P[0-9"'),
        "types.Meter.manufacturers.Xenn.attributes.reference",
        "'pattern' is not a valid regular expression",
    ),
    "example not matching the pattern": (
        VALID.replace('example = "P1000000000"', 'example = "Q1000000000"'),
        "types.Meter.manufacturers.Xenn.attributes.reference",
        "the example 'Q1000000000' does not match the pattern",
    ),
    "pairing example not matching its pattern": (
        VALID.replace('description = "6 digits"\n', 'description = "6 digits"\nexample = "12"\n'),
        "types.Meter.manufacturers.Xenn.pairing",
        "the example '12' does not match the pattern",
    ),
    "redirect step without provider": (
        VALID.replace('provider = "audi"\n', ""),
        "types.EV.manufacturers.Audi",
        "a 'redirect' step needs a 'provider'",
    ),
    "unknown step kind": (
        VALID.replace('steps = ["terms", "redirect"]', 'steps = ["terms", "fax"]'),
        "types.EV.manufacturers.Audi.steps",
        "unknown step 'fax'",
    ),
    "pairing_code step without pairing table": (
        VALID.split("[types.Meter.manufacturers.Xenn.pairing]")[0] + '[scopes.energy]\nlabel = "e"',
        "types.Meter.manufacturers.Xenn",
        "a 'pairing_code' step needs a 'pairing' table",
    ),
    "nothing said to be read": (
        VALID.replace('reads = ["energy"]\n', "", 1),
        "types.EV.manufacturers.Audi",
        "needs a non-empty 'reads' list of scopes",
    ),
    "unknown scope": (
        VALID.replace('reads = ["energy"]', 'reads = ["energy", "mind"]', 1),
        "types.EV.manufacturers.Audi.reads",
        "unknown scope 'mind' (known: energy)",
    ),
    "first step not terms": (
        VALID.replace('steps = ["terms", "redirect"]', 'steps = ["redirect", "terms"]'),
        "types.EV.manufacturers.Audi.steps",
        "the first step must be 'terms'",
    ),
    "no steps": (
        VALID.replace('steps = ["terms", "redirect"]', "steps = []"),
        "types.EV.manufacturers.Audi",
        "needs a non-empty 'steps' list",
    ),
    "typo in a manufacturer's key": (
        VALID.replace('provider = "audi"', 'provider = "audi"\nprovder = "audi"'),
        "types.EV.manufacturers.Audi",
        "unknown key(s) provder",
    ),
    "typo in an attribute's key": (
        VALID.replace('rule = "vin" }', 'rule = "vin", requried = true }'),
        "types.EV.manufacturers.Audi.attributes.vin",
        "unknown key(s) requried",
    ),
    "typo in a type's key": (
        VALID.replace('description = "A car."', 'descripton = "A car."'),
        "types.EV",
        "unknown key(s) descripton",
    ),
    "empty manufacturers table": (
        VALID.replace(
            '[types.EV.manufacturers.Audi]\nprovider = "audi"\n'
            'attributes = [{ name = "vin", label = "VIN", hint = "17 characters.", '
            'rule = "vin" }]',
            "[types.EV.manufacturers]",
        ),
        "types.EV",
        "has no manufacturers",
    ),
    "type without manufacturers": (
        VALID.split("[types.EV.manufacturers.Audi]")[0],
        "types.EV.manufacturers",
        "must be a table",
    ),
    "no types at all": (
        "",
        "types",
        "must be a table",
    ),
    "attribute listed twice": (
        VALID.replace(
            'rule = "vin" }]',
            'rule = "vin" }, { name = "vin", label = "VIN", hint = "Again.", rule = "vin" }]',
        ),
        "types.EV.manufacturers.Audi.attributes[1]",
        "attribute 'vin' is listed twice",
    ),
    "attribute named but defined nowhere": (
        VALID.replace(
            '[{ name = "vin", label = "VIN", hint = "17 characters.", rule = "vin" }]', '["vin"]'
        ),
        "types.EV.manufacturers.Audi.attributes.vin",
        "'rule' must be one of",
    ),
    "choice without choices": (
        VALID.replace('rule = "vin" }', 'rule = "choice" }'),
        "types.EV.manufacturers.Audi.attributes.vin",
        "a 'choice' attribute needs a non-empty 'choices' list",
    ),
}


@pytest.mark.parametrize(("text", "entry", "problem"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_catalog_is_refused_naming_the_file_and_the_entry(tmp_path, text, entry, problem):
    path = write(tmp_path, text)
    assert text != VALID

    message = refused(path)

    assert message.startswith(f"{path}: ")
    assert entry in message
    assert problem in message


def test_the_broken_entry_is_named_exactly(tmp_path):
    message = refused(write(tmp_path, VALID.replace('rule = "vin"', 'rule = "magic"')))

    assert message == (
        f"{tmp_path / 'catalog.toml'}: types.EV.manufacturers.Audi.attributes.vin: "
        "'rule' must be one of vin, ean, pattern, email, choice, text, not 'magic'"
    )


def test_missing_catalog_file_is_refused(tmp_path):
    path = tmp_path / "nowhere.toml"

    assert refused(path).startswith(f"{path}: cannot be read")


def test_app_refuses_to_start_with_a_broken_catalog(tmp_path):
    broken = write(tmp_path, VALID.replace('steps = ["terms", "redirect"]', 'steps = ["redirect"]'))

    with pytest.raises(CatalogError) as caught:
        create_app(
            {
                "TESTING": True,
                "CATALOG_PATH": str(broken),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}",
            }
        )

    assert str(caught.value) == refused(broken)
    assert str(broken) in str(caught.value)
    assert "types.EV.manufacturers.Audi.steps: the first step must be 'terms'" in str(caught.value)


def test_app_starts_with_a_valid_catalog_of_its_own(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "CATALOG_PATH": str(write(tmp_path, VALID)),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}",
        }
    )

    assert list(app.extensions["catalog"].types) == ["EV", "Meter"]


# ---------------------------------------------------------------- Attribute.clean


def attribute(rule, **kwargs):
    return Attribute(
        name=kwargs.pop("name", "value"),
        label=kwargs.pop("label", "Plant ID"),
        hint="",
        rule=rule,
        **kwargs,
    )


def message_of(attr, raw):
    with pytest.raises(IdentifierError) as caught:
        attr.clean(raw)
    return caught.value.message


def test_clean_vin_normalises_and_explains():
    vin = attribute("vin", label="VIN")

    assert vin.clean(" wba3a5c5-5cf256985 ") == "WBA3A5C55CF256985"
    assert message_of(vin, "WBA3A5C55CF25698") == "A VIN has 17 characters; this one has 16."


def test_clean_ean_normalises_and_checks_the_check_digit():
    ean = attribute("ean", label="EAN code")

    assert ean.clean("54 1448 8200 1234 5678") == "541448820012345678"
    assert "check digit" in message_of(ean, "541448820012345679")


def test_clean_pattern_matches_the_normalised_value():
    code = attribute(
        "pattern",
        pattern="P[0-9]{10}",
        description="P followed by 10 digits",
        example="P1000000000",
    )

    assert code.clean("p 100-000-0000") == "P1000000000"
    assert message_of(code, "P123") == (
        "This should be P followed by 10 digits, for example P1000000000."
    )


def test_clean_email_keeps_the_local_part_and_lower_cases_the_domain():
    email = attribute("email")

    assert email.clean("  Jan.Peeters@Example.BE ") == "Jan.Peeters@example.be"
    for bad in ("jan", "jan@example", "jan @example.be", "a@b@c.be", "x" * 250 + "@example.be"):
        assert message_of(email, bad) == (
            "Enter an email address in the right format, like name@example.com."
        ), bad


def test_clean_choice_takes_only_an_offered_value():
    flow = attribute(
        "choice",
        label="Type of contract",
        choices=(Choice("B2C", "Home"), Choice("B2B", "Business")),
    )

    assert flow.clean("B2B") == "B2B"
    assert message_of(flow, "B2X") == "Choose type of contract."
    assert message_of(flow, "b2b") == "Choose type of contract."


def test_clean_text_trims_and_limits_the_length():
    model = attribute("text", label="Model", max_length=5)

    assert model.clean("  ID.3 ") == "ID.3"
    assert message_of(model, "Model Y") == "Model can be at most 5 characters; this one has 7."


def test_required_value_missing_says_what_to_enter():
    assert message_of(attribute("pattern", pattern="[0-9]{7}", description="7 digits"), "  ") == (
        "Enter plant ID."
    )
    assert message_of(attribute("vin", label="EAN code"), None) == "Enter EAN code."
    assert message_of(
        attribute("choice", label="Type of contract", choices=(Choice("B2C", "Home"),)), ""
    ) == ("Choose type of contract.")


def test_optional_value_left_empty_is_none():
    assert attribute("text", required=False).clean("   ") is None
    assert attribute("email", required=False).clean(None) is None


def test_a_value_that_is_not_text_is_refused():
    assert message_of(attribute("text"), ["a", "b"]) == "Plant ID must be text."
    assert message_of(attribute("vin"), 12345678901234567) == "Plant ID must be text."
