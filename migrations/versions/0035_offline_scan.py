"""offline_scan, check-ins recorded offline, card_device, wallet_*: scans an offline scanner queued, judged when it
syncs, the phones a card is bound to, and cards in phones' wallets (issue 39)

Revision ID: 0035_offline_scan
Revises: 0034_card_signing
Create Date: 2026-12-06 21:20:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0035_offline_scan'
down_revision = '0034_card_signing'
branch_labels = None
depends_on = None

SOURCES = ['camera', 'typed', 'link', 'api']


def _sources(values):
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_checkin_checkin_source'), type_='check')
        batch_op.create_check_constraint('checkin_source', "source IN ({})".format(", ".join(f"'{v}'" for v in values)))


def upgrade():
    _sources([*SOURCES, 'offline'])
    op.create_table(
        'offline_scan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=True),
        sa.Column('card_id', sa.Integer(), nullable=True),
        sa.Column('checkin_id', sa.Integer(), nullable=True),
        sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('device_at', UTCDateTime(), nullable=False),
        sa.Column('scanned_at', UTCDateTime(), nullable=False),
        sa.Column('visit_day', sa.Date(), nullable=False),
        sa.Column('clock_offset_s', sa.Integer(), nullable=False),
        sa.Column('skew_s', sa.BigInteger(), nullable=False),
        sa.Column('companions', sa.Integer(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.CheckConstraint('companions >= 0', name=op.f('ck_offline_scan_offline_companions_not_negative')),
        sa.CheckConstraint("outcome IN ('accepted', 'duplicate', 'rejected')", name=op.f('ck_offline_scan_scan_outcome')),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['checkin_id'], ['checkin.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['duplicate_of_id'], ['checkin.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'),
    )
    with op.batch_alter_table('offline_scan') as batch:
        for column in ('municipality_id', 'partner_id', 'offer_id', 'card_id'):
            batch.create_index(f'ix_offline_scan_{column}', [column], unique=False)
        batch.create_index('uq_offline_scan_visit_key', ['card_id', 'offer_id', 'visit_day'], unique=True,
                           sqlite_where=sa.text("outcome = 'accepted'"), postgresql_where=sa.text("outcome = 'accepted'"))


    op.create_table(
        'card_device',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=65), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('card_id', 'public_key'),
    )
    with op.batch_alter_table('card_device') as batch:
        batch.create_index('ix_card_device_card_id', ['card_id'], unique=False)


    op.create_table(
        'wallet_credential',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('apple', 'google')", name=op.f('ck_wallet_credential_wallet_kind')),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('municipality_id', 'kind'),
    )
    op.create_table(
        'wallet_pass',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('serial', sa.String(length=40), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('apple', 'google')", name=op.f('ck_wallet_pass_wallet_kind')),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('card_id', 'kind'),
        sa.UniqueConstraint('serial'),
    )
    with op.batch_alter_table('wallet_pass') as batch:
        batch.create_index('ix_wallet_pass_card_id', ['card_id'], unique=False)
    op.create_table(
        'wallet_registration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('pass_id', sa.Integer(), nullable=False),
        sa.Column('push_token', sa.String(length=200), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['pass_id'], ['wallet_pass.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('device_id', 'pass_id'),
    )
    with op.batch_alter_table('wallet_registration') as batch:
        batch.create_index('ix_wallet_registration_pass_id', ['pass_id'], unique=False)


def downgrade():
    op.drop_table('wallet_registration')
    op.drop_table('wallet_pass')
    op.drop_table('wallet_credential')
    op.drop_table('card_device')
    op.drop_table('offline_scan')
    op.execute("DELETE FROM checkin WHERE source = 'offline'")
    _sources(SOURCES)
