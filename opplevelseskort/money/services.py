"""Activity money: schemes and their grants, the register of providers, reservations and their settlement, lapse.
Every movement of money goes through `ledger.post`; a reservation only holds money on the child's account."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from ..cards import services as cards
from ..cards.models import Card, Child
from ..core import audit
from ..core.clock import today, utcnow
from ..core.errors import Conflict, DomainError, NotFound, PermissionDenied
from ..core.models import Municipality
from ..core.validation import valid_org_number
from ..extensions import db
from ..partners.models import Offer, Partner
from ..partners.services import partner_id_of
from . import ledger
from .models import (
    Account,
    AccountKind,
    IdempotencyRecord,
    MoneyRegistration,
    MoneyReservationStatus,
    Reservation,
    Scheme,
    TransferKind,
)

RESERVATION_DAYS_AFTER = 14  # an unsettled reservation is voided this many days after the offer's end
ACCOUNT_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


# --- periods ------------------------------------------------------------------------------------------------------

def period_of(scheme: Scheme, on: date) -> tuple[str, date, date]:
    """The scheme's period that `on` falls in: its label ("2026", "2026-H2"), first and last day."""
    if not scheme.half_years:
        return str(on.year), date(on.year, 1, 1), date(on.year, 12, 31)
    if on.month <= 6:
        return f"{on.year}-H1", date(on.year, 1, 1), date(on.year, 6, 30)
    return f"{on.year}-H2", date(on.year, 7, 1), date(on.year, 12, 31)


# --- accounts ----------------------------------------------------------------------------------------------------

def _account(kind: AccountKind, municipality_id: int, **where) -> Account:
    """The one account of this kind for the scheme, partner or child and period (made the first time; a second
    maker racing this one finds it after the unique index refused it)."""
    q = sa.select(Account).where(Account.kind == kind, *[getattr(Account, k) == v for k, v in where.items()])
    found = db.session.scalar(q)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            found = Account(kind=kind, municipality_id=municipality_id, balance=0, reserved=0, created_at=utcnow(),
                            **where)
            db.session.add(found)
    except sa.exc.IntegrityError:
        found = db.session.scalar(q)
    return found


def budget(scheme: Scheme) -> Account:
    return _account(AccountKind.BUDGET, scheme.municipality_id, scheme_id=scheme.id)


def partner_account(partner: Partner, kind: AccountKind) -> Account:
    return _account(kind, partner.municipality_id, partner_id=partner.id)


# --- schemes and grants --------------------------------------------------------------------------------------------

@dataclass
class SchemeInput:
    name: str
    amount_ore: int
    half_years: bool = False
    age_min: int | None = None
    age_max: int | None = None
    topup_ore: int = 0
    topup_zone_ids: tuple[int, ...] = ()


def create_scheme(municipality: Municipality, data: SchemeInput, *, actor) -> Scheme:
    if not data.name.strip():
        raise DomainError("name_required", _("Skriv et navn på ordningen."))
    if data.amount_ore <= 0 or data.topup_ore < 0:
        raise DomainError("amount_invalid", _("Beløpet må være større enn null."))
    if data.age_min is not None and data.age_max is not None and data.age_min > data.age_max:
        raise DomainError("age_invalid", _("Laveste alder kan ikke være over høyeste alder."))
    scheme = Scheme(municipality_id=municipality.id, name=data.name.strip()[:120], amount_ore=data.amount_ore,
                    half_years=data.half_years, age_min=data.age_min, age_max=data.age_max, topup_ore=data.topup_ore,
                    topup_zone_ids=list(data.topup_zone_ids), active=True, created_at=utcnow())
    db.session.add(scheme)
    db.session.flush()
    audit.record(actor, "money.scheme_create", "money_scheme", scheme.id, municipality_id=municipality.id)
    return scheme


def _in_scope(scheme: Scheme, on: date):
    """The children with a card valid on `on` in the scheme's municipality and age range."""
    rows = db.session.execute(sa.select(Child, Card).join(Card, Card.child_id == Child.id).where(
        Child.municipality_id == scheme.municipality_id, Child.anonymised_at.is_(None), Card.revoked_at.is_(None),
        Card.valid_from <= on, Card.valid_until >= on).order_by(Child.id, Card.id)).all()
    seen = set()
    for child, _card in rows:
        age = cards.child_age(child, on)
        if child.id in seen or (scheme.age_min is not None and age < scheme.age_min) or \
                (scheme.age_max is not None and age > scheme.age_max):
            continue
        seen.add(child.id)
        yield child


