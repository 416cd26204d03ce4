"""API tokens name what they may do (scopes) and when they expire; tokens made before keep every scope and
expire 90 days after this migration

Revision ID: 0021_token_scopes
Revises: 0020_household_import_run
Create Date: 2026-11-30 17:00:00

"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0021_token_scopes'
down_revision = '0020_household_import_run'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', UTCDateTime(), nullable=True))
    token = sa.table('api_token', sa.column('scopes', sa.JSON()), sa.column('expires_at', UTCDateTime()))
    op.execute(token.update().values(scopes=["checkin", "cards:read", "loans", "reports"],
                                     expires_at=datetime.now(UTC) + timedelta(days=90)))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('expires_at', existing_type=UTCDateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
