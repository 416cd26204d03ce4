"""card_signing_key and card_revocation: signed card codes a scanner can check offline (issue 39)

Revision ID: 0034_card_signing
Revises: 0033_job_run_context
Create Date: 2026-12-06 20:00:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0034_card_signing'
down_revision = '0033_job_run_context'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'card_signing_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('kid', sa.String(length=16), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
        sa.Column('private_key', sa.LargeBinary(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('retiring_since', UTCDateTime(), nullable=True),
        sa.Column('retired_at', UTCDateTime(), nullable=True),
        sa.Column('revocation_counter', sa.Integer(), server_default='0', nullable=False),
        sa.CheckConstraint("status IN ('active', 'retiring', 'retired')", name=op.f('ck_card_signing_key_signing_key_status')),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kid'),
    )
    with op.batch_alter_table('card_signing_key') as batch:
        batch.create_index('ix_card_signing_key_municipality_id', ['municipality_id'], unique=False)
        batch.create_index('uq_card_signing_key_active', ['municipality_id'], unique=True,
                           sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
    op.create_table(
        'card_revocation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_id', sa.Integer(), nullable=False),
        sa.Column('card_number', sa.String(length=16), nullable=False),
        sa.Column('issued_before', UTCDateTime(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['key_id'], ['card_signing_key.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_id', 'seq'),
    )
    with op.batch_alter_table('card_revocation') as batch:
        batch.create_index('ix_card_revocation_key_id', ['key_id'], unique=False)


def downgrade():
    op.drop_table('card_revocation')
    op.drop_table('card_signing_key')
