"""The ledger's tables. Amounts are integer øre. A transfer's legs are debits and credits of positive amounts that
balance (PostgreSQL checks it at commit); posted rows never change (corrections are new transfers); an account's
balance is kept beside its legs under a row lock, and the database refuses a child's account whose available money
(balance less reservations) would go below zero, and an account closed at anything but zero."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.types import UTCDateTime, enum_type, utcnow
from ..extensions import db


class AccountKind(enum.StrEnum):
    BUDGET = "budget"  # a scheme's appropriation: grants come from it (its balance goes below zero as it is spent)
    CHILD = "child"  # a child's money in a scheme and period
    PAYABLE = "payable"  # what the municipality owes a partner
    PAID = "paid"  # what it has paid a partner
    LAPSED = "lapsed"  # a scheme's money not used in its period


class TransferKind(enum.StrEnum):
    GRANT = "grant"
    TOPUP = "topup"
    CORRECTION = "correction"
    SETTLE = "settle"
    LAPSE = "lapse"
    PAYMENT = "payment"


class MoneyReservationStatus(enum.StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"
    VOIDED = "voided"


class Scheme(db.Model):
    """What a municipality gives: an amount per child per period (a year, or a half-year), for an age range, and a
    top-up for children in chosen zones (e.g. where reach is low)."""

    __tablename__ = "money_scheme"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    amount_ore: Mapped[int] = mapped_column(sa.BigInteger)
    half_years: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # periods of six months, else a year
    age_min: Mapped[int | None] = mapped_column(sa.Integer)
    age_max: Mapped[int | None] = mapped_column(sa.Integer)
    topup_ore: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    topup_zone_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("amount_ore > 0", name="scheme_amount_positive"),
                      sa.CheckConstraint("topup_ore >= 0", name="scheme_topup_not_negative"))


class Account(db.Model):
    __tablename__ = "money_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AccountKind] = mapped_column(enum_type(AccountKind, 10))
    scheme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("money_scheme.id", ondelete="RESTRICT"), index=True)
    child_id: Mapped[int | None] = mapped_column(sa.ForeignKey("child.id", ondelete="SET NULL"), index=True)
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id", ondelete="RESTRICT"), index=True)
    period: Mapped[str] = mapped_column(sa.String(7), default="")  # a child's account: "2026" or "2026-H2"
    period_end: Mapped[date | None] = mapped_column(sa.Date)  # when a child's money lapses (the day after)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # credits less debits, in øre
    reserved: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint("kind <> 'child' OR (balance >= 0 AND balance - reserved >= 0)",
                           name="child_money_not_below_zero"),
        sa.CheckConstraint("kind = 'child' OR reserved = 0", name="only_children_reserve"),
        sa.CheckConstraint("closed_at IS NULL OR (balance = 0 AND reserved = 0)", name="closed_only_at_zero"),
        # one account per child, scheme and period; per partner and kind; per scheme and kind
        sa.Index("uq_money_account_child", "scheme_id", "child_id", "period", unique=True,
                 sqlite_where=sa.text("kind = 'child'"), postgresql_where=sa.text("kind = 'child'")),
        sa.Index("uq_money_account_partner", "partner_id", "kind", unique=True,
                 sqlite_where=sa.text("partner_id IS NOT NULL"), postgresql_where=sa.text("partner_id IS NOT NULL")),
        sa.Index("uq_money_account_scheme", "scheme_id", "kind", unique=True,
                 sqlite_where=sa.text("kind IN ('budget', 'lapsed')"),
                 postgresql_where=sa.text("kind IN ('budget', 'lapsed')")),
    )


class Transfer(db.Model):
    __tablename__ = "ledger_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[TransferKind] = mapped_column(enum_type(TransferKind, 12))
    memo: Mapped[str] = mapped_column(sa.String(300), default="")
    reservation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("money_reservation.id", ondelete="RESTRICT"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Leg(db.Model):
    """A debit or a credit of a positive amount; a transfer's debits equal its credits."""

    __tablename__ = "ledger_leg"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transfer.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("money_account.id", ondelete="RESTRICT"), index=True)
    debit: Mapped[bool] = mapped_column(sa.Boolean)
    amount: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.CheckConstraint("amount > 0", name="leg_amount_positive"),)


class Reservation(db.Model):
    """Money held for a booking of a priced offer until the visit settles it (possibly for less) or it is voided."""

    __tablename__ = "money_reservation"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("money_account.id", ondelete="RESTRICT"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="RESTRICT"), index=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offer.id", ondelete="RESTRICT"), index=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id", ondelete="SET NULL"), unique=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    settled_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[MoneyReservationStatus] = mapped_column(enum_type(MoneyReservationStatus, 10),
                                                           default=MoneyReservationStatus.ACTIVE)
    expires_on: Mapped[date] = mapped_column(sa.Date)  # voided by the schedule after this day if still active
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="reservation_amount_positive"),
        sa.CheckConstraint("settled_amount IS NULL OR (settled_amount > 0 AND settled_amount <= amount)",
                           name="settled_within_reserved"),
        sa.CheckConstraint("(status = 'active') = (resolved_at IS NULL)", name="resolved_once"),
    )


