"""zones carry their classification version; correspondences between versions (merges, splits, new codes)

Revision ID: 0028_zone_versions
Revises: 0027_imported_index
Create Date: 2026-11-30 19:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0028_zone_versions'
down_revision = '0027_imported_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('zone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.String(length=20), nullable=True))
    op.create_table(
        'zone_correspondence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('from_version', sa.String(length=20), nullable=False),
        sa.Column('to_version', sa.String(length=20), nullable=False),
        sa.Column('old_code', sa.String(length=32), nullable=False),
        sa.Column('new_code', sa.String(length=32), nullable=False),
        sa.Column('weight', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_zone_correspondence_municipality_id_municipality'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_zone_correspondence')),
        sa.UniqueConstraint('municipality_id', 'from_version', 'to_version', 'old_code', 'new_code',
                            name=op.f('uq_zone_correspondence_municipality_id_from_version_to_version_old_code_new_code')),
    )
    with op.batch_alter_table('zone_correspondence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zone_correspondence_municipality_id'), ['municipality_id'], unique=False)


def downgrade():
    with op.batch_alter_table('zone_correspondence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zone_correspondence_municipality_id'))
    op.drop_table('zone_correspondence')
    with op.batch_alter_table('zone', schema=None) as batch_op:
        batch_op.drop_column('version')
