"""Reading catalog.toml and checking every entry; a broken one is named in the error."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from app.catalog.model import (
    DEFAULT_PATH,
    PATTERN_RULES,
    PROVIDER_KINDS,
    RULES,
    STEP_KINDS,
    TARGETS,
    Attribute,
    Catalog,
    CatalogError,
    Choice,
    EntityType,
    Manufacturer,
    Pairing,
    StepSpec,
)
from app.identifiers import IdentifierError, is_wmi, validate_code
from app.onboarding.states import StepKind


class _Reader:
    """Builds the catalog from parsed TOML, raising CatalogError with the entry's path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.path}: {where}: {problem}")

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a table")
        return value

    def text(self, data: dict[str, Any], key: str, where: str, required: bool = True) -> Any:
        value = data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"'{key}' must be a non-empty string")
        return value

    def only(self, data: dict[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(unknown)}")

    def attribute(self, data: dict[str, Any], where: str) -> Attribute:
        self.only(
            data,
            {
                "name",
                "label",
                "hint",
                "rule",
                "required",
                "target",
                "pattern",
                "description",
                "example",
                "max_length",
                "choices",
                "device",
                "missing",
                "message",
            },
            where,
        )
        rule = data.get("rule")
        if rule not in RULES:
            raise self.fail(where, f"'rule' must be one of {', '.join(RULES)}, not {rule!r}")
        target = data.get("target", "information")
        if target not in TARGETS:
            raise self.fail(where, f"'target' must be one of {', '.join(TARGETS)}")
        required = data.get("required", True)
        if not isinstance(required, bool):
            raise self.fail(where, "'required' must be true or false")
        pattern = self.text(data, "pattern", where, required=rule == "pattern")
        description = self.text(data, "description", where, required=rule == "pattern")
        example = self.text(data, "example", where, required=False)
        if pattern is not None:
            if rule not in PATTERN_RULES:
                raise self.fail(where, f"a {rule!r} attribute cannot have a 'pattern'")
            self.check_pattern(pattern, example, description, where)
        # A pattern added to the VIN or EAN rule needs its own words for a value it refuses.
        message = self.sentence(
            data, "message", where, required=pattern is not None and rule != "pattern"
        )
        if message is not None and pattern is None:
            raise self.fail(where, "'message' goes with a 'pattern'")
        missing = self.sentence(data, "missing", where, required=False)
        choices: tuple[Choice, ...] = ()
        if rule == "choice":
            raw_choices = data.get("choices")
            if not isinstance(raw_choices, list) or not raw_choices:
                raise self.fail(where, "a 'choice' attribute needs a non-empty 'choices' list")
            choices = tuple(
                Choice(
                    self.text(c, "value", f"{where}.choices[{i}]"),
                    self.text(c, "label", f"{where}.choices[{i}]"),
                )
                for i, c in enumerate(self.table(c, f"{where}.choices") for c in raw_choices)
            )
        max_length = data.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise self.fail(where, "'max_length' must be a positive whole number")
        device = data.get("device", False)
        if not isinstance(device, bool):
            raise self.fail(where, "'device' must be true or false")
        if device and (not required or target != "information"):
            raise self.fail(where, "a 'device' attribute must be required and in 'information'")
        return Attribute(
            name=self.text(data, "name", where),
            label=self.text(data, "label", where),
            hint=self.text(data, "hint", where),
            rule=rule,
            required=required,
            target=target,
            device=device,
            pattern=pattern,
            description=description,
            example=example,
            max_length=max_length,
            choices=choices,
            missing=missing,
            message=message,
        )

    def sentence(self, data: dict[str, Any], key: str, where: str, required: bool) -> Any:
        """A message said as it is written: a whole sentence, with no "%" placeholders."""
        value = self.text(data, key, where, required=required)
        if value is not None and ("%" in value or not value.rstrip().endswith((".", "?", "!"))):
            raise self.fail(where, f"'{key}' must be a whole sentence, ending with a full stop")
        return value

    def check_pattern(
        self, pattern: str, example: str | None, description: str | None, where: str
    ) -> None:
        try:
            re.compile(pattern)
        except re.error as error:
            problem = f"'pattern' is not a valid regular expression: {error}"
            raise self.fail(where, problem) from None
        if example is not None:
            try:
                validate_code(example, pattern, description=description or "", example=example)
            except IdentifierError:
                raise self.fail(
                    where, f"the example {example!r} does not match the pattern"
                ) from None

    def pairing(self, data: Any, where: str) -> Pairing:
        data = self.table(data, where)
        self.only(data, {"label", "hint", "pattern", "description", "example"}, where)
        pattern = self.text(data, "pattern", where)
        description = self.text(data, "description", where)
        example = self.text(data, "example", where, required=False)
        self.check_pattern(pattern, example, description, where)
        return Pairing(
            label=self.text(data, "label", where),
            hint=self.text(data, "hint", where),
            pattern=pattern,
            description=description,
            example=example,
        )

    def catalog(self, raw: dict[str, Any]) -> Catalog:
        self.only(raw, {"attributes", "types"}, "top level")
        shared = {
            name: self.table(value, f"attributes.{name}")
            for name, value in self.table(raw.get("attributes", {}), "attributes").items()
        }
        types: dict[str, EntityType] = {}
        raw_types = self.table(raw.get("types"), "types")
        if not raw_types:
            raise self.fail("types", "the catalog has no entity types")
        for type_id, raw_type in raw_types.items():
            types[type_id] = self.entity_type(
                type_id, self.table(raw_type, f"types.{type_id}"), shared
            )
        return Catalog(types=types, path=self.path)

    def entity_type(
        self, type_id: str, data: dict[str, Any], shared: dict[str, dict[str, Any]]
    ) -> EntityType:
        where = f"types.{type_id}"
        self.only(data, {"label", "description", "attributes", "steps", "manufacturers"}, where)
        raw_manufacturers = self.table(data.get("manufacturers"), f"{where}.manufacturers")
        if not raw_manufacturers:
            raise self.fail(where, "has no manufacturers")
        manufacturers = {
            name: self.manufacturer(
                type_id, name, self.table(raw_m, f"{where}.manufacturers.{name}"), data, shared
            )
            for name, raw_m in raw_manufacturers.items()
        }
        owners: dict[str, str] = {}
        for manufacturer in manufacturers.values():
            for code in manufacturer.wmi:
                if code in owners:
                    raise self.fail(
                        f"{where}.manufacturers.{manufacturer.name}.wmi",
                        f"{code!r} is also {owners[code]}'s",
                    )
                owners[code] = manufacturer.name
        return EntityType(
            id=type_id,
            label=self.text(data, "label", where),
            description=self.text(data, "description", where),
            manufacturers=manufacturers,
        )

    def manufacturer(
        self,
        type_id: str,
        name: str,
        data: dict[str, Any],
        type_data: dict[str, Any],
        shared: dict[str, dict[str, Any]],
    ) -> Manufacturer:
        where = f"types.{type_id}.manufacturers.{name}"
        self.only(data, {"attributes", "steps", "provider", "pairing", "country", "wmi"}, where)
        attributes: list[Attribute] = []
        for i, entry in enumerate(data.get("attributes", type_data.get("attributes", []))):
            entry_where = f"{where}.attributes[{i}]"
            spec = {"name": entry} if isinstance(entry, str) else self.table(entry, entry_where)
            attr_name = self.text(spec, "name", entry_where)
            merged = {**shared.get(attr_name, {}), **spec, "name": attr_name}
            attribute = self.attribute(merged, f"{where}.attributes.{attr_name}")
            if any(a.name == attribute.name for a in attributes):
                raise self.fail(entry_where, f"attribute {attr_name!r} is listed twice")
            attributes.append(attribute)
        if sum(a.device for a in attributes) > 1:
            raise self.fail(where, "only one attribute can name the device ('device = true')")
        provider = self.text(data, "provider", where, required=False)
        steps: list[StepSpec] = []
        raw_steps = data.get("steps", type_data.get("steps"))
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.fail(where, "needs a non-empty 'steps' list")
        for kind in raw_steps:
            if kind not in STEP_KINDS:
                raise self.fail(
                    f"{where}.steps", f"unknown step {kind!r} (known: {', '.join(STEP_KINDS)})"
                )
            if kind in PROVIDER_KINDS and not provider:
                raise self.fail(where, f"a {kind!r} step needs a 'provider'")
            steps.append(StepSpec(StepKind(kind), provider if kind in PROVIDER_KINDS else None))
        if steps[0].kind != StepKind.TERMS:
            raise self.fail(f"{where}.steps", "the first step must be 'terms'")
        pairing = None
        if any(s.kind == StepKind.PAIRING_CODE for s in steps):
            if "pairing" not in data:
                raise self.fail(where, "a 'pairing_code' step needs a 'pairing' table")
            pairing = self.pairing(data["pairing"], f"{where}.pairing")
        return Manufacturer(
            name=name,
            type_id=type_id,
            attributes=tuple(attributes),
            steps=tuple(steps),
            provider=provider,
            pairing=pairing,
            country=self.text(data, "country", where, required=False),
            wmi=self.wmi(data.get("wmi", []), attributes, f"{where}.wmi"),
        )

    def wmi(self, raw: Any, attributes: list[Attribute], where: str) -> tuple[str, ...]:
        """World manufacturer identifiers: the first 3 characters of this maker's VINs."""
        if not isinstance(raw, list):
            raise self.fail(where, "must be a list of 3-character codes")
        if raw and not any(a.rule == "vin" for a in attributes):
            raise self.fail(where, "only a manufacturer asked for a VIN has WMIs")
        for code in raw:
            if not is_wmi(code):
                raise self.fail(where, f"{code!r} is not a WMI (3 VIN characters, upper case)")
        return tuple(raw)


def load_catalog(path: Path | str = DEFAULT_PATH) -> Catalog:
    """Read and validate the catalog file; raise CatalogError naming the broken entry."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogError(f"{path}: cannot be read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path}: is not valid TOML: {error}") from None
    return _Reader(path).catalog(raw)
