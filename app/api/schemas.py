"""The API's request and response shapes (pydantic); the OpenAPI document is built from them.

Field names are camelCase on purpose: they are the JSON names of re.alto's onboarding
API, so a partner can switch by changing the base URL.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)

from app.api.pagination import CURSOR_PATTERN
from app.onboarding.states import Status, StepKind
from app.text import JSON_SCHEMA_PATTERN, check_text

# app/text.py's rule, and its pattern published so that the document says what is accepted.
_USABLE = Field(json_schema_extra={"pattern": JSON_SCHEMA_PATTERN})
Text = Annotated[StrictStr, AfterValidator(check_text), _USABLE]
ShortText = Annotated[StrictStr, Field(max_length=200), AfterValidator(check_text), _USABLE]

# Statuses the API shows: a wizard Draft never leaves the wizard.
ApiStatus = Literal["Pending", "InProgress", "Succeeded", "Failed", "Canceled"]
API_STATUSES: tuple[str, ...] = tuple(s.value for s in Status if s != Status.DRAFT)
CollectiveType = Literal["Household", "Community"]

TENANT_ID_DESCRIPTION = (
    'Our number for the tenant, answered as a string ("12"); send it as "12" or 12. '
    "Defaults to the caller's own tenant; another tenant's id answers 404."
)
TenantIdText = Annotated[StrictStr, Field(pattern=r"^[0-9]{1,18}$")]


def _whole_float(value: object) -> object:
    # JSON Schema counts 12.0 as an integer, so the document's `integer` allows it.
    return int(value) if isinstance(value, float) and value.is_integer() else value


TenantIdIn = Annotated[
    Annotated[StrictInt, Ge(0), Le(10**18), BeforeValidator(_whole_float)] | TenantIdText,
    Field(description=TENANT_ID_DESCRIPTION),
]


# ---------------------------------------------------------------- problems


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (application/problem+json)."""

    type: str = Field("about:blank", description="Always about:blank: `status` says it all.")
    title: str = Field(description="The HTTP status in words.")
    status: int
    detail: str = Field(description="What went wrong, in plain words.")
    instance: str | None = Field(None, description="The path that was called.")
    errors: dict[str, list[str]] | None = Field(
        None,
        description="Per field (its JSON name; nested as properties.flow): what is "
        "wrong with it, in the same words as the web wizard.",
    )


# ---------------------------------------------------------------- shared parts


class TenantOut(BaseModel):
    id: str = Field(description=TENANT_ID_DESCRIPTION)
    name: str


class CollectiveOut(BaseModel):
    id: uuid.UUID
    name: str
    type: CollectiveType
    tenantId: str
    created: datetime


class EntityRef(BaseModel):
    """The entity a request is about; its `id` is null until the request has succeeded."""

    id: uuid.UUID | None
    type: str
    manufacturer: str
    information: dict[str, str] = Field(
        description="The identifying attributes, normalised (vin, ean, code, reference, ...)."
    )
    properties: dict[str, str] = Field(description="Other settings, such as Fluvius `flow`.")
    tenantId: str
    collectiveId: uuid.UUID | None


class Action(BaseModel):
    """What the caller should do next for this request."""

    type: Literal["Redirect", "Consent"] | None = Field(
        description="Redirect: send the owner to `redirectLink` (our hosted consent pages). "
        "Consent: the owner approves in the manufacturer's app; `redirectLink` shows how "
        "far it is. null: nothing to do (the request is connecting or finished)."
    )
    redirectLink: str | None
    documentationLink: str


class StepOut(BaseModel):
    position: int
    kind: StepKind
    status: Literal["todo", "waiting", "done", "failed", "revoked"]
    completed: datetime | None


class RequestData(BaseModel):
    entity: EntityRef
    tenant: TenantOut
    collective: CollectiveOut | None


class OnboardingRequestOut(BaseModel):
    """An Entity Onboarding Request."""

    id: uuid.UUID
    requestType: Literal["Entity"]
    status: ApiStatus
    failureReason: str | None = Field(
        description=(
            "Why a Failed request failed: expired, denied, device_not_found, ...; "
            "`declined` for a Canceled one the owner declined"
        )
    )
    created: datetime
    updated: datetime
    reference: str | None = Field(description="The caller's own reference, as sent.")
    returnUrl: str | None
    action: Action
    steps: list[StepOut] = Field(description="The consent steps the owner takes, in order.")
    data: RequestData


class OnboardingRequestPage(BaseModel):
    data: list[OnboardingRequestOut]
    next: str | None = Field(
        description="Give this as `cursor` for the next page; null at the end."
    )


class EntityOut(BaseModel):
    """A connected device (NeedsReconnect: the manufacturer no longer honours its grant;
    `POST /entities/{id}/reconnect` renews it), or one since disconnected. `requestId` is
    the request of the consent in force: a reconnect moves it to the newer request."""

    id: uuid.UUID
    type: str
    manufacturer: str
    information: dict[str, str]
    properties: dict[str, str]
    tenantId: str
    collectiveId: uuid.UUID | None
    requestId: uuid.UUID
    status: Literal["Connected", "NeedsReconnect", "Disconnected"]
    created: datetime
    disconnected: datetime | None


class EntityPage(BaseModel):
    data: list[EntityOut]
    next: str | None


class CollectivePage(BaseModel):
    data: list[CollectiveOut]
    next: str | None


class Choice(BaseModel):
    value: str
    label: str


