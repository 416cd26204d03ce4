"""the municipality's organisation number: the buyer of a self-billed EHF invoice for activity money (issue 40)

Revision ID: 0038_municipality_org
Revises: 0037_finance
Create Date: 2026-12-07 00:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0038_municipality_org'
down_revision = '0037_finance'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_number', sa.String(length=9), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_column('org_number')
