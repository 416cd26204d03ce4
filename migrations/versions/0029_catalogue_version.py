"""municipality.catalogue_version: moved on by every change to what the public catalogue shows

Revision ID: 0029_catalogue_version
Revises: 0028_zone_versions
Create Date: 2026-11-30 19:35:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0029_catalogue_version'
down_revision = '0028_zone_versions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalogue_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_column('catalogue_version')
