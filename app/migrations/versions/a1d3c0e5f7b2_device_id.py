"""device id: the value that names a request's device, in its own indexed column

Revision ID: a1d3c0e5f7b2
Revises: e2853355aecf
Create Date: 2026-11-30 11:40:00

"""
import json

import sqlalchemy as sa
from alembic import op

from app.catalog import load_catalog

revision = "a1d3c0e5f7b2"
down_revision = "e2853355aecf"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("onboarding_requests") as batch:
        batch.add_column(sa.Column("device_id", sa.String(length=200), nullable=True))
        batch.create_index("ix_onboarding_requests_tenant_device", ["tenant_id", "device_id"])

    # Fill it for existing rows from the catalog's marked attribute.
    catalog = load_catalog()
    requests = sa.table(
        "onboarding_requests",
        sa.column("id", sa.Uuid),
        sa.column("type", sa.String),
        sa.column("manufacturer", sa.String),
        sa.column("information", sa.JSON),
        sa.column("device_id", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(requests.c.id, requests.c.type, requests.c.manufacturer, requests.c.information)
    ).all()
    for row in rows:
        manufacturer = catalog.manufacturer(row.type, row.manufacturer)
        information = row.information
        if isinstance(information, str):
            information = json.loads(information)
        device_id = manufacturer.device_id(information or {}) if manufacturer else None
        if device_id:
            connection.execute(
                requests.update().where(requests.c.id == row.id).values(device_id=device_id)
            )


def downgrade():
    with op.batch_alter_table("onboarding_requests") as batch:
        batch.drop_index("ix_onboarding_requests_tenant_device")
        batch.drop_column("device_id")
