"""money: schemes, accounts, the ledger (transfers and legs, balanced and immutable on PostgreSQL), reservations,
the register of providers and idempotent API calls (issue 40)

Revision ID: 0036_money
Revises: 0035_offline_scan
Create Date: 2026-12-06 21:45:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime
from opplevelseskort.money.models import LEDGER_DDL, LEDGER_DROP

revision = '0036_money'
down_revision = '0035_offline_scan'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'money_scheme',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('amount_ore', sa.BigInteger(), nullable=False),
        sa.Column('half_years', sa.Boolean(), nullable=False),
        sa.Column('age_min', sa.Integer(), nullable=True),
        sa.Column('age_max', sa.Integer(), nullable=True),
        sa.Column('topup_ore', sa.BigInteger(), nullable=False),
        sa.Column('topup_zone_ids', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('amount_ore > 0', name=op.f('ck_money_scheme_scheme_amount_positive')),
        sa.CheckConstraint('topup_ore >= 0', name=op.f('ck_money_scheme_scheme_topup_not_negative')),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_money_scheme_municipality_id', 'money_scheme', ['municipality_id'])
    op.create_table(
        'money_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=True),
        sa.Column('child_id', sa.Integer(), nullable=True),
        sa.Column('partner_id', sa.Integer(), nullable=True),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=True),
        sa.Column('balance', sa.BigInteger(), nullable=False),
        sa.Column('reserved', sa.BigInteger(), nullable=False),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('budget', 'child', 'payable', 'paid', 'lapsed')",
                           name=op.f('ck_money_account_account_kind')),
        sa.CheckConstraint('reserved >= 0', name=op.f('ck_money_account_reserved_not_negative')),
        sa.CheckConstraint("kind <> 'child' OR (balance >= 0 AND balance - reserved >= 0)",
                           name=op.f('ck_money_account_child_money_not_below_zero')),
        sa.CheckConstraint("kind = 'child' OR reserved = 0", name=op.f('ck_money_account_only_children_reserve')),
        sa.CheckConstraint('closed_at IS NULL OR (balance = 0 AND reserved = 0)',
                           name=op.f('ck_money_account_closed_only_at_zero')),
        sa.ForeignKeyConstraint(['child_id'], ['child.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['scheme_id'], ['money_scheme.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('municipality_id', 'scheme_id', 'child_id', 'partner_id'):
        op.create_index(f'ix_money_account_{column}', 'money_account', [column])
    op.create_index('uq_money_account_child', 'money_account', ['scheme_id', 'child_id', 'period'], unique=True,
                    sqlite_where=sa.text("kind = 'child'"), postgresql_where=sa.text("kind = 'child'"))
    op.create_index('uq_money_account_partner', 'money_account', ['partner_id', 'kind'], unique=True,
                    sqlite_where=sa.text('partner_id IS NOT NULL'), postgresql_where=sa.text('partner_id IS NOT NULL'))
    op.create_index('uq_money_account_scheme', 'money_account', ['scheme_id', 'kind'], unique=True,
                    sqlite_where=sa.text("kind IN ('budget', 'lapsed')"),
                    postgresql_where=sa.text("kind IN ('budget', 'lapsed')"))
    op.create_table(
        'money_reservation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('settled_amount', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('resolved_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'settled', 'voided')",
                           name=op.f('ck_money_reservation_money_reservation_status')),
        sa.CheckConstraint('amount > 0', name=op.f('ck_money_reservation_reservation_amount_positive')),
        sa.CheckConstraint('settled_amount IS NULL OR (settled_amount > 0 AND settled_amount <= amount)',
                           name=op.f('ck_money_reservation_settled_within_reserved')),
        sa.CheckConstraint("(status = 'active') = (resolved_at IS NULL)",
                           name=op.f('ck_money_reservation_resolved_once')),
        sa.ForeignKeyConstraint(['account_id'], ['money_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('booking_id'),
    )
    for column in ('account_id', 'partner_id', 'offer_id'):
        op.create_index(f'ix_money_reservation_{column}', 'money_reservation', [column])
    op.create_table(
        'ledger_transfer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('memo', sa.String(length=300), nullable=False),
        sa.Column('reservation_id', sa.Integer(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('grant', 'topup', 'correction', 'settle', 'lapse', 'payment')",
                           name=op.f('ck_ledger_transfer_transfer_kind')),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['reservation_id'], ['money_reservation.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ledger_transfer_municipality_id', 'ledger_transfer', ['municipality_id'])
    op.create_table(
        'ledger_leg',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('transfer_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('debit', sa.Boolean(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_leg_leg_amount_positive')),
        sa.ForeignKeyConstraint(['account_id'], ['money_account.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['transfer_id'], ['ledger_transfer.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ledger_leg_transfer_id', 'ledger_leg', ['transfer_id'])
    op.create_index('ix_ledger_leg_account_id', 'ledger_leg', ['account_id'])
    op.create_table(
        'money_registration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('org_number', sa.String(length=9), nullable=False),
        sa.Column('account_number', sa.String(length=11), nullable=False),
        sa.Column('contact_email', sa.String(length=254), nullable=False),
        sa.Column('repayment_accepted_at', UTCDateTime(), nullable=False),
        sa.Column('approved_at', UTCDateTime(), nullable=True),
        sa.Column('suspended_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('partner_id'),
    )
    op.create_table(
        'idempotency_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('response', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in LEDGER_DDL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in LEDGER_DROP:
            op.execute(statement)
    for table in ('idempotency_record', 'money_registration', 'ledger_leg', 'ledger_transfer', 'money_reservation',
                  'money_account', 'money_scheme'):
        op.drop_table(table)
