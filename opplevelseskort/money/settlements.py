"""Partners get paid from the books (issue 40, item 7): a monthly settlement per partner freezes the month's settled
transfers into lines (day, offer, reservation reference, card number — never a child's name) with a total; the
finance office approves it, which posts the payment (payable to paid); it is exported as CSV for people and as a
JSON settlement basis (organisation number, account, lines) for the municipality's accounting. Making a month again
adds only what is new; an approved month takes nothing more."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask_babel import gettext as _

from ..cards.models import Card
from ..core import audit
from ..core.clock import local_date, month_bounds, utcnow
from ..core.errors import Conflict, NotFound, PermissionDenied
from ..core.exports import csv_writer
from ..core.models import Municipality, Role
from ..core.permissions import can_access_municipality
from ..extensions import db
from ..partners.models import Offer, Partner
from . import ehf, ledger
from .models import (
    Account,
    AccountKind,
    MoneyRegistration,
    Reservation,
    Settlement,
    SettlementLine,
    SettlementStatus,
    Transfer,
    TransferKind,
)
from .services import partner_account


def _may_handle(actor, partner: Partner) -> None:
    if actor.role not in (Role.FINANCE, Role.ADMIN) or not can_access_municipality(actor, partner.municipality_id):
        raise PermissionDenied("forbidden", _("Du har ikke tilgang til dette."))


def make(partner: Partner, month: str, *, actor) -> Settlement:
    """The partner's settlement for the month, with a line for every settled transfer of the month not on a line
    yet (run again, it adds only the new ones); an approved month is refused."""
    _may_handle(actor, partner)
    start, end = month_bounds(month)
    settlement = db.session.scalar(sa.select(Settlement).where(Settlement.partner_id == partner.id,
                                                               Settlement.month == month))
    if settlement is not None and settlement.status == SettlementStatus.APPROVED:
        raise Conflict("settlement_approved", _("Oppgjøret for måneden er godkjent og kan ikke endres."))
    if settlement is None:
        settlement = Settlement(municipality_id=partner.municipality_id, partner_id=partner.id, month=month,
                                status=SettlementStatus.DRAFT, total_ore=0, created_at=utcnow())
        db.session.add(settlement)
        db.session.flush()
    on_a_line = sa.select(SettlementLine.transfer_id)
    rows = db.session.execute(
        sa.select(Transfer, Reservation, Offer.title, Card.short_code)
        .join(Reservation, Reservation.id == Transfer.reservation_id)
        .join(Offer, Offer.id == Reservation.offer_id)
        .join(Account, Account.id == Reservation.account_id)
        .outerjoin(Card, sa.and_(Card.child_id == Account.child_id, Card.revoked_at.is_(None)))
        .where(Transfer.kind == TransferKind.SETTLE, Reservation.partner_id == partner.id,
               Transfer.created_at >= start, Transfer.created_at < end, Transfer.id.not_in(on_a_line))
        .order_by(Transfer.created_at, Transfer.id)).all()
    seen = set()
    for transfer, reservation, title, card_number in rows:
        if transfer.id in seen:
            continue
        seen.add(transfer.id)
        db.session.add(SettlementLine(settlement_id=settlement.id, transfer_id=transfer.id,
                                      day=local_date(transfer.created_at), offer_title=title[:200],
                                      booking_ref=f"R{reservation.id}" + (f"-B{reservation.booking_id}"
                                                                          if reservation.booking_id else ""),
                                      card_number=card_number or "", amount_ore=reservation.settled_amount))
        settlement.total_ore += reservation.settled_amount
    db.session.flush()
    audit.record(actor, "money.settlement_make", "money_settlement", settlement.id,
                 municipality_id=partner.municipality_id, lines=len(seen))
    return settlement


def approve(settlement: Settlement, *, actor) -> Settlement:
    """The finance office approves the settlement: the partner is paid (payable to paid) by one transfer."""
    partner = db.session.get(Partner, settlement.partner_id)
    if actor.role != Role.FINANCE or not can_access_municipality(actor, partner.municipality_id):
        raise PermissionDenied("forbidden", _("Bare økonomikontoret godkjenner oppgjør."))
    done = db.session.execute(sa.update(Settlement).where(
        Settlement.id == settlement.id, Settlement.status == SettlementStatus.DRAFT)
        .values(status=SettlementStatus.APPROVED, approved_at=utcnow(), approved_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict("settlement_approved", _("Oppgjøret for måneden er godkjent og kan ikke endres."))
    db.session.refresh(settlement)
    if settlement.total_ore:
        payment = ledger.post(TransferKind.PAYMENT, [(partner_account(partner, AccountKind.PAYABLE),
                                                      partner_account(partner, AccountKind.PAID), settlement.total_ore)],
                              municipality_id=partner.municipality_id, actor=actor,
                              memo=f"{reference(settlement)} {partner.name}")
        settlement.payment_transfer_id = payment.id
    audit.record(actor, "money.settlement_approve", "money_settlement", settlement.id,
                 municipality_id=partner.municipality_id, total_ore=settlement.total_ore)
    return settlement


def reference(settlement: Settlement) -> str:
    return settlement.reference


def may_approve(settlement: Settlement, actor) -> bool:
    """Whether this actor may approve it now: the finance office, a draft."""
    return actor.role == Role.FINANCE and settlement.status == SettlementStatus.DRAFT

def has_invoice(settlement: Settlement) -> bool:
    """Whether the settlement is an invoice now: approved, with lines (the EHF download is offered)."""
    return settlement.status == SettlementStatus.APPROVED and settlement.total_ore > 0


def lines(settlement: Settlement) -> list[SettlementLine]:
    return list(db.session.scalars(sa.select(SettlementLine).where(SettlementLine.settlement_id == settlement.id)
                                   .order_by(SettlementLine.day, SettlementLine.id)))


def settlement_of(settlement_id: int, actor) -> Settlement:
    found = db.session.get(Settlement, settlement_id)
    if found is None:
        raise NotFound("settlement_unknown", _("Fant ikke oppgjøret."))
    _may_handle(actor, db.session.get(Partner, found.partner_id))
    return found


def registered_partners(actor) -> list[Partner]:
    """The partners on the money register the actor's municipality has (what the finance page settles)."""
    q = sa.select(Partner).join(MoneyRegistration, MoneyRegistration.partner_id == Partner.id).order_by(Partner.name)
    if actor.municipality_id is not None:
        q = q.where(Partner.municipality_id == actor.municipality_id)
    return list(db.session.scalars(q))


