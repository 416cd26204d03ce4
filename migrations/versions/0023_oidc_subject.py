"""staff accounts may be bound to the municipality's identity provider: its issuer and the person's subject
(unique together)

Revision ID: 0023_oidc_subject
Revises: 0022_second_factor
Create Date: 2026-11-30 17:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0023_oidc_subject'
down_revision = '0022_second_factor'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_issuer', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_oidc_issuer_oidc_subject'), ['oidc_issuer', 'oidc_subject'])


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_oidc_issuer_oidc_subject'), type_='unique')
        batch_op.drop_column('oidc_subject')
        batch_op.drop_column('oidc_issuer')
