"""enums checked by the database: a CHECK constraint on every enum column (role, every status, kind...)

Revision ID: 0011_enum_checks
Revises: 0010_security
Create Date: 2026-11-23 17:35:00

"""
from alembic import op


revision = '0011_enum_checks'
down_revision = '0010_security'
branch_labels = None
depends_on = None

# table -> [(column, enum name, allowed values)]; the constraint is named ck_<table>_<enum name>
CHECKS = {
    'outbox_message': [
        ('channel', 'outbox_channel', ['email', 'sms']),
        ('status', 'outbox_status', ['pending', 'sent', 'failed']),
    ],
    'item_type': [
        ('category', 'item_category', ['ski', 'skates', 'bike', 'helmet', 'tent', 'sleeping_bag', 'life_jacket', 'other']),
    ],
    'partner': [
        ('kind', 'partner_kind', ['club', 'business', 'volunteer_group', 'municipal']),
        ('status', 'partner_status', ['pending', 'approved', 'rejected', 'suspended']),
    ],
    'offer': [
        ('category', 'offer_category', ['sport', 'culture', 'outdoor', 'swimming', 'cinema', 'events', 'holiday_activity', 'other']),
        ('use_limit_period', 'limit_period', ['week', 'month', 'period']),
        ('status', 'offer_status', ['draft', 'published', 'paused', 'ended']),
    ],
    'unit': [
        ('condition', 'unit_condition', ['good', 'worn', 'needs_repair']),
        ('status', 'unit_status', ['available', 'on_loan', 'unchecked', 'maintenance', 'retired', 'lost']),
        ('source', 'unit_source', ['donation', 'purchase']),
    ],
    'user_account': [
        ('role', 'role', ['admin', 'caseworker', 'partner', 'volunteer', 'analyst']),
    ],
    'api_token': [
        ('role', 'role', ['admin', 'caseworker', 'partner', 'volunteer', 'analyst']),
    ],
    'unmet_demand': [
        ('category', 'item_category', ['ski', 'skates', 'bike', 'helmet', 'tent', 'sleeping_bag', 'life_jacket', 'other']),
    ],
    'application': [
        ('status', 'application_status', ['pending', 'approved', 'rejected']),
    ],
    'child': [
        ('gender', 'gender', ['girl', 'boy', 'other']),
        ('channel', 'channel', ['nav', 'child_welfare', 'school', 'health_nurse', 'introduction', 'application', 'other']),
    ],
    'card': [
        ('revoked_reason', 'revoke_reason', ['lost', 'eligibility_ended', 'misuse', 'replaced']),
    ],
    'booking': [
        ('status', 'booking_status', ['booked', 'waitlisted', 'cancelled', 'no_show', 'released']),
    ],
    'borrower': [
        ('kind', 'borrower_kind', ['card_holder', 'adult', 'child', 'group']),
    ],
    'checkin': [
        ('source', 'checkin_source', ['camera', 'typed', 'link', 'api']),
    ],
    'reservation': [
        ('status', 'reservation_status', ['active', 'picked_up', 'expired', 'cancelled']),
    ],
    'loan_line': [
        ('return_condition', 'unit_condition', ['good', 'worn', 'needs_repair']),
    ],
}


def upgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, name, values in columns:
                allowed = ", ".join(f"'{v}'" for v in values)
                batch_op.create_check_constraint(name, f"{column} IN ({allowed})")


def downgrade():
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _column, name, _values in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
