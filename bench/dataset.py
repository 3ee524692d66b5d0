"""A large, realistic dataset in PostgreSQL, loaded with set-based SQL (generate_series).

    from dataset import ensure
    data = ensure("bench_scale_1m", requests=1_000_000)   # loads once, then reuses

For other bench scripts (bench/scale.py, and the pages that come later): `ensure()` makes
(or reuses) a migrated database holding `requests` onboarding requests spread over
TENANTS tenants and their owners, with consent steps, timeline events, entities and
collectives, plus one heavy owner with HEAVY_OWNER_REQUESTS requests in the first tenant.
Every tenant has an API key and every user the same password, both known (`Dataset`).

Shape, per request (n = 1..requests): tenant n mod TENANTS; an owner of that tenant
(REQUESTS_PER_OWNER each on average); created over the last 10 days in order of n;
by its number k within the tenant: status by 37k mod 100 (60 Succeeded, 10 Failed,
10 Canceled, 15 Pending, 2 InProgress, 3 Draft), type and manufacturer by turns (EV Audi,
EV BMW, RetrofitMeter Xenn, SmartMeter P1-Dongle), every fifth sent request in a
collective. Two consent steps per sent request (done as far as the status says) and
its consent link, four events per request, an entity per success.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from database import ROOT, database_exists, database_url, fresh_database, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from werkzeug.security import generate_password_hash

TENANTS = 50
REQUESTS_PER_OWNER = 20
HEAVY_OWNER_REQUESTS = 1_000
COLLECTIVES_PER_TENANT = 5
PASSWORD = "bench-password"
HEAVY_OWNER = "heavy@t1.example"


def api_secret(tenant_number: int) -> str:
    """The API key of tenant `tenant_number` (1-based), known to the benchmarks."""
    return f"eo_bench_tenant_{tenant_number}_not_secret"


@dataclass(frozen=True)
class Dataset:
    url: str
    requests: int
    tenants: int
    seconds_to_load: float | None  # None when an existing load was reused

    @property
    def api_secret(self) -> str:
        """The key of tenant 1, the heavy owner's tenant."""
        return api_secret(1)

    heavy_owner: str = HEAVY_OWNER
    password: str = PASSWORD


# The consent link each sent request got when it was created (its redirectLink).
LINKS = """
    INSERT INTO consent_links (id, request_id, created_at, created_by, channel)
    SELECT md5('link-' || r.id)::uuid, r.id, r.created_at, 'api-key:' || r.tenant_id, 'api'
    FROM onboarding_requests AS r
    WHERE r.status <> 'Draft'
"""

