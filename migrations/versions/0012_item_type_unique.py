"""one item type per (municipality, name, size): duplicates merged into the oldest, then a unique constraint

Revision ID: 0012_item_type_unique
Revises: 0011_enum_checks
Create Date: 2026-11-23 17:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_item_type_unique'
down_revision = '0011_enum_checks'
branch_labels = None
depends_on = None

REFERRING = [("unit", "item_type_id"), ("reservation", "item_type_id"), ("unmet_demand", "item_type_id")]


def upgrade():
    conn = op.get_bind()
    # Types made twice before the rule (the same name and size typed at two desks): keep the oldest, move what
    # pointed at the others onto it, drop the others. Nothing a volunteer registered is lost.
    rows = conn.execute(sa.text("SELECT id, municipality_id, name, size FROM item_type ORDER BY id")).all()
    keep: dict[tuple, int] = {}
    for type_id, muni, name, size in rows:
        key = (muni, name, size or "")
        if key not in keep:
            keep[key] = type_id
            continue
        for table, column in REFERRING:
            conn.execute(sa.text(f"UPDATE {table} SET {column} = :keep WHERE {column} = :dup"),
                         {"keep": keep[key], "dup": type_id})
        conn.execute(sa.text("DELETE FROM item_type WHERE id = :dup"), {"dup": type_id})
    with op.batch_alter_table('item_type', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_item_type_municipality_id_name_size'),
                                          ['municipality_id', 'name', 'size'])


def downgrade():
    with op.batch_alter_table('item_type', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_item_type_municipality_id_name_size'), type_='unique')
