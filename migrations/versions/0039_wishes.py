"""children's wishes: wish rounds, class codes, card holders' hashes, answers, calls and the offers they led to;
a parent's opt-out on the card (issue 41)

Revision ID: 0039_wishes
Revises: 0038_municipality_org
Create Date: 2026-12-07 01:00:00

"""
import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0039_wishes'
down_revision = '0038_municipality_org'
branch_labels = None
depends_on = None

BANDS = "grade_band IN ('1-4', '5-7', '8-10')"


def upgrade():
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wishes_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'wish_round',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('opens_on', sa.Date(), nullable=False),
        sa.Column('closes_on', sa.Date(), nullable=False),
        sa.Column('grade_bands', sa.JSON(), nullable=False),
        sa.Column('zone_ids', sa.JSON(), nullable=False),
        sa.Column('schools', sa.JSON(), nullable=False),
        sa.Column('free_text', sa.Boolean(), nullable=False),
        sa.Column('card_holders', sa.Boolean(), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('results', sa.JSON(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('published_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint('closes_on >= opens_on', name=op.f('ck_wish_round_wish_round_days_in_order')),
        sa.CheckConstraint("status IN ('open', 'closed', 'published')",
                           name=op.f('ck_wish_round_wish_round_status')),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_wish_round_municipality_id', 'wish_round', ['municipality_id'])
    op.create_table(
        'wish_class',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('school', sa.String(length=120), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('grade_band', sa.String(length=5), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=False),
        sa.Column('languages', sa.JSON(), nullable=False),
        sa.CheckConstraint(BANDS, name=op.f('ck_wish_class_grade_band')),
        sa.ForeignKeyConstraint(['round_id'], ['wish_round.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_wish_class_round_id', 'wish_class', ['round_id'])
    op.create_table(
        'wish_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('class_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('used', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['class_id'], ['wish_class.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_index('ix_wish_code_class_id', 'wish_code', ['class_id'])
    op.create_table(
        'wish_voter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('voter_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['wish_round.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'voter_hash'),
    )
    op.create_table(
        'wish_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=5), nullable=False),
        sa.Column('school', sa.String(length=120), nullable=False),
        sa.Column('grade_band', sa.String(length=5), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=True),
        sa.Column('activities', sa.JSON(), nullable=False),
        sa.Column('with_friend', sa.Boolean(), nullable=True),
        sa.Column('times', sa.JSON(), nullable=False),
        sa.Column('free_text', sa.String(length=200), nullable=True),
        sa.Column('text_status', sa.String(length=10), nullable=True),
        sa.CheckConstraint(BANDS, name=op.f('ck_wish_answer_grade_band')),
        sa.CheckConstraint("source IN ('class', 'card')", name=op.f('ck_wish_answer_wish_source')),
        sa.CheckConstraint("text_status IN ('held', 'approved', 'rejected')", name=op.f('ck_wish_answer_text_status')),
        sa.ForeignKeyConstraint(['round_id'], ['wish_round.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_wish_answer_round_id', 'wish_answer', ['round_id'])
    op.create_table(
        'wish_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('activity', sa.String(length=30), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=False),
        sa.Column('grade_band', sa.String(length=5), nullable=False),
        sa.Column('times', sa.JSON(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint(BANDS, name=op.f('ck_wish_call_grade_band')),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_wish_call_wish_call_status')),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['wish_round.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_wish_call_municipality_id', 'wish_call', ['municipality_id'])
    op.create_index('ix_wish_call_round_id', 'wish_call', ['round_id'])
    op.create_table(
        'wish_offer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['wish_call.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('offer_id'),
    )
    op.create_index('ix_wish_offer_call_id', 'wish_offer', ['call_id'])
    op.create_index('ix_wish_offer_partner_id', 'wish_offer', ['partner_id'])


def downgrade():
    for table in ('wish_offer', 'wish_call', 'wish_answer', 'wish_voter', 'wish_code', 'wish_class', 'wish_round'):
        op.drop_table(table)
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_column('wishes_opt_out')
