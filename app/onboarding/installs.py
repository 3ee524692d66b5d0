"""An installer on site starts a request for a customer: the device, then its identifier
and the customer who must consent, then check and send. The request records door
`installer`, the installer as its creator, and the customer (name, email, mobile) as the
person who consents; the installer hands them the consent link.

The questions are the wizard's (a Draft answered in fewer pages); these functions flush
and never commit: the view owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from app.catalog import Catalog
from app.contacts import validate_email, validate_mobile
from app.extensions import db
from app.identifiers import N_, IdentifierError
from app.models import Collective, ConsentStep, OnboardingRequest, Tenant, User
from app.onboarding import drafts
from app.onboarding.access import customer_account, same_tenant
from app.onboarding.audit import Actor, record_event, touch
from app.onboarding.errors import InvalidAnswers, OnboardingError
from app.onboarding.lifecycle import cancel_request, new_request
from app.onboarding.states import Door, Status, StepStatus
from app.onboarding.steps import current_step, submit_request

CUSTOMER_NAME_MAX_LENGTH = 200
START_KEY_MAX_LENGTH = 100
DISCARDED = "discarded by the installer"


@dataclass(frozen=True)
class Customer:
    """The customer as the installer typed them (cleaned by `give_customer_details`)."""

    name: str | None
    email: str | None
    mobile: str | None


def started_with(installer: User, start_key: str) -> OnboardingRequest | None:
    """The request this installer's start form (its key) already made, if any."""
    return db.session.scalar(
        select(OnboardingRequest).where(
            OnboardingRequest.start_key == start_key,
            OnboardingRequest.created_by_id == installer.id,
        )
    )


def start_install(
    tenant: Tenant,
    installer: User,
    type_id: str,
    manufacturer_name: str,
    catalog: Catalog,
    actor: Actor,
    *,
    start_key: str,
) -> OnboardingRequest:
    """A new Draft for a customer's device, its type and manufacturer chosen.

    The same `start_key` again (a retried form) answers the request it made the first time.
    """
    if not start_key or len(start_key) > START_KEY_MAX_LENGTH:
        raise ValueError(f"start_key must be 1 to {START_KEY_MAX_LENGTH} characters")
    earlier = started_with(installer, start_key)
    if earlier is not None:
        return earlier
    if catalog.manufacturer(type_id, manufacturer_name) is None:
        raise OnboardingError(N_("Choose the device from the list."))
    request = new_request(
        tenant,
        type_id,
        actor,
        door=Door.INSTALLER,
        status=Status.DRAFT,
        created_by=installer,
        owner=None,
        answered=[drafts.QUESTION_TYPE],
        start_key=start_key,
    )
    drafts.choose_manufacturer(request, manufacturer_name, catalog, actor)
    # A twin submission at the same moment fails here on the key's unique index
    # (IntegrityError): the view rolls back and answers the twin's request.
    db.session.flush()
    return request


def change_device(
    request: OnboardingRequest, type_id: str, manufacturer_name: str, catalog: Catalog, actor: Actor
) -> None:
    """Choose another device for a Draft (the identifier is kept where it still applies)."""
    if catalog.manufacturer(type_id, manufacturer_name) is None:
        raise OnboardingError(N_("Choose the device from the list."))
    drafts.choose_type(request, type_id, catalog, actor)
    drafts.choose_manufacturer(request, manufacturer_name, catalog, actor)


def clean_customer(
    name: object, email: object, mobile: object, default_region: str | None
) -> tuple[Customer, dict[str, IdentifierError]]:
    """The customer cleaned, and a message per field that is not right."""
    errors: dict[str, IdentifierError] = {}
    clean_name = " ".join(str(name or "").split()) or None
    if clean_name is None:
        errors["customer_name"] = IdentifierError(N_("Enter the customer's name."))
    elif len(clean_name) > CUSTOMER_NAME_MAX_LENGTH:
        errors["customer_name"] = IdentifierError(
            N_("The name can be at most %(max)d characters; this one has %(length)d."),
            max=CUSTOMER_NAME_MAX_LENGTH,
            length=len(clean_name),
        )
    clean_email = clean_mobile = None
    if str(email or "").strip():
        try:
            clean_email = validate_email(str(email))
        except IdentifierError as error:
            errors["customer_email"] = error
    if str(mobile or "").strip():
        try:
            clean_mobile = validate_mobile(str(mobile), default_region)
        except IdentifierError as error:
            errors["customer_mobile"] = error
    if not str(email or "").strip() and not str(mobile or "").strip():
        errors["customer_email"] = IdentifierError(
            N_("Enter the customer's email address or mobile number, or both.")
        )
    return Customer(clean_name, clean_email, clean_mobile), errors


