"""composite indexes for cursor pages, the owner's home page and the expiry job

Cursor pages seek on (tenant_id, created_at, id) with a row-value comparison, and on
(tenant_id, status, created_at, id) when filtered by status; the expiry job reads
(status, created_at); an owner's home page reads (owner_id, tenant_id, status,
last_activity_at) and (owner_id, tenant_id, created_at) for entities. Single-column
indexes these begin with go, and so does the one on created_at alone, which led the
planner to walk every tenant's rows in time order to find one tenant's.

Revision ID: 3c9d0f5b7a21
Revises: 5d8e3f1a2c47
Create Date: 2026-11-30 11:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c9d0f5b7a21'
down_revision = '5d8e3f1a2c47'
branch_labels = None
depends_on = None

NEW = [
    ('onboarding_requests', 'ix_onboarding_requests_tenant_created_id', ['tenant_id', 'created_at', 'id']),
    ('onboarding_requests', 'ix_onboarding_requests_tenant_status_created', ['tenant_id', 'status', 'created_at', 'id']),
    ('onboarding_requests', 'ix_onboarding_requests_status_created', ['status', 'created_at']),
    ('onboarding_requests', 'ix_onboarding_requests_owner_status_activity', ['owner_id', 'tenant_id', 'status', 'last_activity_at']),
    ('entities', 'ix_entities_tenant_created', ['tenant_id', 'created_at', 'id']),
    ('entities', 'ix_entities_tenant_status_created', ['tenant_id', 'status', 'created_at', 'id']),
    ('entities', 'ix_entities_owner_created', ['owner_id', 'tenant_id', 'created_at']),
    ('collectives', 'ix_collectives_tenant_created', ['tenant_id', 'created_at', 'id']),
]

SUPERSEDED = [
    ('onboarding_requests', 'ix_onboarding_requests_tenant_id', ['tenant_id']),
    ('onboarding_requests', 'ix_onboarding_requests_status', ['status']),
    ('onboarding_requests', 'ix_onboarding_requests_owner_id', ['owner_id']),
    # Ordering by created_at alone, the planner would walk every tenant's rows.
    ('onboarding_requests', 'ix_onboarding_requests_created_at', ['created_at']),
    ('entities', 'ix_entities_tenant_id', ['tenant_id']),
    ('entities', 'ix_entities_owner_id', ['owner_id']),
    ('collectives', 'ix_collectives_tenant_id', ['tenant_id']),
]


def upgrade():
    for table, name, columns in NEW:
        op.create_index(name, table, columns, unique=False)
    for table, name, _columns in SUPERSEDED:
        op.drop_index(name, table_name=table)


def downgrade():
    for table, name, columns in SUPERSEDED:
        op.create_index(name, table, columns, unique=False)
    for table, name, _columns in NEW:
        op.drop_index(name, table_name=table)
