"""an indicator's numerator and denominator keep SSB's symbol when missing beside a value

Revision ID: 0026_indicator_part_status
Revises: 0025_passkeys
Create Date: 2026-11-30 19:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0026_indicator_part_status'
down_revision = '0025_passkeys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('zone_indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('numerator_status', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('denominator_status', sa.String(length=3), nullable=True))


def downgrade():
    with op.batch_alter_table('zone_indicator', schema=None) as batch_op:
        batch_op.drop_column('denominator_status')
        batch_op.drop_column('numerator_status')