def give_customer_details(
    request: OnboardingRequest,
    answers: Mapping[str, object],
    customer: Mapping[str, object],
    collective: Collective | None,
    catalog: Catalog,
    actor: Actor,
    *,
    default_region: str | None = None,
) -> None:
    """Store the device's identifying answers, the customer, and the group; or raise
    InvalidAnswers with a message per field (the attribute's name, or customer_name,
    customer_email, customer_mobile)."""
    if request.status != Status.DRAFT:
        raise OnboardingError(N_("This request was already sent; its answers cannot change."))
    manufacturer = catalog.manufacturer(request.type, request.manufacturer)
    if manufacturer is None:
        raise OnboardingError(N_("Choose the manufacturer first."))
    errors: dict[str, IdentifierError] = {}
    information: dict[str, str] = {}
    properties: dict[str, str] = {}
    try:
        information, properties = drafts.clean_answers(manufacturer, answers)
    except InvalidAnswers as invalid:
        errors.update(invalid.errors)
    person, customer_errors = clean_customer(
        customer.get("name"), customer.get("email"), customer.get("mobile"), default_region
    )
    errors.update(customer_errors)
    if collective is not None and not same_tenant(collective, request):
        errors["collective"] = IdentifierError(N_("Choose a group from the list."))
    if errors:
        raise InvalidAnswers(errors)
    drafts.store_answers(request, manufacturer, information, properties)
    request.customer_name = person.name
    request.email = person.email
    request.customer_mobile = person.mobile
    request.collective = collective
    done = [drafts.QUESTION_DETAILS, drafts.QUESTION_COLLECTIVE]
    request.answered = [*request.answered, *(q for q in done if q not in request.answered)]
    touch(request)
    record_event(request, "answer", actor, question="customer")


def send_install(request: OnboardingRequest, catalog: Catalog, actor: Actor) -> None:
    """Send the checked Draft (Pending, its consent steps made); again changes nothing.

    A customer with an account in the tenant (by email) becomes the request's owner, so it
    also shows on their own home page, once it is theirs to consent to.
    """
    if request.status != Status.DRAFT:
        return
    submit_request(request, catalog, actor)
    request.owner = customer_account(request.tenant_id, request.email)


def details_given(request: OnboardingRequest) -> bool:
    """Whether the identifier and customer page was answered (the check page is next)."""
    return drafts.QUESTION_DETAILS in request.answered and bool(
        request.email or request.customer_mobile
    )


def remember_contact(
    request: OnboardingRequest,
    actor: Actor,
    *,
    email: str | None = None,
    mobile: str | None = None,
) -> bool:
    """Keep the (cleaned) address or number the installer just sent the link to as the
    customer's own, so the next visit and the support console find it. A change of an
    address already there is on the timeline with the old value. Returns whether
    anything changed."""
    changes: dict[str, dict[str, str | None]] = {}
    if email and email != request.email:
        changes["email"] = {"before": request.email, "after": email}
        request.email = email
        if request.owner_id is None:
            # As when it was sent: a customer with an account finds it at home.
            request.owner = customer_account(request.tenant_id, email)
    if mobile and mobile != request.customer_mobile:
        changes["mobile"] = {"before": request.customer_mobile, "after": mobile}
        request.customer_mobile = mobile
    if not changes:
        return False
    touch(request)
    record_event(request, "customer_contact", actor, **changes)
    return True


def discard_draft(request: OnboardingRequest, actor: Actor) -> None:
    """The installer gives up an unfinished start: it is canceled (the timeline keeps it)
    and leaves their list. Only a Draft can be discarded; again changes nothing."""
    if request.status == Status.CANCELED and request.submitted_at is None:
        return
    if request.status != Status.DRAFT:
        raise OnboardingError(N_("This request was already sent; it cannot be discarded."))
    cancel_request(request, actor, reason=DISCARDED)


def discarded(request: OnboardingRequest) -> bool:
    """Whether this is an installer's start given up before it was sent."""
    return request.status == Status.CANCELED and request.submitted_at is None


def failed_step(request: OnboardingRequest) -> ConsentStep | None:
    """The owner's step whose last attempt did not work, while the request still waits."""
    step = current_step(request) if not request.is_final else None
    return step if step is not None and step.status == StepStatus.FAILED else None
