"""The wizard's Draft: its questions, answered one at a time, and the rules for answers.

A Draft belongs to the wizard; sending it (steps.submit_request) makes it Pending.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import exists, select

from app.catalog import Catalog, Manufacturer, current_catalog
from app.extensions import db
from app.identifiers import N_, IdentifierError
from app.models import Collective, OnboardingRequest, Tenant, User
from app.onboarding.access import same_tenant, tenant_collective_clause
from app.onboarding.audit import Actor, record_event, touch
from app.onboarding.errors import InvalidAnswers, OnboardingError
from app.onboarding.lifecycle import new_request, set_status
from app.onboarding.states import Door, Status

# Wizard questions, in the order they are asked (the answered list holds these names).
QUESTION_TYPE = "type"
QUESTION_MANUFACTURER = "manufacturer"
QUESTION_DETAILS = "details"
QUESTIONS = (QUESTION_TYPE, QUESTION_MANUFACTURER, QUESTION_DETAILS)
# The group is not asked on the way: check answers offers it (most owners have one home,
# and asking every time cost a screen). Its page stays, opened from there.
QUESTION_COLLECTIVE = "collective"
# Why a Draft the owner threw away is Canceled; such drafts are not listed again.
DISCARDED = "discarded"


def _tenant_has_collectives(tenant_id: int) -> bool:
    # Asked by several parts of one page: once per database session is enough.
    cache: dict[int, bool] = db.session.info.setdefault("tenant_has_collectives", {})
    if tenant_id not in cache:
        query = select(exists().where(tenant_collective_clause(tenant_id)))
        cache[tenant_id] = bool(db.session.scalar(query))
    return cache[tenant_id]


# For the statement that loads a Draft: whether its tenant has groups, in the same round
# trip; `remember_tenant_has_collectives` then saves the later EXISTS.
TENANT_HAS_COLLECTIVES = (
    exists()
    .where(Collective.tenant_id == OnboardingRequest.tenant_id)
    .correlate(OnboardingRequest)
    .label("tenant_has_collectives")
)


def remember_tenant_has_collectives(tenant_id: int, value: object) -> None:
    db.session.info.setdefault("tenant_has_collectives", {})[tenant_id] = bool(value)


def questions_for(request: OnboardingRequest) -> list[str]:
    """The wizard questions that apply to this Draft, in the order they are asked: the
    manufacturer only when the type has more than one, the identifying details only when
    its manufacturer has some."""
    catalog = current_catalog()
    entity_type = catalog.entity_type(request.type)
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    skip = set()
    if entity_type is not None and only_manufacturer(entity_type.manufacturers) is not None:
        skip.add(QUESTION_MANUFACTURER)
    if manufacturer is not None and not manufacturer.attributes:
        skip.add(QUESTION_DETAILS)
    return [q for q in QUESTIONS if q not in skip]


def offers_collective(request: OnboardingRequest) -> bool:
    """Whether check answers offers a group: only when the tenant has groups."""
    return _tenant_has_collectives(request.tenant_id)


def only_manufacturer(manufacturers: Mapping[str, Manufacturer]) -> str | None:
    """The one manufacturer of a type that has only one: its question answers itself."""
    return next(iter(manufacturers)) if len(manufacturers) == 1 else None


def is_blank(request: OnboardingRequest) -> bool:
    """A Draft holding no more than its first answer (the kind of device): starting again
    reuses it rather than leave two identical drafts."""
    return (
        request.status == Status.DRAFT
        and set(request.answered) <= {QUESTION_TYPE}
        and not request.information
        and not request.properties
        and request.collective_id is None
    )


def _answered(request: OnboardingRequest, *add: str, drop: tuple[str, ...] = ()) -> None:
    names = [n for n in request.answered if n not in drop]
    names += [n for n in add if n not in names]
    request.answered = names


def _require_draft(request: OnboardingRequest) -> None:
    if request.status != Status.DRAFT:
        raise OnboardingError(N_("This request was already sent; its answers cannot change."))


def clean_answers(
    manufacturer: Manufacturer, answers: Mapping[str, object]
) -> tuple[dict[str, str], dict[str, str]]:
    """Validate `answers` for `manufacturer`: (information, properties) or InvalidAnswers."""
    information: dict[str, str] = {}
    properties: dict[str, str] = {}
    errors: dict[str, IdentifierError] = {}
    for attribute in manufacturer.attributes:
        try:
            value = attribute.clean(answers.get(attribute.name))
        except IdentifierError as error:
            errors[attribute.name] = error
            continue
        if value is not None:
            target = properties if attribute.target == "properties" else information
            target[attribute.name] = value
    if errors:
        raise InvalidAnswers(errors)
    return information, properties


def store_answers(
    request: OnboardingRequest,
    manufacturer: Manufacturer,
    information: dict[str, str],
    properties: dict[str, str],
) -> None:
    """Keep checked answers on the request, and the device id they name."""
    request.information = information
    request.properties = properties
    request.device_id = manufacturer.device_key(information)


def blank_draft(tenant: Tenant, owner: User) -> OnboardingRequest | None:
    """The owner's latest Draft that holds no more than its first answer, if any."""
    recent = db.session.scalars(
        select(OnboardingRequest)
        .where(
            OnboardingRequest.tenant_id == tenant.id,
            OnboardingRequest.owner_id == owner.id,
            OnboardingRequest.created_by_id == owner.id,
            OnboardingRequest.status == Status.DRAFT,
            OnboardingRequest.channel == Door.WIZARD,
        )
        .order_by(OnboardingRequest.last_activity_at.desc())
        .limit(20)
    )
    return next((r for r in recent if is_blank(r)), None)


