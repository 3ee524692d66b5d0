"""Who calls the API: an API key (Bearer), or a signed-in person with their session."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import timedelta

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy import select

from app.api.problems import ApiProblem, not_found
from app.extensions import csrf, db
from app.models import ApiKey, Tenant, utcnow
from app.models.user import hash_api_key
from app.onboarding.access import Principal, in_tenant

# Writing last_used_at on every call would turn each read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_TENANT_ID = 2**31 - 1


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="api"'})


class _CheckedKeys:
    """The API keys this worker found valid lately, by hash: (key id, tenant id, checked at).

    A call with a key checked less than API_KEY_RECHECK_SECONDS ago reads no table, so a
    read that needs no other row (the types) touches no database at all. Only valid keys
    are kept (at most `size`, least recently used out first): a wrong key is read every time.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._keys: OrderedDict[str, tuple[int, int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_hash: str, max_age: float) -> tuple[int, int] | None:
        with self._lock:
            found = self._keys.get(key_hash)
            if found is None or clock() - found[2] >= max_age:
                return None
            self._keys.move_to_end(key_hash)
            return found[0], found[1]

    def put(self, key_hash: str, key_id: int, tenant_id: int) -> None:
        with self._lock:
            self._keys[key_hash] = (key_id, tenant_id, clock())
            self._keys.move_to_end(key_hash)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)

    def forget(self, key_hash: str) -> None:
        with self._lock:
            self._keys.pop(key_hash, None)


clock = time.monotonic  # a test moves it on
checked_keys = _CheckedKeys()


def forget_api_key(key_hash: str) -> None:
    """This worker stops trusting the key at once (it was revoked here)."""
    checked_keys.forget(key_hash)


def _from_api_key(header: str) -> Principal:
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise _unauthorized("Send your API key as Authorization: Bearer <key>.")
    key_hash = hash_api_key(secret)
    max_age = current_app.config["API_KEY_RECHECK_SECONDS"]
    known = checked_keys.get(key_hash, max_age)
    if known is not None:
        return Principal.for_api_key(*known)
    key = db.session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    if key is None:
        raise _unauthorized("This API key is not valid: it is wrong, or it was revoked.")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        key.last_used_at = now
        db.session.commit()
    if max_age > 0:
        checked_keys.put(key_hash, key.id, key.tenant_id)
    return Principal.for_api_key(key.id, key.tenant_id)


def load_principal() -> Principal | None:
    """The caller of this request, or None; an Authorization header always wins."""
    if "api_auth_problem" in g:
        raise g.api_auth_problem
    if "api_principal" in g:
        return g.api_principal
    header = request.headers.get("Authorization")
    principal: Principal | None = None
    if header is not None:
        try:
            principal = _from_api_key(header)
        except ApiProblem as problem:
            g.api_auth_problem = problem
            raise
    elif current_user.is_authenticated:
        principal = Principal.for_user(current_user._get_current_object())
    g.api_principal = principal
    return principal


def require_principal() -> Principal:
    """The caller, or 401. A signed-in person's writes must carry the CSRF token."""
    principal = load_principal()
    if principal is None:
        raise _unauthorized("Send your API key in the Authorization header: Bearer <key>.")
    if (
        principal.user is not None
        and request.method in ("POST", "PUT", "PATCH", "DELETE")
        and current_app.config.get("WTF_CSRF_ENABLED", True)
    ):
        csrf.protect()
    return principal


def rate_limit_key() -> str:
    """One rate-limit bucket per API key (or per person, or per address without either)."""
    try:
        principal = load_principal()
    except ApiProblem:
        principal = None
    if principal is not None and principal.api_key_id is not None:
        return f"api-key:{principal.api_key_id}"
    if principal is not None and principal.user is not None:
        return f"user:{principal.user.id}"
    return f"address:{request.remote_addr}"


def resolve_tenant(principal: Principal, given: int | str | None) -> Tenant:
    """The tenant a call is about: the caller's own unless it names one.

    A tenantId that is not the caller's answers 404 (never revealing whether it
    exists); a caller without a single tenant must name one (400).
    """
    tenant_id: int | None = None
    if given is not None:
        text = str(given).strip()
        if not text.isdigit() or not text.isascii():
            raise ApiProblem(
                422,
                "A tenantId is our number for the tenant, like 12.",
                {"tenantId": ["A tenantId is our number for the tenant, like 12."]},
            )
        tenant_id = int(text)
        if principal.tenant_id is not None and not in_tenant(principal, tenant_id):
            raise not_found("There is no tenant with this id.", field="tenantId")
    elif principal.tenant_id is None:
        message = (
            "This API key belongs to no single tenant, so give the tenantId of the "
            "tenant this call is for."
        )
        raise ApiProblem(400, message, {"tenantId": [message]})
    else:
        tenant_id = principal.tenant_id
    tenant = db.session.get(Tenant, tenant_id) if 0 < tenant_id <= MAX_TENANT_ID else None
    if tenant is None:
        raise not_found("There is no tenant with this id.", field="tenantId")
    return tenant
