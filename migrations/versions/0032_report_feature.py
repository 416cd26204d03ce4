"""report_feature: a stored publication's zones as the OGC API pages them

Revision ID: 0032_report_feature
Revises: 0031_contact_line_translations
Create Date: 2026-12-06 16:15:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0032_report_feature'
down_revision = '0031_contact_line_translations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_feature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('publication_id', sa.Integer(), nullable=False),
        sa.Column('built_at', UTCDateTime(), nullable=False),
        sa.Column('level', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('properties', sa.JSON(), nullable=False),
        sa.Column('min_lon', sa.Float(), nullable=True),
        sa.Column('min_lat', sa.Float(), nullable=True),
        sa.Column('max_lon', sa.Float(), nullable=True),
        sa.Column('max_lat', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['publication_id'], ['report_publication.id'],
                                name=op.f('fk_report_feature_publication_id_report_publication'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], name=op.f('fk_report_feature_zone_id_zone'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_feature')),
        sa.UniqueConstraint('publication_id', 'level', 'position',
                            name=op.f('uq_report_feature_publication_id_level_position')),
    )
    op.create_index('ix_report_feature_code', 'report_feature', ['publication_id', 'level', 'code'])
    op.create_index('ix_report_feature_box', 'report_feature', ['publication_id', 'level', 'min_lon', 'max_lon'])


def downgrade():
    op.drop_index('ix_report_feature_box', table_name='report_feature')
    op.drop_index('ix_report_feature_code', table_name='report_feature')
    op.drop_table('report_feature')
