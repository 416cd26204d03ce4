"""an offer's opening hours become the typed structure a lending location has (one format for both)

Revision ID: 0014_offer_opening_hours
Revises: 0013_partner_member
Create Date: 2026-11-30 10:30:00

Free text that the hours parser reads («tirsdag 17–19») becomes weekly openings; a text it cannot read is kept
at the end of the offer's description, so nothing a partner wrote is lost.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0014_offer_opening_hours'
down_revision = '0013_partner_member'
branch_labels = None
depends_on = None


def _typed(text: str):
    from opplevelseskort.core.errors import DomainError
    from opplevelseskort.core.hours import OpeningHours

    try:
        return OpeningHours.parse_text(text).to_json(), None
    except DomainError:
        return None, text


def upgrade():
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours_typed', sa.JSON(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, opening_hours, description FROM offer "
                                "WHERE opening_hours IS NOT NULL AND opening_hours <> ''")).all()
    for offer_id, text, description in rows:
        typed, kept = _typed(text)
        if typed is not None:
            conn.execute(sa.text("UPDATE offer SET opening_hours_typed = :h WHERE id = :i"),
                         {"h": json.dumps(typed), "i": offer_id})
        else:
            conn.execute(sa.text("UPDATE offer SET description = :d WHERE id = :i"),
                         {"d": f"{description or ''}\n\nÅpningstider: {kept}".strip(), "i": offer_id})
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_column('opening_hours')
        batch_op.alter_column('opening_hours_typed', new_column_name='opening_hours')


def downgrade():
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours_text', sa.String(length=300), nullable=False, server_default=''))
    conn = op.get_bind()
    from opplevelseskort.core.hours import OpeningHours

    for offer_id, raw in conn.execute(sa.text("SELECT id, opening_hours FROM offer")).all():
        data = json.loads(raw) if isinstance(raw, str) else raw
        text = OpeningHours.from_json(data).as_one_text()[:300] if data else ""
        conn.execute(sa.text("UPDATE offer SET opening_hours_text = :t WHERE id = :i"), {"t": text, "i": offer_id})
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_column('opening_hours')
        batch_op.alter_column('opening_hours_text', new_column_name='opening_hours', server_default=None)
