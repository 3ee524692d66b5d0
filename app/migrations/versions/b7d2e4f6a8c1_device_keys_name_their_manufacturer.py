"""device keys name their manufacturer: a plant ID, a site ID or a dongle code is a device
only together with its manufacturer ("SMA:1234567"); a VIN or an EAN names it alone

Rows stored before `Manufacturer.device_key` hold the bare number, which new requests
would not match: they are keyed again from the catalog, requests and their entities alike.
An entity whose new key a live entity already holds (the same device connected twice while
the keys differed) keeps its old one, as a duplicate from before the rule; support sees it.

Revision ID: b7d2e4f6a8c1
Revises: 9e4b2c7d1f30
Create Date: 2026-12-04 18:50:00

"""

import json

import sqlalchemy as sa
from alembic import op

from app.catalog import load_catalog

revision = "b7d2e4f6a8c1"
down_revision = "9e4b2c7d1f30"
branch_labels = None
depends_on = None

LIVE = ("Connected", "NeedsReconnect")

requests = sa.table(
    "onboarding_requests",
    sa.column("id", sa.Uuid),
    sa.column("type", sa.String),
    sa.column("manufacturer", sa.String),
    sa.column("information", sa.JSON),
    sa.column("device_id", sa.String),
)
entities = sa.table(
    "entities",
    sa.column("id", sa.Uuid),
    sa.column("tenant_id", sa.Integer),
    sa.column("type", sa.String),
    sa.column("request_id", sa.Uuid),
    sa.column("status", sa.String),
    sa.column("device_id", sa.String),
)


def _rekey(key_of) -> None:
    """Store `key_of(manufacturer, information)` as each request's device key, and its
    entities' where no other live entity holds it."""
    catalog = load_catalog()
    connection = op.get_bind()
    changed: dict = {}
    rows = connection.execute(
        sa.select(
            requests.c.id,
            requests.c.type,
            requests.c.manufacturer,
            requests.c.information,
            requests.c.device_id,
        ).where(requests.c.device_id.is_not(None))
    ).all()
    for row in rows:
        manufacturer = catalog.manufacturer(row.type, row.manufacturer)
        information = row.information
        if isinstance(information, str):
            information = json.loads(information)
        key = key_of(manufacturer, information or {}) if manufacturer else None
        if key and key != row.device_id:
            connection.execute(
                requests.update().where(requests.c.id == row.id).values(device_id=key)
            )
            changed[row.id] = key
    if not changed:
        return
    held = {
        (row.tenant_id, row.type, row.device_id)
        for row in connection.execute(
            sa.select(entities.c.tenant_id, entities.c.type, entities.c.device_id).where(
                entities.c.status.in_(LIVE), entities.c.device_id.is_not(None)
            )
        )
    }
    for row in connection.execute(
        sa.select(
            entities.c.id,
            entities.c.tenant_id,
            entities.c.type,
            entities.c.request_id,
            entities.c.status,
        ).where(entities.c.device_id.is_not(None))
    ).all():
        if row.request_id not in changed:
            continue
        key = (row.tenant_id, row.type, changed[row.request_id])
        if row.status in LIVE:
            if key in held:
                continue
            held.add(key)
        connection.execute(
            entities.update().where(entities.c.id == row.id).values(device_id=key[2])
        )


def upgrade():
    _rekey(lambda manufacturer, information: manufacturer.device_key(information))


def downgrade():
    _rekey(lambda manufacturer, information: manufacturer.device_id(information))
