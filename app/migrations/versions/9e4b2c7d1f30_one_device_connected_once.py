"""one device, connected once: the entity's device id and a partial unique index

Each tenant has at most one live entity (Connected or NeedsReconnect) per device. Existing
rows get their request's device id; where one device already has several live entities,
only the oldest gets it (the others keep no key, so nothing is disconnected behind the
owner's back, and support can see them as before).

Revision ID: 9e4b2c7d1f30
Revises: 8e4f2a6b1c93
Create Date: 2026-12-04 14:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = "9e4b2c7d1f30"
down_revision = "8e4f2a6b1c93"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('Connected', 'NeedsReconnect')")


def upgrade():
    with op.batch_alter_table("entities") as batch:
        batch.add_column(sa.Column("device_id", sa.String(length=200), nullable=True))

    entities = sa.table(
        "entities",
        sa.column("id", sa.Uuid),
        sa.column("tenant_id", sa.Integer),
        sa.column("type", sa.String),
        sa.column("request_id", sa.Uuid),
        sa.column("status", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("device_id", sa.String),
    )
    requests = sa.table(
        "onboarding_requests", sa.column("id", sa.Uuid), sa.column("device_id", sa.String)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            entities.c.id,
            entities.c.tenant_id,
            entities.c.type,
            entities.c.status,
            requests.c.device_id,
        )
        .join(requests, requests.c.id == entities.c.request_id)
        .where(requests.c.device_id.is_not(None))
        .order_by(entities.c.created_at, entities.c.id)
    ).all()
    keyed: set[tuple[int, str, str]] = set()
    for row in rows:
        key = (row.tenant_id, row.type, row.device_id)
        if row.status in ("Connected", "NeedsReconnect"):
            if key in keyed:
                continue  # a duplicate from before the rule: left without a key
            keyed.add(key)
        connection.execute(
            entities.update().where(entities.c.id == row.id).values(device_id=row.device_id)
        )

    op.create_index(
        "ux_entities_tenant_device_live",
        "entities",
        ["tenant_id", "type", "device_id"],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade():
    op.drop_index("ux_entities_tenant_device_live", table_name="entities")
    with op.batch_alter_table("entities") as batch:
        batch.drop_column("device_id")
