"""The support console's queries: a tenant's requests found by whatever a caller says,
the stalled ones first, page by page without OFFSET, and the funnel of where requests stop.

Every query is scoped by `access.request_filter(principal)`; nothing here knows HTTP.
Pages are keyset pages on (last_activity_at, id), served by the composite indexes of
migration 5d8e3f1a2c47, so a deep page costs what the first one does and rows that arrive
meanwhile never shift a page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import selectinload

from app.catalog.model import GLOBAL_DEVICE_RULES
from app.contacts import validate_mobile
from app.extensions import db
from app.identifiers import IdentifierError, normalise
from app.models import Event, OnboardingRequest, User, utcnow
from app.onboarding import access, funnel
from app.onboarding.access import Principal
from app.onboarding.makers import BRAND_REQUESTED
from app.onboarding.states import FINAL, Status

UTC_MIDNIGHT = time(0, 0)
# The funnel page lists this many of the brands owners asked for.
BRANDS_SHOWN = 20
PAGE_SIZE = 25
# Written as literals so PostgreSQL can match the partial index on open requests.
OPEN: tuple[ColumnElement[str], ...] = tuple(
    literal_column(f"'{s.value}'") for s in Status if s not in FINAL
)

VIEW_STALLED = "stalled"
VIEW_ALL = "all"


@dataclass(frozen=True)
class Filters:
    """What the list shows: a view (stalled or all), a search and filters, all optional."""

    view: str = VIEW_STALLED
    q: str = ""
    status: str = ""
    type: str = ""
    manufacturer: str = ""
    door: str = ""
    created_from: date | None = None
    created_to: date | None = None
    stage: int | None = None  # a funnel stage: the requests that stopped there

    @property
    def stalled_only(self) -> bool:
        """The stalled view, unless searching: a search finds a request whatever its state."""
        return self.view == VIEW_STALLED and not self.q.strip()

    @property
    def oldest_first(self) -> bool:
        """The stalled view shows the longest waiting first; the others the latest activity."""
        return self.stalled_only

    def without_status(self) -> Filters:
        return replace(self, status="")


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the row with this (last_activity_at, id)."""

    at: datetime
    id: uuid.UUID

    def token(self) -> str:
        return f"{self.at.isoformat()}~{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """The cursor a token names, or None (the first page) for anything malformed."""
        if not token or "~" not in token:
            return None
        at, _, key = token.partition("~")
        try:
            moment = datetime.fromisoformat(at)
            return cls(moment if moment.tzinfo else moment.replace(tzinfo=UTC), uuid.UUID(key))
        except ValueError:
            return None


@dataclass(frozen=True)
class Page:
    requests: Sequence[OnboardingRequest]
    next: Cursor | None


# ---------------------------------------------------------------- stalled


def stalled_cutoff(stalled_after: timedelta, now: datetime | None = None) -> datetime:
    """Requests with no activity since this moment (inclusive) are stalled."""
    return (now or utcnow()) - stalled_after


def stalled_clause(stalled_after: timedelta, now: datetime | None = None) -> ColumnElement[bool]:
    """Not final, and no activity for longer than `stalled_after` (0: every open request)."""
    return OnboardingRequest.status.in_(OPEN) & (
        OnboardingRequest.last_activity_at <= stalled_cutoff(stalled_after, now)
    )


def is_stalled(request: OnboardingRequest, stalled_after: timedelta) -> bool:
    """The same rule as stalled_clause, for one request already loaded."""
    return not request.is_final and request.last_activity_at <= stalled_cutoff(stalled_after)


# ---------------------------------------------------------------- search

_HEX = re.compile(r"[0-9a-f]+")


def _own_number_makers() -> list[str]:
    """The catalog's manufacturers whose devices go by a number of their own."""
    from app.catalog import current_catalog

    return sorted(
        {
            m.name
            for t in current_catalog().types.values()
            for m in t.manufacturers.values()
            if m.device_attribute is not None and m.device_attribute.rule not in GLOBAL_DEVICE_RULES
        }
    )


