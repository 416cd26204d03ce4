"""municipality.contact_line_translations: the line for families in their own languages

Revision ID: 0031_contact_line_translations
Revises: 0030_oidc_binding
Create Date: 2026-12-06 14:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0031_contact_line_translations'
down_revision = '0030_oidc_binding'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_line_translations', sa.JSON(), server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_column('contact_line_translations')
