"""The ledger in Beancount's plain-text format: every account opened (and closed) with its dates, every transfer
as a transaction whose postings are its legs (debits positive, in NOK with øre), and a balance assertion per
account with the balance the database keeps. `bean-check` reads it as an independent book-keeper: a transaction
that does not balance, a posting to a closed account, or a kept balance that differs from the legs fails it.
Accounts are named by kind and number, never by a child's name."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core.clock import local_date, today
from ..core.exports import csv_writer
from ..core.models import Municipality
from ..extensions import db
from .models import Account, AccountKind, Leg, Transfer, Voucher

ROOTS = {AccountKind.BUDGET: "Equity:Scheme{scheme}:Budget", AccountKind.LAPSED: "Income:Scheme{scheme}:Lapsed",
         AccountKind.CHILD: "Liabilities:Children:Account{id}", AccountKind.PAYABLE: "Liabilities:Partner{partner}:Payable",
         AccountKind.PAID: "Expenses:Partner{partner}:Paid"}


def account_name(account: Account) -> str:
    return ROOTS[account.kind].format(scheme=account.scheme_id, id=account.id, partner=account.partner_id)


def _nok(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    whole, rest = divmod(abs(ore), 100)
    return f"{sign}{whole}.{rest:02d} NOK"


def beancount(municipality: Municipality) -> str:
    """The municipality's ledger as a Beancount file."""
    accounts = db.session.scalars(sa.select(Account).where(Account.municipality_id == municipality.id)
                                  .order_by(Account.id)).all()
    transfers = db.session.scalars(sa.select(Transfer).where(Transfer.municipality_id == municipality.id)
                                   .order_by(Transfer.created_at, Transfer.id)).all()
    legs: dict[int, list[Leg]] = {}
    for leg in db.session.scalars(sa.select(Leg).join(Transfer, Transfer.id == Leg.transfer_id)
                                  .where(Transfer.municipality_id == municipality.id).order_by(Leg.id)):
        legs.setdefault(leg.transfer_id, []).append(leg)
    by_id = {a.id: a for a in accounts}
    first = min([local_date(a.created_at) for a in accounts] or [today()])
    out = [f'option "title" "Opplevelseskortet: aktivitetspenger, {municipality.name}"',
           'option "operating_currency" "NOK"', ""]
    for account in accounts:
        out.append(f"{first.isoformat()} open {account_name(account)} NOK")
    out.append("")
    for transfer in transfers:
        out.append(f'{local_date(transfer.created_at).isoformat()} * "{transfer.kind}" "{_quoted(transfer.memo)}"')
        out.append(f"  transfer: {transfer.id}")
        for leg in legs.get(transfer.id, []):
            amount = leg.amount if leg.debit else -leg.amount
            out.append(f"  {account_name(by_id[leg.account_id])}  {_nok(amount)}")
        out.append("")
    last = max([local_date(t.created_at) for t in transfers] or [first])
    check_day = last + timedelta(days=1)
    for account in accounts:  # Beancount's balance is debits less credits: the kept balance with its sign turned
        out.append(f"{check_day.isoformat()} balance {account_name(account)}  {_nok(-account.balance)}")
    for account in accounts:
        if account.closed_at is not None:
            out.append(f"{check_day.isoformat()} close {account_name(account)}")
    return "\n".join(out) + "\n"


def _quoted(text: str) -> str:
    return (text or "").replace("\\", "\\\\").replace('"', "'")


def vouchers_csv(municipality: Municipality, year: int) -> bytes:
    """The voucher-level ledger of a year for the accounting system: one row per leg, in voucher order (numbers from
    1 without a gap), semicolon-separated UTF-8 with a BOM, kroner with øre; accounts named as in the Beancount
    file, never by a child."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([_("Bilag"), _("Dato"), _("Type"), _("Tekst"), _("Konto"), _("Debet (kr)"), _("Kredit (kr)")])
    rows = db.session.execute(
        sa.select(Voucher.number, Transfer, Leg, Account).join(Transfer, Transfer.id == Voucher.transfer_id)
        .join(Leg, Leg.transfer_id == Transfer.id).join(Account, Account.id == Leg.account_id)
        .where(Voucher.municipality_id == municipality.id, Voucher.year == year)
        .order_by(Voucher.number, Leg.debit.desc(), Leg.id))
    for number, transfer, leg, account in rows:
        amount = _nok(leg.amount).removesuffix(" NOK").replace(".", ",")
        writer.writerow([number, local_date(transfer.created_at).isoformat(), str(transfer.kind), transfer.memo,
                         account_name(account), amount if leg.debit else "", "" if leg.debit else amount])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