def grant(scheme: Scheme, *, on: date | None = None, actor=None) -> int:
    """Grant the period's money to every child in scope that has none yet from this scheme (no application): one
    account per child, scheme and period (the database holds it), the top-up for children in the chosen zones in
    the same transfer. Returns how many children were granted. Run again, it grants only the newcomers."""
    on = on or today()
    label, _first, last = period_of(scheme, on)
    granted = 0
    source = budget(scheme)
    for child in _in_scope(scheme, on):
        exists = db.session.scalar(sa.select(Account.id).where(
            Account.kind == AccountKind.CHILD, Account.scheme_id == scheme.id, Account.child_id == child.id,
            Account.period == label))
        if exists:
            continue
        account = _account(AccountKind.CHILD, scheme.municipality_id, scheme_id=scheme.id, child_id=child.id,
                           period=label)
        account.period_end = last
        moves = [(source, account, scheme.amount_ore)]
        if scheme.topup_ore and child.zone_id in (scheme.topup_zone_ids or []):
            moves.append((source, account, scheme.topup_ore))
        ledger.post(TransferKind.GRANT, moves, municipality_id=scheme.municipality_id, actor=actor,
                    memo=f"{scheme.name} {label}")
        granted += 1
    return granted


def adjust(account: Account, amount_ore: int, reason: str, *, actor) -> None:
    """A top-up (positive) or a correction (negative) of a child's money, with its reason: a transfer of its own
    with the scheme's budget, never a change to an earlier one."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("Skriv hvorfor beløpet endres."))
    if account.kind != AccountKind.CHILD or amount_ore == 0:
        raise DomainError("amount_invalid", _("Beløpet må være større enn null."))
    scheme = db.session.get(Scheme, account.scheme_id)
    moves = [(budget(scheme), account, amount_ore)] if amount_ore > 0 else [(account, budget(scheme), -amount_ore)]
    ledger.post(TransferKind.TOPUP if amount_ore > 0 else TransferKind.CORRECTION, moves,
                municipality_id=account.municipality_id, memo=reason, actor=actor)
    audit.record(actor, "money.adjust", "money_account", account.id, municipality_id=account.municipality_id,
                 amount_ore=amount_ore, reason=reason[:200])


def lapse(*, on: date | None = None) -> int:
    """Money left on children's accounts whose period has ended lapses to the scheme, by an explicit transfer, and
    the account closes at zero. An account with a reservation still open waits until it resolves."""
    on = on or today()
    accounts = db.session.scalars(sa.select(Account).where(
        Account.kind == AccountKind.CHILD, Account.closed_at.is_(None), Account.period_end < on,
        Account.reserved == 0)).all()
    for account in accounts:
        if account.balance > 0:
            scheme = db.session.get(Scheme, account.scheme_id)
            lapsed = _account(AccountKind.LAPSED, account.municipality_id, scheme_id=scheme.id)
            ledger.post(TransferKind.LAPSE, [(account, lapsed, account.balance)],
                        municipality_id=account.municipality_id, memo=f"{scheme.name} {account.period}")
        account.closed_at = utcnow()
    db.session.flush()
    return len(accounts)


# --- the register of providers ---------------------------------------------------------------------------------------

def valid_account_number(value: str) -> bool:
    """A Norwegian bank account number: 11 digits, the last a modulus-11 check digit (weights 5,4,3,2,7,6,5,4,3,2)."""
    digits = re.sub(r"[\s.]", "", value or "")
    if not re.fullmatch(r"\d{11}", digits):
        return False
    rest = sum(int(d) * w for d, w in zip(digits[:10], ACCOUNT_WEIGHTS, strict=True)) % 11
    check = 0 if rest == 0 else 11 - rest
    return check != 10 and check == int(digits[10])


def register_partner(partner: Partner, *, org_number: str, account_number: str, contact_email: str,
                     repayment_accepted: bool, actor) -> MoneyRegistration:
    """Put a partner on the register of providers that may take money (approved at once by the admin who registers
    it); each field is checked, and the repayment duty must be accepted."""
    problems = []
    if not valid_org_number(org_number):
        problems.append(_("Organisasjonsnummeret er ikke gyldig (ni siffer med kontrollsiffer)."))
    if not valid_account_number(account_number):
        problems.append(_("Kontonummeret er ikke gyldig (elleve siffer med kontrollsiffer)."))
    if "@" not in (contact_email or ""):
        problems.append(_("Skriv en e-postadresse til kontaktpersonen."))
    if not repayment_accepted:
        problems.append(_("Partneren må godta plikten til å betale tilbake feil utbetalinger."))
    if problems:
        raise DomainError("registration_invalid", " ".join(problems), errors=problems)
    row = db.session.scalar(sa.select(MoneyRegistration).where(MoneyRegistration.partner_id == partner.id)) or \
        MoneyRegistration(partner_id=partner.id)
    now = utcnow()
    row.org_number, row.account_number = re.sub(r"\s", "", org_number), re.sub(r"[\s.]", "", account_number)
    row.contact_email, row.repayment_accepted_at, row.approved_at, row.suspended_at = contact_email.strip(), now, now, None
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "money.register", "partner", partner.id, municipality_id=partner.municipality_id)
    return row


def suspend_registration(partner: Partner, *, actor) -> None:
    row = db.session.scalar(sa.select(MoneyRegistration).where(MoneyRegistration.partner_id == partner.id))
    if row is None:
        raise NotFound("registration_unknown", _("Partneren er ikke registrert for aktivitetspenger."))
    row.suspended_at = utcnow()
    audit.record(actor, "money.suspend", "partner", partner.id, municipality_id=partner.municipality_id)


def takes_money(partner_id: int) -> bool:
    """Whether the partner is on the register, approved and not suspended."""
    return bool(db.session.scalar(sa.select(sa.exists().where(
        MoneyRegistration.partner_id == partner_id, MoneyRegistration.approved_at.is_not(None),
        MoneyRegistration.suspended_at.is_(None)))))


# --- reservations ------------------------------------------------------------------------------------------------------

def _child_accounts(child_id: int, on: date) -> list[Account]:
    """The child's open accounts whose period covers `on`, the one that lapses first first."""
    return list(db.session.scalars(sa.select(Account).where(
        Account.kind == AccountKind.CHILD, Account.child_id == child_id, Account.closed_at.is_(None),
        Account.period_end >= on).order_by(Account.period_end, Account.id)))


