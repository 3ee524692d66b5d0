"""The catalog's shape: entity types, manufacturers, attributes, consent steps (frozen data)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app.identifiers import N_, VALIDATORS, IdentifierError, validate_code, vin_maker
from app.onboarding.states import StepKind

_T = TypeVar("_T")

DEFAULT_PATH = Path(__file__).with_name("catalog.toml")

STEP_KINDS = tuple(StepKind)
PROVIDER_KINDS = frozenset({StepKind.REDIRECT, StepKind.APP_CONSENT})
RULES = ("vin", "ean", "pattern", "email", "choice", "text")
TARGETS = ("information", "properties")
# Identifiers that name a device whoever made it (see Manufacturer.device_key).
GLOBAL_DEVICE_RULES = frozenset({"vin", "ean"})

# Rules a catalog pattern applies to: its own ("pattern"), or on top of the VIN or EAN rule.
PATTERN_RULES = frozenset({"vin", "ean", "pattern"})
# Identifiers printed on a device, its label or its papers, often as a barcode or QR code.
SCANNABLE_RULES = frozenset({"vin", "ean", "pattern"})
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# A pattern that accepts digits only: "[0-9]{6}", "54[0-9]{16}", "\d{4,8}".
DIGITS_ONLY_PATTERN = re.compile(r"(?:[0-9]|\[0-9\]|\\d|\{[0-9]+(?:,[0-9]*)?\}|[+*?])+")


class CatalogError(Exception):
    """The catalog file is not valid; the message names the file and the entry."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Attribute:
    """One identifying value the owner types or picks (VIN, EAN, a code, ...)."""

    name: str
    label: str
    hint: str
    rule: str
    required: bool = True
    target: str = "information"
    pattern: str | None = None
    description: str | None = None
    example: str | None = None
    max_length: int | None = None
    choices: tuple[Choice, ...] = ()
    # What to say when it is left empty, a whole sentence that names the thing as people
    # say it ("Enter your Xenn reference."): a brand keeps its capital. Without it the
    # label is put in a generic sentence with its first letter lowered.
    missing: str | None = None
    # A rule the catalog adds on top of `rule` (a Fluvius EAN is a Belgian one), checked on
    # the normalised value; `message` says in plain words what is wrong when it does not match.
    message: str | None = None
    # This attribute names the device itself (VIN, EAN, a serial code...): one device,
    # one connected entity per tenant is decided on it.
    device: bool = False

    @property
    def scannable(self) -> bool:
        """Whether the owner or installer may scan it instead of typing it."""
        return self.rule in SCANNABLE_RULES

    @property
    def digits_only(self) -> bool:
        """Whether every valid value is digits only (a phone shows its number pad)."""
        return self.rule == "ean" or (
            self.pattern is not None and DIGITS_ONLY_PATTERN.fullmatch(self.pattern) is not None
        )

    def _missing(self) -> IdentifierError:
        if self.missing:
            return IdentifierError(self.missing)
        verb = N_("Choose %(what)s.") if self.rule == "choice" else N_("Enter %(what)s.")
        return IdentifierError(verb, what=_lower_first(self.label))

    def clean(self, raw: object) -> str | None:
        """The normalised value; None when empty and optional. Raises IdentifierError."""
        if raw is not None and not isinstance(raw, str):
            raise IdentifierError(N_("%(what)s must be text."), what=self.label)
        value = (raw or "").strip()
        if not value:
            if self.required:
                raise self._missing()
            return None
        if self.rule in VALIDATORS:
            return self._catalog_rule(VALIDATORS[self.rule](value))
        if self.rule == "pattern":
            assert self.pattern and self.description
            return validate_code(
                value,
                self.pattern,
                description=self.description,
                example=self.example,
                message=self.message,
            )
        if self.rule == "email":
            if len(value) > 254 or not EMAIL_RE.fullmatch(value):
                raise IdentifierError(
                    N_("Enter an email address in the right format, like name@example.com.")
                )
            local, _, domain = value.rpartition("@")
            return f"{local}@{domain.lower()}"
        if self.rule == "choice":
            for choice in self.choices:
                if value == choice.value:
                    return value
            raise self._missing()
        # text
        if self.max_length and len(value) > self.max_length:
            raise IdentifierError(
                N_("%(what)s can be at most %(max)d characters; this one has %(length)d."),
                what=self.label,
                max=self.max_length,
                length=len(value),
            )
        return value

    def _catalog_rule(self, value: str) -> str:
        """The catalog's own pattern on top of the VIN or EAN rule, if it gives one."""
        if self.pattern is not None and re.fullmatch(self.pattern, value, re.ASCII) is None:
            assert self.message, "the loader asks a message of every added pattern"
            raise IdentifierError(self.message)
        return value