def start_draft(
    tenant: Tenant, owner: User | None, type_id: str, catalog: Catalog, actor: Actor
) -> OnboardingRequest:
    """A Draft request in the wizard, its type already chosen: the owner's blank Draft
    when there is one (starting again), else a new one."""
    entity_type = catalog.entity_type(type_id)
    if entity_type is None:
        raise OnboardingError(N_("Choose the kind of device from the list."))
    reused = blank_draft(tenant, owner) if owner is not None else None
    if reused is not None:
        choose_type(reused, type_id, catalog, actor)
        return reused
    return new_request(
        tenant,
        type_id,
        actor,
        door=Door.WIZARD,
        status=Status.DRAFT,
        created_by=owner,
        owner=owner,
        answered=[QUESTION_TYPE],
        manufacturer=only_manufacturer(entity_type.manufacturers),
    )


def choose_type(request: OnboardingRequest, type_id: str, catalog: Catalog, actor: Actor) -> None:
    _require_draft(request)
    entity_type = catalog.entity_type(type_id)
    if entity_type is None:
        raise OnboardingError(N_("Choose the kind of device from the list."))
    if type_id != request.type:
        request.type = type_id
        request.manufacturer = only_manufacturer(entity_type.manufacturers)
        request.information = {}
        request.properties = {}
        request.device_id = None
        _answered(request, drop=(QUESTION_MANUFACTURER, QUESTION_DETAILS))
        record_event(request, "answer", actor, question=QUESTION_TYPE, value=type_id)
    _answered(request, QUESTION_TYPE)
    touch(request)


def choose_manufacturer(
    request: OnboardingRequest, name: str, catalog: Catalog, actor: Actor
) -> None:
    _require_draft(request)
    manufacturer = catalog.manufacturer(request.type, name)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer from the list."))
    if name != request.manufacturer:
        request.manufacturer = name
        # Keep what still applies (a VIN stays a VIN from Audi to BMW); ask again otherwise.
        names = {a.name for a in manufacturer.attributes}
        store_answers(
            request,
            manufacturer,
            {k: v for k, v in request.information.items() if k in names},
            {k: v for k, v in request.properties.items() if k in names},
        )
        _answered(request, drop=(QUESTION_DETAILS,))
        record_event(request, "answer", actor, question=QUESTION_MANUFACTURER, value=name)
    _answered(request, QUESTION_MANUFACTURER)
    touch(request)


def give_details(
    request: OnboardingRequest, answers: Mapping[str, object], catalog: Catalog, actor: Actor
) -> None:
    """Store the identifying answers, or raise InvalidAnswers with a message per field."""
    _require_draft(request)
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer first."))
    store_answers(request, manufacturer, *clean_answers(manufacturer, answers))
    _answered(request, QUESTION_DETAILS)
    touch(request)
    record_event(request, "answer", actor, question=QUESTION_DETAILS)


def choose_collective(
    request: OnboardingRequest, collective: Collective | None, actor: Actor
) -> None:
    _require_draft(request)
    if collective is not None and not same_tenant(collective, request):
        raise OnboardingError(N_("Choose a group from the list."))
    request.collective = collective
    _answered(request, QUESTION_COLLECTIVE)
    touch(request)
    record_event(
        request,
        "answer",
        actor,
        question=QUESTION_COLLECTIVE,
        value=str(collective.id) if collective else None,
    )


def discard_draft(request: OnboardingRequest, actor: Actor) -> None:
    """The owner throws a Draft away: Canceled (reason `discarded`), on its timeline."""
    _require_draft(request)
    set_status(request, Status.CANCELED, actor, reason=DISCARDED)


def ask_again(request: OnboardingRequest, question: str) -> None:
    """Forget that `question` was answered, so the wizard asks it again."""
    _answered(request, drop=(question,))
