"""consent links as records, and the messages that carried them

Revision ID: 4c1d7e2a9b10
Revises: a1d3c0e5f7b2
Create Date: 2026-11-28 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '4c1d7e2a9b10'
down_revision = 'a1d3c0e5f7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_links',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('revoked_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replaced_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['consent_links.id'], name=op.f('fk_consent_links_replaced_by_id_consent_links'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['onboarding_requests.id'], name=op.f('fk_consent_links_request_id_onboarding_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_links'))
    )
    with op.batch_alter_table('consent_links', schema=None) as batch_op:
        batch_op.create_index('ix_consent_links_request_id_created_at', ['request_id', 'created_at'], unique=False)

    op.create_table('consent_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('link_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('submission_key', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('sent_by', sa.String(length=120), nullable=False),
    sa.Column('provider_id', sa.String(length=300), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['consent_links.id'], name=op.f('fk_consent_messages_link_id_consent_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['onboarding_requests.id'], name=op.f('fk_consent_messages_request_id_onboarding_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_messages')),
    sa.UniqueConstraint('request_id', 'submission_key', 'channel', 'recipient', name=op.f('uq_consent_messages_request_id'))
    )
    with op.batch_alter_table('consent_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_messages_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consent_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_messages_request_id'))

    op.drop_table('consent_messages')
    with op.batch_alter_table('consent_links', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_links_request_id_created_at')

    op.drop_table('consent_links')
