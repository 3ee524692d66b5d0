"""The catalog's shape: entity types, manufacturers, attributes, consent steps (frozen data)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app.identifiers import N_, VALIDATORS, IdentifierError, validate_code
from app.onboarding.states import StepKind

_T = TypeVar("_T")

DEFAULT_PATH = Path(__file__).with_name("catalog.toml")

STEP_KINDS = tuple(StepKind)
PROVIDER_KINDS = frozenset({StepKind.REDIRECT, StepKind.APP_CONSENT})
RULES = ("vin", "ean", "pattern", "email", "choice", "text")
TARGETS = ("information", "properties")
# Identifiers printed on a device, its label or its papers, often as a barcode or QR code.
SCANNABLE_RULES = frozenset({"vin", "ean", "pattern"})
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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
    # This attribute names the device itself (VIN, EAN, a serial code...): one device,
    # one connected entity per tenant is decided on it.
    device: bool = False

    @property
    def scannable(self) -> bool:
        """Whether the owner or installer may scan it instead of typing it."""
        return self.rule in SCANNABLE_RULES

    @property
    def missing_message(self) -> str:
        verb = N_("Choose %(what)s.") if self.rule == "choice" else N_("Enter %(what)s.")
        return verb

    def clean(self, raw: object) -> str | None:
        """The normalised value; None when empty and optional. Raises IdentifierError."""
        if raw is not None and not isinstance(raw, str):
            raise IdentifierError(N_("%(what)s must be text."), what=self.label)
        value = (raw or "").strip()
        if not value:
            if self.required:
                raise IdentifierError(self.missing_message, what=_lower_first(self.label))
            return None
        if self.rule in VALIDATORS:
            return VALIDATORS[self.rule](value)
        if self.rule == "pattern":
            assert self.pattern and self.description
            return validate_code(
                value, self.pattern, description=self.description, example=self.example
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
            raise IdentifierError(self.missing_message, what=_lower_first(self.label))
        # text
        if self.max_length and len(value) > self.max_length:
            raise IdentifierError(
                N_("%(what)s can be at most %(max)d characters; this one has %(length)d."),
                what=self.label,
                max=self.max_length,
                length=len(value),
            )
        return value


@dataclass(frozen=True)
class Pairing:
    """The code printed on a device that the owner types to prove they have it."""

    label: str
    hint: str
    pattern: str
    description: str
    example: str | None = None

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


@dataclass(frozen=True)
class EntityType:
    id: str
    label: str
    description: str
    manufacturers: dict[str, Manufacturer] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    types: dict[str, EntityType]
    path: Path

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
