"""support console: indexes for its list, stalled view, search and funnel;
the customer's email in lower case to search by, each request's funnel stage

Revision ID: 5d8e3f1a2c47
Revises: 7d3e5f1a2c40
Create Date: 2026-11-30 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d8e3f1a2c47'
down_revision = '7d3e5f1a2c40'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('Draft', 'Pending', 'InProgress')")
# app.onboarding.funnel.stage_of, for the requests already there.
FUNNEL_STAGE = """
UPDATE onboarding_requests SET funnel_stage = CASE
  WHEN status = 'Succeeded' THEN 100
  WHEN status <> 'Draft' THEN 10 + (
    SELECT count(*) FROM consent_steps
    WHERE consent_steps.request_id = onboarding_requests.id AND consent_steps.status = 'done')
  WHEN coalesce(json_array_length(answered), 0) > 4 THEN 4
  ELSE coalesce(json_array_length(answered), 0)
END
"""


def upgrade():
    with op.batch_alter_table('onboarding_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_search', sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column('funnel_stage', sa.Integer(), nullable=False, server_default=sa.text('0'))
        )
    op.execute('UPDATE onboarding_requests SET email_search = lower(email) WHERE email IS NOT NULL')
    op.execute(FUNNEL_STAGE)
    with op.batch_alter_table('onboarding_requests', schema=None) as batch_op:
        batch_op.alter_column('funnel_stage', server_default=None)
    with op.batch_alter_table('onboarding_requests', schema=None) as batch_op:
        batch_op.create_index(
            'ix_onboarding_requests_tenant_activity',
            ['tenant_id', 'last_activity_at', 'id'],
            unique=False,
        )
        batch_op.create_index(
            'ix_onboarding_requests_tenant_open_activity',
            ['tenant_id', 'last_activity_at', 'id'],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )
        batch_op.create_index(
            'ix_onboarding_requests_tenant_reference', ['tenant_id', 'reference'], unique=False
        )
        batch_op.create_index(
            'ix_onboarding_requests_tenant_created',
            ['tenant_id', 'created_at', 'funnel_stage'],
            unique=False,
        )
        batch_op.create_index(
            'ix_onboarding_requests_tenant_email', ['tenant_id', 'email_search'], unique=False
        )
        batch_op.create_index(
            'ix_onboarding_requests_tenant_status', ['tenant_id', 'status'], unique=False
        )


def downgrade():
    with op.batch_alter_table('onboarding_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_onboarding_requests_tenant_status')
        batch_op.drop_index('ix_onboarding_requests_tenant_email')
        batch_op.drop_index('ix_onboarding_requests_tenant_created')
        batch_op.drop_column('funnel_stage')
        batch_op.drop_column('email_search')
        batch_op.drop_index('ix_onboarding_requests_tenant_reference')
        batch_op.drop_index('ix_onboarding_requests_tenant_open_activity')
        batch_op.drop_index('ix_onboarding_requests_tenant_activity')