# Each statement runs once per load; the big ones are INSERT ... SELECT over
# generate_series or over the requests themselves.
STATEMENTS = [
    # Tenants, their API keys and collectives.
    """
    INSERT INTO tenants (id, slug, name, created_at)
    SELECT t, 'bench-' || t, 'Bench tenant ' || t, now() - interval '30 days'
    FROM generate_series(1, :tenants) AS t
    """,
    """
    INSERT INTO api_keys (tenant_id, name, prefix, key_hash, created_at)
    SELECT t, 'bench', left('eo_bench_tenant_' || t, 10),
           encode(sha256(convert_to('eo_bench_tenant_' || t || '_not_secret', 'UTF8')), 'hex'),
           now() - interval '30 days'
    FROM generate_series(1, :tenants) AS t
    """,
    """
    INSERT INTO collectives (id, tenant_id, name, kind, created_at)
    SELECT md5('collective-' || t || '-' || c)::uuid, t, 'Group ' || c,
           CASE WHEN c % 2 = 0 THEN 'Community' ELSE 'Household' END,
           now() - interval '30 days' + c * interval '1 minute'
    FROM generate_series(1, :tenants) AS t, generate_series(1, :collectives) AS c
    """,
    # Owners: user o of tenant t is owner (o - 1) * tenants + t; plus the heavy owner.
    """
    INSERT INTO users (id, tenant_id, email, name, role, password_hash, active, created_at)
    SELECT u, (u - 1) % :tenants + 1, 'owner' || u || '@t' || ((u - 1) % :tenants + 1)
           || '.example', 'Owner ' || u, 'owner', :password_hash, true,
           now() - interval '30 days'
    FROM generate_series(1, :owners) AS u
    """,
    """
    INSERT INTO users (id, tenant_id, email, name, role, password_hash, active, created_at)
    VALUES (:owners + 1, 1, :heavy_owner, 'Heavy Owner', 'owner', :password_hash, true,
            now() - interval '30 days')
    """,
    "SELECT setval('users_id_seq', :owners + 1)",
    "SELECT setval('tenants_id_seq', :tenants)",
    # Requests: n <= :requests spread over tenants and owners; the heavy owner's after.
    """
    INSERT INTO onboarding_requests (
        id, tenant_id, collective_id, type, manufacturer, information, device_id, properties,
        owner_id, email, reference, return_url, status, failure_reason, channel,
        created_by_id, answered, created_at, updated_at, last_activity_at, submitted_at,
        finished_at, version, funnel_stage)
    SELECT md5('request-' || n)::uuid,
           tenant,
           CASE WHEN k % 5 = 0 AND status <> 'Draft'
                THEN md5('collective-' || tenant || '-' || (k / 5 % :collectives + 1))::uuid
           END,
           (ARRAY['EV', 'EV', 'RetrofitMeter', 'SmartMeter'])[k % 4 + 1],
           (ARRAY['Audi', 'BMW', 'Xenn', 'P1-Dongle'])[k % 4 + 1],
           json_build_object(attribute, device),
           device,
           '{}'::json,
           owner, NULL, 'ref-' || n, NULL, status,
           CASE status WHEN 'Failed' THEN 'denied' END,
           CASE WHEN status = 'Draft' THEN 'wizard' ELSE 'api' END,
           owner,
           CASE WHEN status = 'Draft' THEN '["type", "manufacturer"]' ELSE '[]' END::json,
           created, created + interval '5 minutes', created + interval '5 minutes',
           CASE WHEN status <> 'Draft' THEN created END,
           CASE WHEN status IN ('Succeeded', 'Failed', 'Canceled')
                THEN created + interval '5 minutes' END,
           1,
           -- app.onboarding.funnel.stage_of: answers of a Draft, 10 + steps done, 100 done
           CASE status WHEN 'Succeeded' THEN 100 WHEN 'Draft' THEN 2
                       WHEN 'InProgress' THEN 11 ELSE 10 END
    FROM (
        SELECT n, tenant, created,
               -- REQUESTS_PER_OWNER consecutive requests of the tenant per owner
               CASE WHEN n <= :requests
                    THEN (k / :per_owner % :owners_per_tenant) * :tenants + tenant
                    ELSE :owners + 1 END AS owner,
               -- k * 37 mod 100 (37 is prime to 100): each block of 100 gets every status
               -- in the shares below, and consecutive requests (an owner's) differ.
               CASE WHEN k * 37 % 100 < 60 THEN 'Succeeded'
                    WHEN k * 37 % 100 < 70 THEN 'Failed'
                    WHEN k * 37 % 100 < 80 THEN 'Canceled'
                    WHEN k * 37 % 100 < 95 THEN 'Pending'
                    WHEN k * 37 % 100 < 97 THEN 'InProgress'
                    ELSE 'Draft' END AS status,
               k,
               (ARRAY['vin', 'vin', 'reference', 'code'])[k % 4 + 1] AS attribute,
               CASE k % 4
                   WHEN 0 THEN 'WAUZZZ8V0KA' || lpad((n % 1000000)::text, 6, '0')
                   WHEN 1 THEN 'WBA3A5C55CF' || lpad((n % 1000000)::text, 6, '0')
                   WHEN 2 THEN 'P1' || lpad((n % 1000000000)::text, 9, '0')
                   ELSE 'RA' || upper(substr(md5(n::text), 1, 10))
               END AS device
        FROM (
            -- k: the request's number within its tenant (the heavy owner's: n), so that
            -- statuses, kinds and groups are spread alike in every tenant.
            SELECT n,
                   CASE WHEN n <= :requests THEN (n - 1) % :tenants + 1 ELSE 1 END AS tenant,
                   CASE WHEN n <= :requests THEN (n - 1) / :tenants ELSE n END AS k,
                   now() - interval '10 days'
                       + (n::float8 / (:requests + :heavy)) * interval '10 days' AS created
            FROM generate_series(1, :requests + :heavy) AS n
        ) AS numbered
    ) AS r
    """,
    # Two consent steps per sent request: terms, then the manufacturer's.
    """
    INSERT INTO consent_steps (request_id, position, kind, status, attempts, actor, evidence,
                               created_at, started_at, completed_at)
    SELECT r.id, p,
           CASE WHEN p = 1 THEN 'terms'
                WHEN r.manufacturer IN ('Audi', 'BMW') THEN 'redirect'
                ELSE 'pairing_code' END,
           CASE WHEN r.status = 'Succeeded' OR (p = 1 AND r.status = 'InProgress') THEN 'done'
                WHEN r.status = 'Failed' AND p = 2 THEN 'failed'
                ELSE 'todo' END,
           CASE WHEN r.status IN ('Succeeded', 'InProgress', 'Failed') THEN 1 ELSE 0 END,
           CASE WHEN r.status = 'Succeeded' THEN 'owner-link' END,
           '{}'::json, r.created_at,
           CASE WHEN r.status = 'Succeeded' THEN r.created_at + p * interval '1 minute' END,
           CASE WHEN r.status = 'Succeeded' THEN r.created_at + p * interval '1 minute' END
    FROM onboarding_requests AS r, generate_series(1, 2) AS p
    WHERE r.status <> 'Draft'
    """,
    # The timeline: created, sent (or an answer), a step, and the outcome.
    """
    INSERT INTO events (request_id, at, kind, actor, data, dispatched_at)
    SELECT r.id, r.created_at + e * interval '1 minute',
           (ARRAY['created', 'status', 'step_done', 'status'])[e],
           'api-key:' || r.tenant_id,
           CASE e WHEN 1 THEN json_build_object('channel', r.channel, 'type', r.type)
                  WHEN 2 THEN json_build_object('from', NULL, 'to', 'Pending')
                  WHEN 3 THEN json_build_object('position', 1, 'step', 'terms')
                  ELSE json_build_object('from', 'Pending', 'to', r.status) END,
           r.created_at + e * interval '1 minute'  -- long since sent to webhooks
    FROM onboarding_requests AS r, generate_series(1, 4) AS e
    """,
    """
    INSERT INTO entities (id, tenant_id, collective_id, request_id, owner_id, type,
                          manufacturer, information, properties, status, created_at)
    SELECT md5('entity-' || r.id)::uuid, r.tenant_id, r.collective_id, r.id, r.owner_id,
           r.type, r.manufacturer, r.information, r.properties,
           CASE WHEN (r.created_at::date - date '2000-01-01') % 10 = 0
                THEN 'Disconnected' ELSE 'Connected' END,
           r.finished_at
    FROM onboarding_requests AS r
    WHERE r.status = 'Succeeded'
    """,
    LINKS,
    """CREATE TABLE bench_dataset (
        requests integer NOT NULL, revisions text NOT NULL, loaded_at timestamptz NOT NULL)""",
    "INSERT INTO bench_dataset VALUES (:requests, :revisions, now())",
]


