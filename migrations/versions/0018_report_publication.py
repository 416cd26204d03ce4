"""publications are built by a job and stored, read by every page, export and API call

Revision ID: 0018_report_publication
Revises: 0017_streamed_imports
Create Date: 2026-11-30 13:00:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0018_report_publication'
down_revision = '0017_streamed_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=40), nullable=False),
        sa.Column('settings', sa.String(length=60), nullable=False),
        sa.Column('data_version', sa.String(length=64), nullable=False),
        sa.Column('built_at', UTCDateTime(), nullable=False),
        sa.Column('build_seconds', sa.Float(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_report_publication_municipality_id_municipality'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_publication')),
        sa.UniqueConstraint('municipality_id', 'period', 'settings',
                            name=op.f('uq_report_publication_municipality_id_period_settings')),
    )


def downgrade():
    op.drop_table('report_publication')