class MoneyRegistration(db.Model):
    """A partner on the register of providers that may take money: organisation number, account, contact, and the
    duty to repay payments it knew or should have known were wrong, accepted."""

    __tablename__ = "money_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="CASCADE"), unique=True)
    org_number: Mapped[str] = mapped_column(sa.String(9))
    account_number: Mapped[str] = mapped_column(sa.String(11))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    repayment_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def status(self) -> str:
        """The partner's standing on the register, as partners' status words have it (core.labels)."""
        return "suspended" if self.suspended_at is not None else "approved"

    @property
    def takes_money(self) -> bool:
        return self.approved_at is not None and self.suspended_at is None


class IdempotencyRecord(db.Model):
    """An API call that moved money, kept with its answer: the same key and body replay it, never move money twice."""

    __tablename__ = "idempotency_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(100))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column(sa.Integer)
    response: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)



class SettlementStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class Settlement(db.Model):
    """A partner's month: the settled transfers frozen into lines, approved by the finance office, then paid."""

    __tablename__ = "money_settlement"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="RESTRICT"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="RESTRICT"), index=True)
    month: Mapped[str] = mapped_column(sa.String(7))
    status: Mapped[SettlementStatus] = mapped_column(enum_type(SettlementStatus, 10), default=SettlementStatus.DRAFT)
    total_ore: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    payment_transfer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transfer.id", ondelete="RESTRICT"))

    __table_args__ = (sa.UniqueConstraint("partner_id", "month"),
                      sa.CheckConstraint("total_ore >= 0", name="settlement_total_not_negative"),
                      sa.CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL)",
                                         name="approved_with_a_time"))

    @property
    def reference(self) -> str:
        """What the partner's invoice and the accounting quote: stable per partner and month."""
        return f"AP-{self.month.replace('-', '')}-{self.partner_id:04d}"


class SettlementLine(db.Model):
    """One settled reservation on a partner's settlement (a transfer is on one line of one settlement, ever)."""

    __tablename__ = "money_settlement_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(sa.ForeignKey("money_settlement.id", ondelete="RESTRICT"), index=True)
    transfer_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transfer.id", ondelete="RESTRICT"), unique=True)
    day: Mapped[date] = mapped_column(sa.Date)
    offer_title: Mapped[str] = mapped_column(sa.String(200))
    booking_ref: Mapped[str] = mapped_column(sa.String(40))  # the reservation's (and booking's) reference
    card_number: Mapped[str] = mapped_column(sa.String(16))  # never the child's name
    amount_ore: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.CheckConstraint("amount_ore > 0", name="settlement_line_positive"),)



class Voucher(db.Model):
    """A transfer's voucher number: per municipality and year, from 1 without a gap (the counter moves in the
    transfer's own transaction, so a posting that is rolled back takes its number back with it)."""

    __tablename__ = "money_voucher"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(sa.Integer)
    number: Mapped[int] = mapped_column(sa.Integer)
    transfer_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transfer.id", ondelete="RESTRICT"), unique=True)

    __table_args__ = (sa.UniqueConstraint("municipality_id", "year", "number"),
                      sa.CheckConstraint("number > 0", name="voucher_number_positive"))


class VoucherCounter(db.Model):
    __tablename__ = "money_voucher_counter"

    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="RESTRICT"),
                                                 primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    last: Mapped[int] = mapped_column(sa.Integer)


# PostgreSQL holds what must hold (created with the tables, and by migration 0036): a transfer's debits equal its
# credits when the transaction commits, and posted transfers and legs are never updated or deleted.
LEDGER_DDL = (
    """CREATE FUNCTION ledger_transfer_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT COALESCE(SUM(CASE WHEN debit THEN amount ELSE -amount END), 0) FROM ledger_leg
          WHERE transfer_id = NEW.transfer_id) <> 0 THEN
        RAISE EXCEPTION USING MESSAGE = 'ledger transfer ' || NEW.transfer_id || ' does not balance',
          ERRCODE = '23514';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER ledger_leg_balanced AFTER INSERT ON ledger_leg DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_balanced()""",
    """CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'posted ledger rows are never changed: post a correction' USING ERRCODE = '23514';
    END $$""",
    "CREATE TRIGGER ledger_leg_immutable BEFORE UPDATE OR DELETE ON ledger_leg FOR EACH ROW "
    "EXECUTE FUNCTION ledger_immutable()",
    "CREATE TRIGGER ledger_transfer_immutable BEFORE UPDATE OR DELETE ON ledger_transfer FOR EACH ROW "
    "EXECUTE FUNCTION ledger_immutable()",
)
LEDGER_DROP = ("DROP TRIGGER IF EXISTS ledger_transfer_immutable ON ledger_transfer",
               "DROP TRIGGER IF EXISTS ledger_leg_immutable ON ledger_leg",
               "DROP TRIGGER IF EXISTS ledger_leg_balanced ON ledger_leg",
               "DROP FUNCTION IF EXISTS ledger_immutable()", "DROP FUNCTION IF EXISTS ledger_transfer_balanced()")


@sa.event.listens_for(Leg.__table__, "after_create")
def _ledger_rules(_table, connection, **_kw):
    if connection.dialect.name == "postgresql":
        for statement in LEDGER_DDL:
            connection.exec_driver_sql(statement)
