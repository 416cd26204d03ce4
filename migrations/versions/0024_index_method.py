"""a municipality's levekårsindeks method: its indicators, weights and directions, one row per version

Revision ID: 0024_index_method
Revises: 0023_oidc_subject
Create Date: 2026-11-30 17:50:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0024_index_method'
down_revision = '0023_oidc_subject'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'index_method',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('indicators', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_index_method_created_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_index_method_municipality_id_municipality'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_index_method')),
        sa.UniqueConstraint('municipality_id', 'version', name=op.f('uq_index_method_municipality_id_version')),
    )
    with op.batch_alter_table('index_method', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_method_municipality_id'), ['municipality_id'], unique=False)


def downgrade():
    with op.batch_alter_table('index_method', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_method_municipality_id'))
    op.drop_table('index_method')
