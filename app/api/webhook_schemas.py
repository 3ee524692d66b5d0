"""The API's webhook shapes: endpoints, their events and their delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr

from app.api.schemas import PageQuery, ShortText, TenantIdIn
from app.text import check_text

WebhookEventType = Literal[
    "onboarding.created",
    "onboarding.status_changed",
    "onboarding.step_changed",
    "entity.connected",
    "entity.needs_reconnect",
    "entity.disconnected",
]
# An endpoint's URL: the API's schema and the admin page's form both check it with this.
WEBHOOK_URL_PATTERN = r"^https?://[^\s\u0000-\u001f\u007f-\u009f]+$"
WebhookUrl = Annotated[
    StrictStr,
    # No spaces, and app/text.py's rule, stated in the one pattern the document shows.
    Field(min_length=1, max_length=2000, pattern=WEBHOOK_URL_PATTERN),
    AfterValidator(check_text),
]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl = Field(description="Where we POST the events (http or https).")
    eventTypes: list[WebhookEventType] = Field(min_length=1, description="The events wanted.")
    description: ShortText = ""
    tenantId: TenantIdIn | None = None


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    eventTypes: list[WebhookEventType] | None = Field(None, min_length=1)
    description: ShortText | None = None
    enabled: StrictBool | None = None


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    eventTypes: list[str]
    description: str
    enabled: bool
    failing: bool = Field(
        description="Every retry of a delivery failed; the next success clears it."
    )
    failingSince: datetime | None
    tenantId: str
    created: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (whsec_...): shown in this answer only. Keep it."
    )


class WebhookPage(BaseModel):
    data: list[WebhookOut]
    next: str | None


class WebhookListQuery(PageQuery):
    pass


class WebhookAttemptOut(BaseModel):
    number: int
    at: datetime
    statusCode: int | None
    responseExcerpt: str
    error: str | None


class WebhookDeliveryOut(BaseModel):
    id: str = Field(description="The message id (webhook-id header), the same on every attempt.")
    eventType: str
    status: Literal["pending", "delivered", "failed", "refused"]
    attempts: int
    nextAttempt: datetime | None
    created: datetime
    log: list[WebhookAttemptOut]


class WebhookDeliveryList(BaseModel):
    data: list[WebhookDeliveryOut]
