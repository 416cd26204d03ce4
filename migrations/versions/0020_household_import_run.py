"""households remember the import that registered them (to send their card links afterwards); a guardian from
an import may have neither phone nor e-mail (the family gets a printed sheet), so the database no longer demands
one (registration by hand and applications still do, in services.validate_guardian); the municipality says on
which day its card scheme's year ends (approvals and new households default to it)

Revision ID: 0020_household_import_run
Revises: 0019_municipality_settings
Create Date: 2026-11-30 16:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0020_household_import_run'
down_revision = '0019_municipality_settings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_guardian_phone_or_email'), type_='check')
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheme_end', sa.String(length=5), server_default='12-31', nullable=False))
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_run_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_household_import_run_id'), ['import_run_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_household_import_run_id_job_run'), 'job_run', ['import_run_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_column('scheme_end')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_household_import_run_id_job_run'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_household_import_run_id'))
        batch_op.drop_column('import_run_id')
    with op.batch_alter_table('guardian', schema=None) as batch_op:
        batch_op.create_check_constraint('phone_or_email', sa.text('phone IS NOT NULL OR email IS NOT NULL'))