def settlements_of(actor) -> list[Settlement]:
    q = sa.select(Settlement).order_by(Settlement.month.desc(), Settlement.partner_id)
    if actor.municipality_id is not None:
        q = q.where(Settlement.municipality_id == actor.municipality_id)
    return list(db.session.scalars(q))


# --- exports -----------------------------------------------------------------------------------------------------

def kroner_text(ore: int) -> str:
    """Norwegian kroner and øre for a spreadsheet: "1234,50"."""
    whole, rest = divmod(abs(ore), 100)
    return f"{'-' if ore < 0 else ''}{whole},{rest:02d}"


def as_csv(settlement: Settlement) -> bytes:
    """Semicolon-separated, UTF-8 with a BOM (what a Norwegian spreadsheet opens), kroner with øre."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([_("Dato"), _("Tilbud"), _("Referanse"), _("Kortnummer"), _("Beløp (kr)")])
    for line in lines(settlement):
        writer.writerow([line.day.isoformat(), line.offer_title, line.booking_ref, line.card_number,
                         kroner_text(line.amount_ore)])
    writer.writerow([_("Sum"), "", reference(settlement), "", kroner_text(settlement.total_ore)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_basis(settlement: Settlement) -> dict:
    """The settlement basis for the municipality's accounting: who is paid, to which account, for what."""
    partner = db.session.get(Partner, settlement.partner_id)
    registration = db.session.scalar(sa.select(MoneyRegistration).where(MoneyRegistration.partner_id == partner.id))
    municipality = db.session.get(Municipality, settlement.municipality_id)
    return {"reference": reference(settlement), "month": settlement.month, "status": str(settlement.status),
            "approved_at": settlement.approved_at.isoformat() if settlement.approved_at else None,
            "buyer": {"municipality": municipality.name, "municipality_number": municipality.number},
            "payee": {"name": partner.name, "organisation_number": registration.org_number if registration else "",
                      "account_number": registration.account_number if registration else ""},
            "currency": "NOK", "total_ore": settlement.total_ore, "total": kroner_text(settlement.total_ore),
            "lines": [{"date": line.day.isoformat(), "offer": line.offer_title, "reference": line.booking_ref,
                       "card_number": line.card_number, "amount_ore": line.amount_ore} for line in lines(settlement)]}


def as_ehf(settlement: Settlement) -> bytes:
    """The approved settlement as a self-billed EHF invoice (Peppol BIS Billing 3.0, UBL 2.1): see money.ehf."""
    return ehf.invoice(settlement, lines(settlement))