@dataclass(frozen=True)
class Pairing:
    """The code printed on a device that the owner types to prove they have it."""

    label: str
    hint: str
    pattern: str
    description: str
    example: str | None = None

    @property
    def digits_only(self) -> bool:
        return DIGITS_ONLY_PATTERN.fullmatch(self.pattern) is not None

    def clean(self, raw: str) -> str:
        return validate_code(raw, self.pattern, description=self.description, example=self.example)


@dataclass(frozen=True)
class Scope:
    """One kind of data a connection reads, or one kind of command it may send."""

    name: str
    label: str


@dataclass(frozen=True)
class StepSpec:
    kind: StepKind
    provider: str | None = None


@dataclass(frozen=True)
class Manufacturer:
    name: str
    type_id: str
    attributes: tuple[Attribute, ...]
    steps: tuple[StepSpec, ...]
    provider: str | None = None
    pairing: Pairing | None = None
    country: str | None = None
    # What the connection reads and which commands it may send: the consent wording.
    reads: tuple[Scope, ...] = ()
    commands: tuple[Scope, ...] = ()
    # World manufacturer identifiers: the first 3 characters of this maker's VINs.
    wmi: tuple[str, ...] = ()

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def device_attribute(self) -> Attribute | None:
        """The attribute that names the device, as the catalog marks it (or none)."""
        return next((a for a in self.attributes if a.device), None)

    def device_id(self, information: Mapping[str, Any]) -> str | None:
        """The value that names the device in `information` (its VIN, EAN, code...)."""
        attribute = self.device_attribute
        value = information.get(attribute.name) if attribute else None
        return str(value) if value else None

    def device_key(self, information: Mapping[str, Any]) -> str | None:
        """What tells this device from every other of its type in a tenant (stored as
        `device_id`): a VIN or an EAN names one device whoever made it; a manufacturer's
        own number (a plant ID, a site ID, a dongle code) only with the manufacturer, as
        an SMA plant 1234567 is not a SolarEdge site 1234567."""
        value = self.device_id(information)
        attribute = self.device_attribute
        if value is None or attribute is None or attribute.rule in GLOBAL_DEVICE_RULES:
            return value
        return f"{self.name}:{value}"


@dataclass(frozen=True)
class VinMaker:
    """Who made a vehicle, as its VIN says: a manufacturer of the catalog, or one it lacks."""

    name: str
    manufacturer: Manufacturer | None = None


@dataclass(frozen=True)
class EntityType:
    id: str
    label: str
    description: str
    manufacturers: dict[str, Manufacturer] = field(default_factory=dict)

    def vin_maker(self, vin: str) -> VinMaker | None:
        """The maker of a (valid) VIN: the catalog's WMI lists first, then the world's."""
        wmi = vin[:3]
        listed = next((m for m in self.manufacturers.values() if wmi in m.wmi), None)
        if listed is not None:
            return VinMaker(listed.name, listed)
        name = vin_maker(vin)
        return VinMaker(name) if name else None

    def other_vin_maker(self, chosen: Manufacturer, vin: str) -> VinMaker | None:
        """The maker of `vin` when it is not `chosen`; None when they agree or nobody knows.

        Asked only of a manufacturer that lists its WMIs: without them every VIN would look
        like someone else's.
        """
        if not chosen.wmi or vin[:3] in chosen.wmi:
            return None
        maker = self.vin_maker(vin)
        if maker is None or chosen.name.casefold() in maker.name.casefold():
            return None
        return maker


@dataclass(frozen=True)
class Catalog:
    types: dict[str, EntityType]
    path: Path

    @property
    def brand_names(self) -> frozenset[str]:
        """Every manufacturer's name: words that keep their capitals in a sentence."""
        return frozenset(m for t in self.types.values() for m in t.manufacturers)

    def entity_type(self, type_id: str | None) -> EntityType | None:
        return self.types.get(type_id or "")

    def manufacturer(self, type_id: str | None, name: str | None) -> Manufacturer | None:
        entity_type = self.entity_type(type_id)
        return entity_type.manufacturers.get(name or "") if entity_type else None

    def find_type(self, given: object) -> EntityType | None:
        """The type named `given` as a person or partner typed it (case does not matter)."""
        return _named(self.types, given)

    def find_manufacturer(self, type_given: object, given: object) -> Manufacturer | None:
        """The manufacturer named `given` for the type `type_given`, case not mattering."""
        entity_type = self.find_type(type_given)
        return _named(entity_type.manufacturers, given) if entity_type else None


def _named(options: Mapping[str, _T], given: object) -> _T | None:
    if not isinstance(given, str):
        return None
    wanted = given.strip().casefold()
    return next((value for name, value in options.items() if name.casefold() == wanted), None)


def _lower_first(text: str) -> str:
    # "Plant ID" -> "plant ID"; leave acronyms such as "EAN code" alone.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
