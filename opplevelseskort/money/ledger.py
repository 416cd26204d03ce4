"""Posting to the ledger: every movement of money is one transfer of debits and credits that balance, written with
the accounts it touches locked (in id order, so two postings never wait on each other crosswise) and their
balances moved in the same transaction. Nothing here updates or deletes a posted row.

Sign: an account's balance is its credits less its debits. A grant debits the scheme's budget and credits the
child; a settlement debits the child and credits the partner's payable; a lapse debits the child and credits the
scheme's lapsed money; a payment debits payable and credits paid."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.clock import local_date, utcnow
from ..core.errors import DomainError
from ..extensions import db
from .models import Account, AccountKind, Leg, Transfer, TransferKind, Voucher, VoucherCounter


class NotEnoughMoney(DomainError):
    def __init__(self):
        super().__init__("not_enough_money", _("Det er ikke nok penger igjen på kortet til dette."))


def locked(account_ids) -> dict[int, Account]:
    """The accounts, locked for this transaction (SELECT ... FOR UPDATE on PostgreSQL; SQLite's writes are serial)."""
    q = sa.select(Account).where(Account.id.in_(sorted(set(account_ids)))).order_by(Account.id)
    if db.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return {a.id: a for a in db.session.execute(q.execution_options(populate_existing=True)).scalars()}


def post(kind: TransferKind, moves: list[tuple[Account, Account, int]], *, municipality_id: int, memo: str = "",
         reservation_id: int | None = None, actor=None) -> Transfer:
    """One transfer: each move takes `amount` øre (> 0) from the first account (debit) to the second (credit). A
    child's account may not go below what it has reserved; a closed account takes nothing."""
    if not moves or any(amount <= 0 for _src, _dst, amount in moves):
        raise DomainError("amount_invalid", _("Beløpet må være større enn null."))
    accounts = locked([a.id for src, dst, _amount in moves for a in (src, dst)])
    change: dict[int, int] = defaultdict(int)
    for src, dst, amount in moves:
        change[src.id] -= amount
        change[dst.id] += amount
    for account_id, delta in change.items():
        account = accounts[account_id]
        if account.closed_at is not None:
            raise DomainError("account_closed", _("Kontoen er avsluttet."))
        if account.kind == AccountKind.CHILD and account.balance + delta - account.reserved < 0:
            raise NotEnoughMoney()
    transfer = Transfer(municipality_id=municipality_id, kind=kind, memo=memo[:300], reservation_id=reservation_id,
                        actor_id=getattr(actor, "id", None), created_at=utcnow())
    db.session.add(transfer)
    db.session.flush()
    db.session.add_all([Leg(transfer_id=transfer.id, account_id=src.id, debit=True, amount=amount)
                        for src, _dst, amount in moves] +
                       [Leg(transfer_id=transfer.id, account_id=dst.id, debit=False, amount=amount)
                        for _src, dst, amount in moves])
    for account_id, delta in change.items():
        accounts[account_id].balance += delta
    year = local_date(transfer.created_at).year
    db.session.add(Voucher(municipality_id=municipality_id, year=year, number=_next_voucher(municipality_id, year),
                           transfer_id=transfer.id))
    db.session.flush()
    return transfer


def _next_voucher(municipality_id: int, year: int) -> int:
    """The municipality's next voucher number of the year: one upsert that moves the counter and locks its row until
    the transaction ends (a second posting waits; a rollback gives the number back), so numbers have no gap."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = VoucherCounter.__table__
    statement = insert(table).values(municipality_id=municipality_id, year=year, last=1)
    statement = statement.on_conflict_do_update(index_elements=[table.c.municipality_id, table.c.year],
                                                set_={"last": table.c.last + 1}).returning(table.c.last)
    return int(db.session.execute(statement).scalar_one())


def balances_from_legs() -> dict[int, int]:
    """Every account's balance as its legs say (credits less debits): what the kept balances must equal."""
    signed = sa.case((Leg.debit, -Leg.amount), else_=Leg.amount)
    return dict(db.session.execute(sa.select(Leg.account_id, sa.func.sum(signed)).group_by(Leg.account_id)).all())


def total() -> int:
    """The sum of every leg, debits negative: zero in a ledger that adds up."""
    signed = sa.case((Leg.debit, -Leg.amount), else_=Leg.amount)
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(signed), 0))))
