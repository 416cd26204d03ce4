"""finance role, monthly settlements of activity money and gap-free voucher numbers (issue 40, item 7)

Revision ID: 0037_finance
Revises: 0036_money
Create Date: 2026-12-06 22:00:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0037_finance'
down_revision = '0036_money'
branch_labels = None
depends_on = None

ROLES = ['admin', 'caseworker', 'partner', 'volunteer', 'analyst']


def _roles(values):
    allowed = ", ".join(f"'{v}'" for v in values)
    for table in ('user_account', 'api_token'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_role'), type_='check')
            batch_op.create_check_constraint('role', f"role IN ({allowed})")


def upgrade():
    _roles([*ROLES, 'finance'])
    op.create_table(
        'money_settlement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('total_ore', sa.BigInteger(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('approved_at', UTCDateTime(), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('payment_transfer_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'approved')", name=op.f('ck_money_settlement_settlement_status')),
        sa.CheckConstraint('total_ore >= 0', name=op.f('ck_money_settlement_settlement_total_not_negative')),
        sa.CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL)",
                           name=op.f('ck_money_settlement_approved_with_a_time')),
        sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['payment_transfer_id'], ['ledger_transfer.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('partner_id', 'month'),
    )
    op.create_index('ix_money_settlement_municipality_id', 'money_settlement', ['municipality_id'])
    op.create_index('ix_money_settlement_partner_id', 'money_settlement', ['partner_id'])
    op.create_table(
        'money_settlement_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=False),
        sa.Column('transfer_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('offer_title', sa.String(length=200), nullable=False),
        sa.Column('booking_ref', sa.String(length=40), nullable=False),
        sa.Column('card_number', sa.String(length=16), nullable=False),
        sa.Column('amount_ore', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('amount_ore > 0', name=op.f('ck_money_settlement_line_settlement_line_positive')),
        sa.ForeignKeyConstraint(['settlement_id'], ['money_settlement.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['transfer_id'], ['ledger_transfer.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('transfer_id'),
    )
    op.create_index('ix_money_settlement_line_settlement_id', 'money_settlement_line', ['settlement_id'])
    op.create_table(
        'money_voucher',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('transfer_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('number > 0', name=op.f('ck_money_voucher_voucher_number_positive')),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['transfer_id'], ['ledger_transfer.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('municipality_id', 'year', 'number'),
        sa.UniqueConstraint('transfer_id'),
    )
    op.create_table(
        'money_voucher_counter',
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('municipality_id', 'year'),
    )


def downgrade():
    op.drop_table('money_voucher_counter')
    op.drop_table('money_voucher')
    op.drop_table('money_settlement_line')
    op.drop_table('money_settlement')
    op.execute("DELETE FROM api_token WHERE role = 'finance'")
    op.execute("DELETE FROM user_account WHERE role = 'finance'")
    _roles(ROLES)