class AttributeOut(BaseModel):
    name: str = Field(
        description="The JSON field to send it in (in `properties` when `target` is properties)."
    )
    label: str
    description: str = Field(description="Where the owner finds it.")
    required: bool
    rule: Literal["vin", "ean", "pattern", "email", "choice", "text"]
    pattern: str | None = Field(
        description="For rule `pattern`, or added to rule `vin` or `ean` (a Fluvius EAN is a "
        "Belgian one: `54[0-9]{16}`): the regular expression the value matches once "
        "normalised (compatibility forms folded, upper-cased, without spaces and hyphens)."
    )
    format: str | None = Field(description="The pattern in words.")
    example: str | None
    target: Literal["information", "properties"]
    choices: list[Choice]


class StepSpecOut(BaseModel):
    kind: StepKind
    provider: str | None


class ManufacturerOut(BaseModel):
    name: str
    country: str | None
    attributes: list[AttributeOut]
    steps: list[StepSpecOut]


class EntityTypeOut(BaseModel):
    type: str
    label: str
    description: str
    manufacturers: list[ManufacturerOut]


class EntityTypeList(BaseModel):
    data: list[EntityTypeOut]


class OffboardingData(BaseModel):
    entityId: uuid.UUID
    tenantId: str
    collectiveId: uuid.UUID | None
    reason: str | None


class OffboardingOut(BaseModel):
    id: uuid.UUID
    requestType: Literal["Offboarding"]
    status: Literal["Succeeded"]
    created: datetime
    data: OffboardingData


# ---------------------------------------------------------------- request bodies


def _required_type_and_manufacturer(schema: dict[str, Any]) -> None:
    schema["required"] = ["type", "manufacturer"]
    for name in ("type", "manufacturer"):
        field = schema["properties"][name]
        field.pop("anyOf", None)
        field.pop("default", None)
        field["type"] = "string"
    schema["examples"] = [{"type": "EV", "manufacturer": "Audi", "vin": "WAUZZZ8V0KA000000"}]


class OnboardingEntityIn(BaseModel):
    """Onboard one device. Which identifying attributes a manufacturer needs is in
    GET /onboarding/entities/types; any of them may be sent as a top-level field."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_required_type_and_manufacturer)

    # Required (see the schema), but checked by the onboarding service so that a missing
    # one gets the same plain words as an unknown one.
    type: Text | None = Field(None, description="EV, PV, SmartMeter, RetrofitMeter, ...")
    manufacturer: Text | None = Field(None, description="Audi, Fluvius, Xenn, ...")
    tenantId: TenantIdIn | None = None
    collectiveId: uuid.UUID | None = None
    vin: Text | None = None
    ean: Text | None = None
    code: Text | None = None
    reference: Text | None = Field(
        None,
        description="An identifying attribute when the manufacturer asks for one "
        "(Xenn); always kept as your own reference, to filter the list by.",
    )
    model: Text | None = None
    email: Text | None = Field(
        None,
        description="The owner's email address (an identifying attribute for SMA).",
    )
    properties: dict[str, Any] | None = Field(
        None,
        description='Attributes whose `target` is properties, e.g. {"flow": "B2C"}.',
    )
    returnUrl: Text | None = Field(
        None,
        description="An http(s) address the owner is sent to when the request is "
        "finished, with `id` and `status` added to its query.",
    )


class CancelIn(BaseModel):
    reason: Annotated[Text, Field(max_length=500)] | None = None


class CollectiveIn(BaseModel):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    type: CollectiveType = "Household"
    tenantId: TenantIdIn | None = None


class OffboardingIn(BaseModel):
    entityId: uuid.UUID
    reason: Annotated[Text, Field(max_length=500)] | None = None


# ---------------------------------------------------------------- query strings


class PageQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200, description="How many to answer at most.")
    cursor: Annotated[StrictStr, Field(pattern=CURSOR_PATTERN)] | None = Field(
        None, description="The `next` of the previous page."
    )
    tenantId: TenantIdText | None = Field(None, description=TENANT_ID_DESCRIPTION)


def _in_utc(value: datetime) -> datetime:
    # A naive time is taken as UTC; one whose UTC equivalent falls outside the calendar
    # (0001-01-01T00:00:00+01:00) is refused here rather than overflowing in the query.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None


def _iso_text(value: object) -> object:
    # Only the ISO 8601 text the document promises: pydantic alone would also take a
    # number of seconds ("0.5") or a bare date.
    if isinstance(value, str) and not _ISO_DATE_TIME.fullmatch(value):
        raise ValueError(NOT_A_TIME)
    return value


OUT_OF_RANGE = "This date and time is out of range (years 1 to 9999, in UTC)."
NOT_A_TIME = "This must be a date and time like 2026-01-31T12:00:00Z."
_ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
QueryTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]


class OnboardingListQuery(PageQuery):
    type: ShortText | None = None
    manufacturer: ShortText | None = None
    status: ApiStatus | None = None
    reference: ShortText | None = None
    createdAfter: QueryTime | None = Field(
        None, description="Only requests created at or after this time (ISO 8601)."
    )
    createdBefore: QueryTime | None = Field(
        None, description="Only requests created before this time (ISO 8601)."
    )


class EntityListQuery(PageQuery):
    type: ShortText | None = None
    manufacturer: ShortText | None = None
    status: Literal["Connected", "NeedsReconnect", "Disconnected"] | None = None
    collectiveId: uuid.UUID | None = None


class CollectiveListQuery(PageQuery):
    pass
