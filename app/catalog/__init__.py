"""The catalog: entity types, their manufacturers, identifying attributes and consent steps.

It is data (catalog.toml), loaded and validated once at start-up; a broken file stops
the app with a message naming the file and the entry.
"""

from __future__ import annotations

from flask import Flask, current_app

from app.catalog.loader import load_catalog
from app.catalog.model import (
    DEFAULT_PATH,
    Attribute,
    Catalog,
    CatalogError,
    Choice,
    EntityType,
    Manufacturer,
    Pairing,
    StepSpec,
    VinMaker,
)

__all__ = [
    "Attribute",
    "Catalog",
    "CatalogError",
    "Choice",
    "EntityType",
    "Manufacturer",
    "Pairing",
    "StepSpec",
    "VinMaker",
    "current_catalog",
    "init_app",
    "load_catalog",
]


def init_app(app: Flask) -> None:
    app.extensions["catalog"] = load_catalog(app.config.get("CATALOG_PATH") or DEFAULT_PATH)


def current_catalog() -> Catalog:
    catalog: Catalog = current_app.extensions["catalog"]
    return catalog
