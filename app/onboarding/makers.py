"""Who made the device: the VIN's maker against the chosen manufacturer, and the brands
owners ask for that the catalog does not list yet."""

from __future__ import annotations

import unicodedata

from sqlalchemy import select

from app.catalog import Catalog, Manufacturer, VinMaker
from app.extensions import db
from app.identifiers import N_, IdentifierError
from app.models import Event, OnboardingRequest
from app.onboarding.audit import Actor, record_event, touch
from app.onboarding.drafts import choose_manufacturer, give_details
from app.onboarding.errors import OnboardingError
from app.onboarding.states import Status

# The timeline event of an owner asking for a brand the catalog lacks (not a webhook).
BRAND_REQUESTED = "brand_requested"
BRAND_MAX_LENGTH = 60


def vin_mismatch(
    request: OnboardingRequest, catalog: Catalog
) -> tuple[Manufacturer, VinMaker] | None:
    """(the chosen manufacturer, the VIN's maker) when the VIN names another maker."""
    entity_type = catalog.entity_type(request.type)
    chosen = catalog.manufacturer(request.type, request.manufacturer)
    if entity_type is None or chosen is None:
        return None
    vin_attribute = next((a for a in chosen.attributes if a.rule == "vin"), None)
    vin = request.information.get(vin_attribute.name) if vin_attribute else None
    if not vin:
        return None
    maker = entity_type.other_vin_maker(chosen, vin)
    return (chosen, maker) if maker is not None else None


def switch_to_vin_maker(request: OnboardingRequest, catalog: Catalog, actor: Actor) -> None:
    """Make the VIN's maker the request's manufacturer, keeping the VIN and the answers."""
    mismatch = vin_mismatch(request, catalog)
    if mismatch is None or mismatch[1].manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer from the list."))
    answers = {**request.information, **request.properties}
    choose_manufacturer(request, mismatch[1].manufacturer.name, catalog, actor)
    # The VIN passed the same rule a moment ago: the details stay answered.
    give_details(request, answers, catalog, actor)


def clean_brand_name(raw: object) -> str:
    """The brand an owner typed, tidied (NFKC, single spaces), or IdentifierError."""
    if raw is not None and not isinstance(raw, str):
        raise IdentifierError(N_("Enter the brand of your device."))
    text = unicodedata.normalize("NFKC", raw or "")
    # Control and format characters (a line break, a tab, an invisible joiner) are no
    # part of a brand, and would garble the support console's list.
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise IdentifierError(
            N_("A brand name is one line of letters, digits and spaces; remove the other signs.")
        )
    brand = " ".join(text.split())
    if not brand:
        raise IdentifierError(N_("Enter the brand of your device."))
    if len(brand) > BRAND_MAX_LENGTH:
        raise IdentifierError(
            N_("A brand name can be at most %(max)d characters; this one has %(length)d."),
            max=BRAND_MAX_LENGTH,
            length=len(brand),
        )
    return brand


def ask_for_brand(request: OnboardingRequest, raw: object, catalog: Catalog, actor: Actor) -> str:
    """Record that the owner's brand is not listed for the request's type; the brand."""
    if request.status != Status.DRAFT:
        raise OnboardingError(N_("This request was already sent; its answers cannot change."))
    brand = clean_brand_name(raw)
    listed = catalog.find_manufacturer(request.type, brand)
    if listed is not None:
        raise IdentifierError(
            N_("%(brand)s is in the list: go back and choose it."), brand=listed.name
        )
    record_event(request, BRAND_REQUESTED, actor, brand=brand, type=request.type)
    touch(request)
    return brand


def brand_asked_for(request: OnboardingRequest) -> str | None:
    """The brand this request's owner last said was not listed."""
    data = db.session.scalar(
        select(Event.data)
        .where(Event.request_id == request.id, Event.kind == BRAND_REQUESTED)
        .order_by(Event.id.desc())
        .limit(1)
    )
    return str(data["brand"]) if data and data.get("brand") else None