def search_clause(query: str) -> ColumnElement[bool] | None:
    """Whatever a caller has: an identifier (normalised as input is), the partner's
    reference or the customer's name (any case), the customer's email or mobile number,
    the request id or its first 8 or more characters."""
    text = " ".join(query.split())
    if not text:
        return None
    folded = text.lower()
    clauses: list[ColumnElement[bool]] = [
        func.lower(OnboardingRequest.reference) == folded,
        func.lower(OnboardingRequest.customer_name) == folded,
    ]
    identifier = normalise(text)
    if identifier:
        # A manufacturer's own number is kept with its name (Manufacturer.device_key).
        keys = [identifier] + [f"{name}:{identifier}" for name in _own_number_makers()]
        clauses.append(OnboardingRequest.device_id.in_(keys))
    if "@" in text:
        clauses.append(OnboardingRequest.email_search == folded)
        # The owners' ids first: a list PostgreSQL can look up in the owner_id index, where a
        # subquery inside the OR would be checked row by row.
        owners = list(db.session.scalars(select(User.id).where(func.lower(User.email) == folded)))
        if owners:
            clauses.append(OnboardingRequest.owner_id.in_(owners))
    with suppress(IdentifierError):  # unless it is a mobile number with its country code
        clauses.append(OnboardingRequest.customer_mobile == validate_mobile(text))
    hex_id = folded.replace("-", "")
    if _HEX.fullmatch(hex_id):
        if len(hex_id) == 32:
            clauses.append(OnboardingRequest.id == uuid.UUID(hex_id))
        elif 8 <= len(hex_id) < 32:
            # A range on the primary key: its index finds the prefix without a scan.
            low = uuid.UUID(hex_id.ljust(32, "0"))
            high = uuid.UUID(hex_id.ljust(32, "f"))
            clauses.append(OnboardingRequest.id.between(low, high))
    return or_(*clauses)


# ---------------------------------------------------------------- funnel stages

STAGE_CREATED = funnel.STAGE_CREATED
STAGE_SUBMITTED = funnel.STAGE_SUBMITTED
STAGE_SUCCEEDED = funnel.STAGE_SUCCEEDED


# ---------------------------------------------------------------- the list


def _day_start(day: date) -> datetime:
    return datetime.combine(day, UTC_MIDNIGHT, tzinfo=UTC)


def filter_clauses(filters: Filters, stalled_after: timedelta) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.stalled_only:
        clauses.append(stalled_clause(stalled_after))
    if filters.status:
        clauses.append(OnboardingRequest.status == filters.status)
    if filters.type:
        clauses.append(OnboardingRequest.type == filters.type)
    if filters.manufacturer:
        clauses.append(OnboardingRequest.manufacturer == filters.manufacturer)
    if filters.door:
        clauses.append(OnboardingRequest.channel == filters.door)
    if filters.created_from:
        clauses.append(OnboardingRequest.created_at >= _day_start(filters.created_from))
    if filters.created_to:
        end = _day_start(filters.created_to) + timedelta(days=1)
        clauses.append(OnboardingRequest.created_at < end)
    if filters.stage is not None:
        clauses.append(OnboardingRequest.funnel_stage == filters.stage)
    searched = search_clause(filters.q)
    if searched is not None:
        clauses.append(searched)
    return clauses


def _scoped(principal: Principal, filters: Filters, stalled_after: timedelta) -> Select:
    return select(OnboardingRequest).where(
        access.request_filter(principal), *filter_clauses(filters, stalled_after)
    )


def list_requests(
    principal: Principal,
    filters: Filters,
    stalled_after: timedelta,
    after: Cursor | None = None,
    page_size: int = PAGE_SIZE,
) -> Page:
    """One page of the requests `principal` may see that match `filters`, after `after`."""
    key = tuple_(OnboardingRequest.last_activity_at, OnboardingRequest.id)
    query = _scoped(principal, filters, stalled_after)
    if after is not None:
        start = tuple_(
            literal(after.at, OnboardingRequest.last_activity_at.type),
            literal(after.id, OnboardingRequest.id.type),
        )
        query = query.where(key > start if filters.oldest_first else key < start)
    if filters.oldest_first:
        order = (OnboardingRequest.last_activity_at.asc(), OnboardingRequest.id.asc())
    else:
        order = (OnboardingRequest.last_activity_at.desc(), OnboardingRequest.id.desc())
    rows = db.session.scalars(
        query.order_by(*order)
        .limit(page_size + 1)
        .options(selectinload(OnboardingRequest.steps), selectinload(OnboardingRequest.owner))
    ).all()
    more = len(rows) > page_size
    rows = rows[:page_size]
    following = Cursor(rows[-1].last_activity_at, rows[-1].id) if more and rows else None
    return Page(rows, following)


