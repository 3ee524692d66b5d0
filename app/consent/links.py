"""Consent links: signed, expiring, replaceable. They open one request's consent pages
without an account.

Every link is a ConsentLink row; its token is the row's id, signed with SECRET_KEY, so a
link can be revoked (support's new link replaces the older ones; so does a message to
another address than the last) and support can see every link handed out. A link works
for CONSENT_LINK_MAX_AGE from when it was made.

- `current_link(request, actor)` — the link to show or give out now (API `redirectLink`,
  the installer's QR code): the newest one still good, else a new one. Stable across
  page loads; creating one does not revoke others.
- `new_link(request, actor, channel)` — a fresh link that revokes every older one (support's
  resend, "show a new link").
- `link_from_token(token)` — the link a token names, or LinkError saying why it cannot be used.

Like the lifecycle's services these flush and never commit: the view owns the transaction.
Opening a link lets the browser into the request (`app.security.grant_link`); that grant
outlives the link's revocation, so an owner already in the steps (from the QR code) is not
thrown out when support replaces the link.
"""

from __future__ import annotations

import base64
import binascii
import functools
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from flask import current_app, url_for
from itsdangerous import BadSignature, Signer
from sqlalchemy import Select, select, update

from app.extensions import db
from app.models import ConsentLink, OnboardingRequest, utcnow
from app.onboarding.audit import SYSTEM, Actor, record_event

_SALT = "consent-link"
# A link is given out again only while at least this share of its life is left, so whoever
# receives it has time to use it; an older one keeps working until it expires.
_REUSE_WHILE_LEFT = 0.5

LinkProblem = Literal["invalid", "expired", "replaced"]


class LinkChannel(StrEnum):
    """How a link was handed over (ConsentLink.channel)."""

    API = "api"  # the API's redirectLink, for a partner to pass on
    SHOWN = "shown"  # on a page: a QR code or a link to copy
    EMAIL = "email"
    SMS = "sms"


class LinkError(Exception):
    """The link cannot be used: `reason` is "invalid" (broken, tampered, unknown),
    "expired" or "replaced" (revoked by a newer link; `request_id` is then known)."""

    def __init__(self, reason: LinkProblem, request_id: uuid.UUID | None = None) -> None:
        super().__init__(reason)
        self.reason: LinkProblem = reason
        self.request_id = request_id

    @property
    def expired(self) -> bool:
        return self.reason == "expired"


# ---------------------------------------------------------------- lifetime


def max_age() -> timedelta:
    age: timedelta = current_app.config["CONSENT_LINK_MAX_AGE"]
    return age


def expires_at(link: ConsentLink) -> datetime:
    """When the link stops working (follows the current CONSENT_LINK_MAX_AGE)."""
    return link.created_at + max_age()


def is_usable(link: ConsentLink, now: datetime | None = None) -> bool:
    """Not revoked and not expired."""
    return link.revoked_at is None and (now or utcnow()) < expires_at(link)


# ---------------------------------------------------------------- making links


def _make(request: OnboardingRequest, actor: Actor, channel: str) -> ConsentLink:
    link = ConsentLink(
        id=uuid.uuid4(),
        request=request,
        created_at=utcnow(),
        created_by=actor.label,
        channel=str(channel),
    )
    # Not flushed here: the links a list makes go to the database in one INSERT.
    db.session.add(link)
    return link


def _given_out_again(created_at: datetime, now: datetime) -> bool:
    """Whether a link made at `created_at` still has enough life left to be given out."""
    return now < created_at + max_age() * _REUSE_WHILE_LEFT


def newest_link(request: OnboardingRequest) -> ConsentLink | None:
    """The most recent link of this request that is not revoked (it may have expired)."""
    return db.session.scalar(
        select(ConsentLink)
        .where(ConsentLink.request_id == request.id, ConsentLink.revoked_at.is_(None))
        .order_by(ConsentLink.created_at.desc())
        .limit(1)
    )


def links_given_out_again(request_ids: Select[Any]) -> dict[uuid.UUID, uuid.UUID]:
    """For a list of requests (`request_ids`, a statement selecting their ids), in one
    statement: the id of the link `current_link` would give out again, for each request
    that has one (`url_of_link` makes its URL). The others need an `added_link`."""
    now = utcnow()
    newest: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = {}
    for request_id, link_id, created_at in db.session.execute(
        select(ConsentLink.request_id, ConsentLink.id, ConsentLink.created_at)
        .where(ConsentLink.request_id.in_(request_ids), ConsentLink.revoked_at.is_(None))
        .order_by(ConsentLink.created_at)
    ):
        newest[request_id] = (link_id, created_at)  # the newest comes last
    return {
        request_id: link_id
        for request_id, (link_id, created_at) in newest.items()
        if _given_out_again(created_at, now)
    }


