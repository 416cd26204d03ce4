"""security and integrity: when a booking got its place; SSB status of a missing indicator

Revision ID: 0010_security
Revises: 0009_item_photo
Create Date: 2026-11-23 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_security'
down_revision = '0009_item_photo'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('zone_indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=3), nullable=True))


def downgrade():
    with op.batch_alter_table('zone_indicator', schema=None) as batch_op:
        batch_op.drop_column('status')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('placed_at')