def available(child_id: int, on: date | None = None) -> int:
    """What the child can still spend (balance less reservations), in øre."""
    return sum(a.balance - a.reserved for a in _child_accounts(child_id, on or today()))


def available_at(child_id: int, partner_id: int) -> int | None:
    """What a partner on the register may see at the door: the child's money available, in øre (None where the
    partner takes no money or the child has none). Never the scheme, nor why the child has it."""
    if not takes_money(partner_id) or not _child_accounts(child_id, today()):
        return None
    return available(child_id)


def door_amount(child_id: int, offer: Offer) -> str | None:
    """"300" (kroner) for the door's answer at a priced offer of a registered partner, else None."""
    found = available_at(child_id, offer.partner_id) if offer.price_nok else None
    return None if found is None else kroner(found)


def pays_for(child_id: int, offer: Offer) -> bool:
    """Whether booking this offer takes the child's activity money: a priced offer of a registered partner, and a
    child who has money (a child without keeps the card's free entry)."""
    return bool(offer.price_nok) and takes_money(offer.partner_id) and bool(_child_accounts(child_id, today()))


def reserve(child_id: int, offer: Offer, amount_ore: int, *, booking_id: int | None = None) -> Reservation:
    """Hold the amount on the child's account for a priced offer of a registered partner. The account row is
    locked, so parallel reservations take turns and none can spend what another holds."""
    if amount_ore <= 0:
        raise DomainError("amount_invalid", _("Beløpet må være større enn null."))
    if not takes_money(offer.partner_id):
        raise PermissionDenied("partner_not_registered", _("Partneren tar ikke imot aktivitetspenger."))
    on = today()
    for candidate in _child_accounts(child_id, on):
        account = ledger.locked([candidate.id])[candidate.id]
        if account.closed_at is None and account.balance - account.reserved >= amount_ore:
            account.reserved += amount_ore
            reservation = Reservation(account_id=account.id, partner_id=offer.partner_id, offer_id=offer.id,
                                      booking_id=booking_id, amount=amount_ore, status=MoneyReservationStatus.ACTIVE,
                                      expires_on=max(offer.end_date, on) + timedelta(days=RESERVATION_DAYS_AFTER),
                                      created_at=utcnow())
            db.session.add(reservation)
            db.session.flush()
            return reservation
    raise ledger.NotEnoughMoney()


