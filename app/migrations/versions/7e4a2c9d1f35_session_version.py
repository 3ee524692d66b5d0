"""session version: signing out ends every session of the user

Revision ID: 7e4a2c9d1f35
Revises: 8e4a2c6b1d93
Create Date: 2026-12-04 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "7e4a2c9d1f35"
down_revision = "8e4a2c6b1d93"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
