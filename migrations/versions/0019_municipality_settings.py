"""a municipality's own settings: the contact line shown to families, the SMS sender name, the default report
period and the support e-mail

Revision ID: 0019_municipality_settings
Revises: 0018_report_publication
Create Date: 2026-11-30 14:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0019_municipality_settings'
down_revision = '0018_report_publication'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_line', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sms_sender', sa.String(length=11), server_default='', nullable=False))
        batch_op.add_column(sa.Column('default_report_period', sa.String(length=40), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('support_email', sa.String(length=254), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_column('support_email')
        batch_op.drop_column('default_report_period')
        batch_op.drop_column('sms_sender')
        batch_op.drop_column('contact_line')