# Counts stop here ("1,000+"): each is then bounded work, however many requests there are.
COUNT_CAP = 1000


def status_counts(
    principal: Principal, filters: Filters, stalled_after: timedelta
) -> dict[str, int]:
    """How many requests match `filters` (any status) in each status, up to COUNT_CAP + 1
    (more than COUNT_CAP: say "COUNT_CAP+"). One statement, each count a bounded subquery."""
    clauses = filter_clauses(filters.without_status(), stalled_after)
    parts = []
    for status in Status:
        matching = (
            select(literal(1))
            .where(access.request_filter(principal), OnboardingRequest.status == status, *clauses)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        counted = select(func.count()).select_from(matching).scalar_subquery()
        parts.append(select(literal(status.value).label("status"), counted.label("n")))
    rows = db.session.execute(union_all(*parts)).all()
    return {status: int(n) for status, n in rows}


def find_request(principal: Principal, request_id: uuid.UUID) -> OnboardingRequest | None:
    """The request with this id if `principal` may see it; None otherwise (answer 404)."""
    return db.session.scalar(
        select(OnboardingRequest).where(
            OnboardingRequest.id == request_id, access.request_filter(principal)
        )
    )


# ---------------------------------------------------------------- the funnel


@dataclass(frozen=True)
class FunnelFilters:
    days: int = 30
    type: str = ""
    manufacturer: str = ""
    door: str = ""

    def since(self, now: datetime | None = None) -> datetime:
        return (now or utcnow()) - timedelta(days=self.days)


def funnel_counts(principal: Principal, filters: FunnelFilters) -> dict[int, int]:
    """How many requests created in the period stopped at each stage (one aggregate query)."""
    stage = OnboardingRequest.funnel_stage
    clauses: list[ColumnElement[bool]] = [
        access.request_filter(principal),
        OnboardingRequest.created_at >= filters.since(),
    ]
    if filters.type:
        clauses.append(OnboardingRequest.type == filters.type)
    if filters.manufacturer:
        clauses.append(OnboardingRequest.manufacturer == filters.manufacturer)
    if filters.door:
        clauses.append(OnboardingRequest.channel == filters.door)
    rows = db.session.execute(
        select(stage, func.count()).where(and_(true(), *clauses)).group_by(stage)
    ).all()
    return {int(s): int(n) for s, n in rows}


def brands_asked_for(principal: Principal, filters: FunnelFilters) -> list[tuple[str, int]]:
    """The brands owners said were not listed, for requests created in the period:
    (brand, how many times), the most asked first. Spelling and case do not split a brand."""
    brand = Event.data["brand"].as_string()
    key = func.lower(brand)
    clauses: list[ColumnElement[bool]] = [
        access.request_filter(principal),
        OnboardingRequest.created_at >= filters.since(),
        Event.kind == BRAND_REQUESTED,
    ]
    if filters.type:
        clauses.append(OnboardingRequest.type == filters.type)
    if filters.door:
        clauses.append(OnboardingRequest.channel == filters.door)
    # A manufacturer filter is left out: the request asked for a brand nobody makes here.
    rows = db.session.execute(
        select(func.min(brand), func.count())
        .select_from(OnboardingRequest)
        .join(Event, Event.request_id == OnboardingRequest.id)
        .where(*clauses)
        .group_by(key)
        .order_by(func.count().desc(), key)
        .limit(BRANDS_SHOWN)
    ).all()
    return [(str(name), int(count)) for name, count in rows]


def reached(stopped: dict[int, int], stage: int) -> int:
    """How many got at least as far as `stage`, from how many stopped at each stage."""
    return sum(n for s, n in stopped.items() if s >= stage)
