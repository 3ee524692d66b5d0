"""installer's customer: the name and mobile number of the person who must consent, and
the key that makes an installer's start safe to submit twice

Revision ID: 7b3e9f1c2d40
Revises: 4c1d7e2a9b10
Create Date: 2026-11-30 11:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7b3e9f1c2d40"
down_revision = "4c1d7e2a9b10"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("onboarding_requests") as batch:
        batch.add_column(sa.Column("customer_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("customer_mobile", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("start_key", sa.String(length=100), nullable=True))
        batch.create_index("ix_onboarding_requests_start_key", ["start_key"], unique=True)


def downgrade():
    with op.batch_alter_table("onboarding_requests") as batch:
        batch.drop_index("ix_onboarding_requests_start_key")
        batch.drop_column("start_key")
        batch.drop_column("customer_mobile")
        batch.drop_column("customer_name")