def _resolve(reservation_id: int, status: MoneyReservationStatus) -> tuple[Reservation, Account]:
    """Take the reservation out of "active" once (a conditional update: a second attempt finds nothing to change)
    and release its hold on the account."""
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None:
        raise NotFound("reservation_unknown", _("Fant ikke reservasjonen."))
    account = ledger.locked([reservation.account_id])[reservation.account_id]
    done = db.session.execute(sa.update(Reservation).where(
        Reservation.id == reservation_id, Reservation.status == MoneyReservationStatus.ACTIVE)
        .values(status=status, resolved_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict("reservation_resolved", _("Reservasjonen er allerede gjort opp eller annullert."))
    db.session.refresh(reservation)
    account.reserved -= reservation.amount
    return reservation, account


def settle(reservation_id: int, amount_ore: int | None = None, *, actor=None) -> Reservation:
    """The child came (or the partner delivered): the partner is owed the amount (the reservation's, or less) and
    the rest is released to the child."""
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None:
        raise NotFound("reservation_unknown", _("Fant ikke reservasjonen."))
    amount = reservation.amount if amount_ore is None else amount_ore
    if not 0 < amount <= reservation.amount:
        raise DomainError("amount_invalid", _("Beløpet må være mellom 1 øre og det som er reservert."))
    reservation, account = _resolve(reservation_id, MoneyReservationStatus.SETTLED)
    reservation.settled_amount = amount
    partner = db.session.get(Partner, reservation.partner_id)
    ledger.post(TransferKind.SETTLE, [(account, partner_account(partner, AccountKind.PAYABLE), amount)],
                municipality_id=account.municipality_id, reservation_id=reservation.id, actor=actor,
                memo=f"reservation {reservation.id}")
    return reservation


def void(reservation_id: int) -> Reservation:
    """Cancelled (or expired): the money is the child's to use again."""
    reservation, _account = _resolve(reservation_id, MoneyReservationStatus.VOIDED)
    return reservation


def reservation_is_partners(reservation_id: int, user) -> bool:
    """Whether the reservation is at the user's own organisation (a partner sees no other partner's)."""
    own = partner_id_of(user)
    return own is not None and bool(db.session.scalar(sa.select(sa.exists().where(
        Reservation.id == reservation_id, Reservation.partner_id == own))))


def settle_visit(child_id: int, offer_id: int, *, actor=None) -> Reservation | None:
    """A counted visit settles the child's oldest active reservation at the offer, if there is one."""
    found = db.session.scalar(sa.select(Reservation.id).join(Account, Account.id == Reservation.account_id).where(
        Account.child_id == child_id, Reservation.offer_id == offer_id,
        Reservation.status == MoneyReservationStatus.ACTIVE).order_by(Reservation.created_at, Reservation.id).limit(1))
    return settle(found, actor=actor) if found else None


def void_booking(booking_id: int) -> Reservation | None:
    found = db.session.scalar(sa.select(Reservation.id).where(Reservation.booking_id == booking_id,
                                                              Reservation.status == MoneyReservationStatus.ACTIVE))
    return void(found) if found else None


def expire_reservations(on: date | None = None) -> int:
    """Active reservations past their day are voided (the schedule's, every day)."""
    ids = db.session.scalars(sa.select(Reservation.id).where(Reservation.status == MoneyReservationStatus.ACTIVE,
                                                             Reservation.expires_on < (on or today()))).all()
    for reservation_id in ids:
        void(reservation_id)
    return len(ids)


# --- idempotent API calls --------------------------------------------------------------------------------------------------

def request_hash(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def replay(user_id: int, key: str, body) -> tuple[int, dict] | None:
    """The stored answer of an earlier call with this key (same body), None for a new key; 422 for another body."""
    row = db.session.scalar(sa.select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                               IdempotencyRecord.key == key))
    if row is None:
        return None
    if row.request_hash != request_hash(body):
        raise DomainError("idempotency_key_reused", _("Idempotency-Key er brukt før med en annen forespørsel."))
    return row.status, row.response


def remember(user_id: int, key: str, body, status: int, response: dict) -> None:
    db.session.add(IdempotencyRecord(user_id=user_id, key=key, request_hash=request_hash(body), status=status,
                                     response=response, created_at=utcnow()))
    db.session.flush()


# --- what families and partners see ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChildMoney:
    scheme: str
    available: int
    reserved: int
    used: int
    lapses_after: date


def child_money(child_id: int) -> list[ChildMoney]:
    """Per scheme the child has money in now: available, reserved, used, and the last day before it lapses."""
    out = []
    settle_legs = sa.select(sa.func.coalesce(sa.func.sum(Reservation.settled_amount), 0)).where(
        Reservation.account_id == Account.id, Reservation.status == MoneyReservationStatus.SETTLED).scalar_subquery()
    for account, name, used in db.session.execute(
            sa.select(Account, Scheme.name, settle_legs).join(Scheme, Scheme.id == Account.scheme_id)
            .where(Account.kind == AccountKind.CHILD, Account.child_id == child_id, Account.closed_at.is_(None),
                   Account.period_end >= today()).order_by(Account.period_end)):
        out.append(ChildMoney(name, account.balance - account.reserved, account.reserved, int(used),
                              account.period_end))
    return out


def kroner(ore: int) -> str:
    """"300" or "299,50": øre as kroner, for the words on a page."""
    whole, rest = divmod(abs(ore), 100)
    text = f"{whole:,}".replace(",", "\u00a0") + (f",{rest:02d}" if rest else "")
    return ("-" if ore < 0 else "") + text
