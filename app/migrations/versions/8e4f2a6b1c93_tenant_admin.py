"""tenant admin: invited users, the tenant's logo, the log of admin changes

Revision ID: 8e4f2a6b1c93
Revises: 7e4a2c9d1f35
Create Date: 2026-12-04 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '8e4f2a6b1c93'
down_revision = '7e4a2c9d1f35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('logo_type', sa.String(length=40), nullable=True))
    op.create_table(
        'tenant_logos',
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('tenant_id'),
    )
    op.create_table(
        'admin_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_admin_changes_tenant_at', 'admin_changes', ['tenant_id', 'at'])


def downgrade():
    op.drop_index('ix_admin_changes_tenant_at', table_name='admin_changes')
    op.drop_table('admin_changes')
    op.drop_table('tenant_logos')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('logo_type')
        batch_op.drop_column('logo_digest')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('invited_at')
