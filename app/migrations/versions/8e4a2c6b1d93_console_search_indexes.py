"""the support console's search: reference and customer name in any case, mobile number

A caller reads out their reference in whatever case, their name, or their mobile number:
the search compares lower(reference) and lower(customer_name), and customer_mobile in
E.164, each within a tenant. The case-sensitive reference index gives way to lower().

Revision ID: 8e4a2c6b1d93
Revises: 3c9d0f5b7a21
Create Date: 2026-12-04 15:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '8e4a2c6b1d93'
down_revision = '3c9d0f5b7a21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('onboarding_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_onboarding_requests_tenant_reference')
        batch_op.create_index('ix_onboarding_requests_tenant_mobile', ['tenant_id', 'customer_mobile'], unique=False)
    op.create_index(
        'ix_onboarding_requests_tenant_reference_ci',
        'onboarding_requests',
        ['tenant_id', sa.text('lower(reference)')],
        unique=False,
    )
    op.create_index(
        'ix_onboarding_requests_tenant_name_ci',
        'onboarding_requests',
        ['tenant_id', sa.text('lower(customer_name)')],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_onboarding_requests_tenant_name_ci', table_name='onboarding_requests')
    op.drop_index('ix_onboarding_requests_tenant_reference_ci', table_name='onboarding_requests')
    with op.batch_alter_table('onboarding_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_onboarding_requests_tenant_mobile')
        batch_op.create_index('ix_onboarding_requests_tenant_reference', ['tenant_id', 'reference'], unique=False)
