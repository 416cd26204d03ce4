"""Reservations: how many units of a type are free on which days, a reservation held until its pick-up day
(and a grace day), cancelled, picked up at checkout or expired by the schedule."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from opplevelseskort.accounts.models import User
from opplevelseskort.core import audit
from opplevelseskort.core.clock import (
    today,  # noqa: F401  (services.today: the one Norwegian "today")
)
from opplevelseskort.core.errors import Conflict, DomainError
from opplevelseskort.extensions import db

from .models import (
    Borrower,
    ItemType,
    Loan,
    LoanLine,
    Location,
    Reservation,
    ReservationStatus,
    Unit,
    UnitStatus,
)
from .services import require_location

RESERVATION_GRACE_DAYS = 1


def active_reservations(location: Location) -> list[Reservation]:
    return list(db.session.scalars(db.select(Reservation).where(Reservation.location_id == location.id,
                                                                Reservation.status == ReservationStatus.ACTIVE)
                                   .order_by(Reservation.date_from)))


def cancel_reservation(reservation, *, actor: User) -> None:
    """Cancel an active reservation at one of the actor's locations (audited)."""
    require_location(actor, reservation.location_id)
    if reservation.status != ReservationStatus.ACTIVE:
        raise Conflict("reservation_not_active", _("Reservasjonen er ikke aktiv lenger."))
    reservation.status = ReservationStatus.CANCELLED
    audit.record(actor, "reservation.cancel", "reservation", reservation.id,
                 municipality_id=reservation.borrower.municipality_id, borrower_id=reservation.borrower_id)


def usable_units(location_id: int, item_type_id: int, on: date) -> int:
    return db.session.scalar(db.select(sa.func.count(Unit.id)).where(
        Unit.location_id == location_id, Unit.item_type_id == item_type_id,
        Unit.status.not_in([UnitStatus.RETIRED, UnitStatus.LOST]),
        sa.or_(Unit.safety_expires_on.is_(None), Unit.safety_expires_on >= on))) or 0


def available(location_id: int, item_type_id: int, date_from: date, date_to: date) -> int:
    """Units free over the whole period: stock minus overlapping reservations and loans still out."""
    stock = usable_units(location_id, item_type_id, date_from)
    reserved = db.session.scalar(db.select(sa.func.coalesce(sa.func.sum(Reservation.quantity), 0)).where(
        Reservation.location_id == location_id, Reservation.item_type_id == item_type_id,
        Reservation.status == ReservationStatus.ACTIVE, Reservation.date_from <= date_to,
        Reservation.date_to >= date_from)) or 0
    out = db.session.scalar(db.select(sa.func.count(LoanLine.id)).join(Loan, Loan.id == LoanLine.loan_id)
                            .join(Unit, Unit.id == LoanLine.unit_id).where(
        Unit.location_id == location_id, Unit.item_type_id == item_type_id, LoanLine.returned_at.is_(None),
        Loan.due_on >= date_from)) or 0
    unavailable_now = db.session.scalar(db.select(sa.func.count(Unit.id)).where(
        Unit.location_id == location_id, Unit.item_type_id == item_type_id,
        Unit.status.in_([UnitStatus.MAINTENANCE, UnitStatus.UNCHECKED]))) if date_from <= today() else 0
    return max(0, stock - reserved - out - (unavailable_now or 0))


def reserve(location: Location, borrower: Borrower, item_type: ItemType, quantity: int, date_from: date,
            date_to: date, *, actor: User | None) -> Reservation:
    """Reserve a number of an item type for a period; never more than exist, also when two race."""
    if borrower.blocked_at is not None:
        raise DomainError("borrower_blocked", _("Låneren er sperret: %(reason)s", reason=borrower.blocked_reason or ""))
    if quantity < 1:
        raise DomainError("quantity_invalid", _("Antall må være minst 1."))
    if date_to < date_from or date_from < today():
        raise DomainError("period_invalid", _("Perioden må starte i dag eller senere og slutte etter start."))
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise reservations of one item type so two cannot both take the last units.
        db.session.execute(db.select(ItemType.id).where(ItemType.id == item_type.id).with_for_update())
    free = available(location.id, item_type.id, date_from, date_to)
    if quantity > free:
        raise Conflict("reservation_exceeds_stock", _("Bare %(n)d ledige i perioden.", n=free), available=free)
    r = Reservation(borrower_id=borrower.id, location_id=location.id, item_type_id=item_type.id, quantity=quantity,
                    date_from=date_from, date_to=date_to, created_by_id=actor.id if actor else None)
    db.session.add(r)
    db.session.flush()
    audit.record(actor, "reservation.create", "reservation", r.id, municipality_id=location.municipality_id)
    return r


def expire_reservations(on: date | None = None) -> int:
    """Reservations not picked up within the grace period after their start expire."""
    on = on or today()
    rows = db.session.scalars(db.select(Reservation).where(
        Reservation.status == ReservationStatus.ACTIVE,
        Reservation.date_from < on - timedelta(days=RESERVATION_GRACE_DAYS))).all()
    for r in rows:
        r.status = ReservationStatus.EXPIRED
    return len(rows)


def calendar(location_id: int, item_type_id: int, start: date, days: int = 14) -> list[tuple[date, int, int]]:
    """(day, usable, free) per day for an item type."""
    return [(start + timedelta(days=i), usable_units(location_id, item_type_id, start + timedelta(days=i)),
             available(location_id, item_type_id, start + timedelta(days=i), start + timedelta(days=i)))
            for i in range(days)]

