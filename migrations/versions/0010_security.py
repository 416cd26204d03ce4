"""security and integrity: when a booking got its place; SSB status of a missing indicator; stored files

Revision ID: 0010_security
Revises: 0009_item_photo
Create Date: 2026-11-23 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_security'
down_revision = '0009_item_photo'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    sa.UniqueConstraint('key', name=op.f('uq_stored_file_key'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('zone_indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=3), nullable=True))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sa.String(length=60), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_ref'), ['ref'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_ref'))
        batch_op.drop_column('ref')
    op.drop_table('stored_file')
    with op.batch_alter_table('zone_indicator', schema=None) as batch_op:
        batch_op.drop_column('status')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('placed_at')
