"""the outbox never sends twice: a message is marked as being sent (with a lease) before it goes out, carries a
stable Message-ID, and one whose fate is unknown after a crash is "uncertain" for staff to check and resend

Revision ID: 0016_outbox_lease
Revises: 0015_job_run
Create Date: 2026-11-30 11:20:00

"""
import uuid

import sqlalchemy as sa
from alembic import op

from opplevelseskort.core.types import UTCDateTime

revision = '0016_outbox_lease'
down_revision = '0015_job_run'
branch_labels = None
depends_on = None

OLD = "status IN ('pending', 'sent', 'failed')"
NEW = "status IN ('pending', 'sending', 'sent', 'uncertain', 'failed')"


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('lease_until', UTCDateTime(), nullable=True))
        batch_op.drop_constraint(op.f('ck_outbox_message_outbox_status'), type_='check')
        batch_op.create_check_constraint('outbox_status', NEW)
    conn = op.get_bind()
    for (msg_id,) in conn.execute(sa.text("SELECT id FROM outbox_message")).all():
        conn.execute(sa.text("UPDATE outbox_message SET message_id = :m WHERE id = :i"),
                     {"m": f"<{uuid.uuid4().hex}@opplevelseskort>", "i": msg_id})
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_message_id'), ['message_id'])


def downgrade():
    op.execute("UPDATE outbox_message SET status = 'pending' WHERE status IN ('sending', 'uncertain')")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_message_id'), type_='unique')
        batch_op.drop_constraint(op.f('ck_outbox_message_outbox_status'), type_='check')
        batch_op.create_check_constraint('outbox_status', OLD)
        batch_op.drop_column('lease_until')
        batch_op.drop_column('message_id')
