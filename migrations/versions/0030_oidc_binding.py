"""OIDC binding by invitation (user_account.oidc_invite_provider) and used back-channel logout tokens

Revision ID: 0030_oidc_binding
Revises: 0029_catalogue_version
Create Date: 2026-12-06 13:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0030_oidc_binding'
down_revision = '0029_catalogue_version'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_invite_provider', sa.String(length=60), nullable=True))
    op.create_table(
        'oidc_logout_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('jti', sa.String(length=255), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_logout_token')),
        sa.UniqueConstraint('issuer', 'jti', name=op.f('uq_oidc_logout_token_issuer_jti')),
    )
    with op.batch_alter_table('oidc_logout_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_logout_token_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('oidc_logout_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_logout_token_expires_at'))
    op.drop_table('oidc_logout_token')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('oidc_invite_provider')
