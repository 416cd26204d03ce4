"""a municipality's own levekårsindeks per zone and year, with sub-scores, method name and version

Revision ID: 0027_imported_index
Revises: 0026_indicator_part_status
Create Date: 2026-11-30 19:10:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0027_imported_index'
down_revision = '0026_indicator_part_status'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'imported_index',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=120), nullable=False),
        sa.Column('method_version', sa.String(length=40), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('status', sa.String(length=3), nullable=True),
        sa.Column('sub_scores', sa.JSON(), nullable=False),
        sa.Column('imported_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_imported_index_municipality_id_municipality'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_imported_index_zone_id_zone'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_index')),
        sa.UniqueConstraint('zone_id', 'method', 'method_version', 'year',
                            name=op.f('uq_imported_index_zone_id_method_method_version_year')),
    )
    with op.batch_alter_table('imported_index', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_index_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_imported_index_zone_id'), ['zone_id'], unique=False)


def downgrade():
    with op.batch_alter_table('imported_index', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_index_zone_id'))
        batch_op.drop_index(batch_op.f('ix_imported_index_municipality_id'))
    op.drop_table('imported_index')
