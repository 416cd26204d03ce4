"""which partner a partner user works for moves from core's user_account to partners' own partner_member

Revision ID: 0013_partner_member
Revises: 0012_item_type_unique
Create Date: 2026-11-23 19:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_partner_member'
down_revision = '0012_item_type_unique'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_member',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_member_partner_id_partner')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_partner_member_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_partner_member'))
    )
    with op.batch_alter_table('partner_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_member_partner_id'), ['partner_id'], unique=False)
    # Every tie there is moves over (a partner user keeps their organisation); then the column goes.
    op.execute("INSERT INTO partner_member (user_id, partner_id) "
               "SELECT id, partner_id FROM user_account WHERE partner_id IS NOT NULL")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_partner_id'))
        batch_op.drop_constraint(batch_op.f('fk_user_account_partner_id_partner'), type_='foreignkey')
        batch_op.drop_column('partner_id')


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_partner_id_partner'), 'partner', ['partner_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_user_account_partner_id'), ['partner_id'], unique=False)
    op.execute("UPDATE user_account SET partner_id = (SELECT partner_id FROM partner_member "
               "WHERE partner_member.user_id = user_account.id)")
    with op.batch_alter_table('partner_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_member_partner_id'))
    op.drop_table('partner_member')
