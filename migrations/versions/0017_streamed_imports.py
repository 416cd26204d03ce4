"""imports stream: an upload is stored in chunks, and a two-pass import stages its checked rows

Revision ID: 0017_streamed_imports
Revises: 0016_outbox_lease
Create Date: 2026-11-30 12:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017_streamed_imports'
down_revision = '0016_outbox_lease'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chunks', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'stored_file_chunk',
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_stored_file_chunk_file_id_stored_file'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('file_id', 'seq', name=op.f('pk_stored_file_chunk')),
    )
    op.create_table(
        'import_row',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_key', sa.String(length=40), nullable=False),
        sa.Column('group_key', sa.String(length=200), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_row')),
    )
    op.create_index('ix_import_row_run_group', 'import_row', ['run_key', 'group_key', 'line'])


def downgrade():
    op.drop_index('ix_import_row_run_group', table_name='import_row')
    op.drop_table('import_row')
    op.drop_table('stored_file_chunk')
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_column('chunks')