def current_link(
    request: OnboardingRequest,
    actor: Actor = SYSTEM,
    channel: str = LinkChannel.SHOWN,
    *,
    record: bool = True,
) -> ConsentLink:
    """The link to give out now: the newest unrevoked one while it has at least half its
    life left, else a new one (made by `actor`, for `channel`; older ones stay valid) and
    a `link_created` event unless the caller records its own (`record=False`)."""
    link = newest_link(request)
    if link is not None and _given_out_again(link.created_at, utcnow()):
        return link
    return added_link(request, actor, channel, record=record)


def added_link(
    request: OnboardingRequest, actor: Actor, channel: str, *, record: bool = True
) -> ConsentLink:
    """A new link (older ones stay valid) and its `link_created` event unless the caller
    records its own: what `current_link` gives when the request has none to give again."""
    link = _make(request, actor, channel)
    if record:
        record_event(
            request, "link_created", actor, link_id=str(link.id), channel=str(channel), revoked=0
        )
    return link


def replace_links(
    request: OnboardingRequest, actor: Actor, channel: str
) -> tuple[ConsentLink, int]:
    """A new link, and every older link of the request revoked as replaced by it; no event.

    Returns the link and how many were revoked. For callers that record their own event
    (sending a message records one `message_sent`); others call `new_link`.
    """
    link = _make(request, actor, channel)
    result = db.session.execute(
        update(ConsentLink)
        .where(
            ConsentLink.request_id == request.id,
            ConsentLink.id != link.id,
            ConsentLink.revoked_at.is_(None),
        )
        .values(revoked_at=link.created_at, replaced_by_id=link.id)
        .execution_options(synchronize_session="fetch")
    )
    return link, int(getattr(result, "rowcount", 0) or 0)


def new_link(request: OnboardingRequest, actor: Actor, channel: str) -> ConsentLink:
    """A fresh link for `channel` that revokes every older link of the request."""
    link, revoked = replace_links(request, actor, channel)
    record_event(
        request,
        "link_created",
        actor,
        link_id=str(link.id),
        channel=str(channel),
        revoked=revoked,
    )
    return link


def links_of(request: OnboardingRequest) -> list[ConsentLink]:
    """Every link of the request, newest first (for support's view of a request)."""
    return list(
        db.session.scalars(
            select(ConsentLink)
            .where(ConsentLink.request_id == request.id)
            .order_by(ConsentLink.created_at.desc())
        )
    )


# ---------------------------------------------------------------- tokens and URLs


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=_SALT)


def token_for(link: ConsentLink) -> str:
    """The link's id (22 characters) and its signature (27): short enough for a text message."""
    return _token(link.id)


def _token(link_id: uuid.UUID) -> str:
    return _signed(current_app.config["SECRET_KEY"], link_id)


@functools.lru_cache(maxsize=4096)
def _signed(secret_key: str, link_id: uuid.UUID) -> str:
    # A link's token never changes, and a list of requests signs dozens: signed once each.
    raw = base64.urlsafe_b64encode(link_id.bytes).rstrip(b"=")
    return Signer(secret_key, salt=_SALT).sign(raw).decode("ascii")


def link_url(link: ConsentLink) -> str:
    """The absolute URL of a link, to send or show."""
    return url_of_link(link.id)


def url_of_link(link_id: uuid.UUID) -> str:
    return url_for("consent.open_link", token=_token(link_id), _external=True)


def consent_url(
    request: OnboardingRequest, actor: Actor = SYSTEM, channel: str = LinkChannel.SHOWN
) -> str:
    """The absolute URL of `current_link(request, actor, channel)`."""
    return link_url(current_link(request, actor, channel))


def _link_id(token: str) -> uuid.UUID:
    try:
        raw = _signer().unsign(token.encode("ascii"))
        return uuid.UUID(bytes=base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)))
    except (BadSignature, UnicodeEncodeError, binascii.Error, ValueError):
        raise LinkError("invalid") from None


def link_from_token(token: str) -> ConsentLink:
    """The link a token names, if it can be used; else LinkError with the reason.

    A revoked link says "replaced" even once it would have expired: a newer one exists.
    """
    link = db.session.get(ConsentLink, _link_id(token))
    if link is None or link.request is None:  # SQLite keeps a deleted request's links
        raise LinkError("invalid")
    if link.revoked_at is not None:
        raise LinkError("replaced", link.request_id)
    if not is_usable(link):
        raise LinkError("expired", link.request_id)
    return link
