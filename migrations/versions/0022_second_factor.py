"""staff accounts may have a second factor: a TOTP secret, when it was turned on, the last code's time step, and
hashed recovery codes

Revision ID: 0022_second_factor
Revises: 0021_token_scopes
Create Date: 2026-11-30 17:20:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0022_second_factor'
down_revision = '0021_token_scopes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('recovery_codes', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('recovery_codes')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