def load(url: str, requests: int, tenants: int = TENANTS, echo: bool = True) -> float:
    """Fill the migrated, empty database at `url`; return the seconds it took."""
    owners_per_tenant = max(1, requests // (tenants * REQUESTS_PER_OWNER))
    params = {
        "requests": requests,
        "tenants": tenants,
        "owners_per_tenant": owners_per_tenant,
        "per_owner": REQUESTS_PER_OWNER,
        "owners": owners_per_tenant * tenants,
        "heavy": HEAVY_OWNER_REQUESTS,
        "heavy_owner": HEAVY_OWNER,
        "collectives": COLLECTIVES_PER_TENANT,
        "revisions": schema_revisions(),
        # A cheap hash: signing in is not what is measured.
        "password_hash": generate_password_hash(PASSWORD, "pbkdf2:sha256:1000"),
    }
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        with engine.begin() as connection:
            # A load nobody reads until it is committed needs no synchronous WAL flushes.
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
            for statement in STATEMENTS:
                step = time.perf_counter()
                used = {k: v for k, v in params.items() if f":{k}" in statement}
                connection.execute(text(statement), used)
                if echo:
                    first = " ".join(statement.split())[:60]
                    print(f"  {time.perf_counter() - step:7.1f} s  {first}", flush=True)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            step = time.perf_counter()
            connection.exec_driver_sql("VACUUM (ANALYZE)")
            if echo:
                print(f"  {time.perf_counter() - step:7.1f} s  VACUUM (ANALYZE)", flush=True)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def schema_revisions() -> str:
    """Every migration revision of the code, sorted: what a loaded dataset's schema is."""
    found: list[str] = []
    for path in (ROOT / "app" / "migrations" / "versions").glob("*.py"):
        found += re.findall(r"^revision = ['\"](\w+)['\"]", path.read_text(), re.M)
    return " ".join(sorted(found))


def loaded_requests(url: str) -> int | None:
    """How many requests the dataset at `url` was loaded with; None when there is none, or
    when it was loaded with other migrations than the code has now."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            exists = connection.exec_driver_sql(
                "SELECT to_regclass('bench_dataset') IS NOT NULL"
            ).scalar()
            if not exists:
                return None
            row = connection.exec_driver_sql(
                "SELECT requests, revisions FROM bench_dataset"
            ).one_or_none()
    except DBAPIError:  # a dataset of an older loader, without `revisions`
        return None
    finally:
        engine.dispose()
    if row is None or row.revisions != schema_revisions():
        return None
    return int(row.requests)


def ensure(name: str, requests: int, reload: bool = False) -> Dataset:
    """The database `name` holding a dataset of `requests`, loaded unless it already is."""
    if not reload and database_exists(name):
        url = database_url(name)
        if loaded_requests(url) == requests:
            return Dataset(url, requests, TENANTS, None)
    url = fresh_database(name)
    upgrade(url)
    print(f"loading {requests:,} requests into {name} ...", flush=True)
    seconds = load(url, requests)
    return Dataset(url, requests, TENANTS, seconds)


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
