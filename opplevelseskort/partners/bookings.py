"""Bookings of dated occasions: places taken atomically, a waiting list that moves up, cancellations and
releases, each change of an occasion's places serialised on its row (flushed; the request's boundary commits)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from ..accounts.models import User
from ..cards import services as cards
from ..cards.models import Card, Child, Household
from ..core import audit, outbox
from ..core.clock import local_date, utcnow
from ..core.errors import Conflict, DomainError, NotFound
from ..core.i18n import force_locale
from ..core.models import OutboxChannel, Role
from ..core.permissions import can_access_municipality
from ..extensions import db
from .models import (
    Booking,
    BookingStatus,
    Occasion,
    Offer,
    OfferStatus,
    PartnerStatus,
)
from .services import OfferDay, can_act_for_partner, check_age, get_offer_for_edit, occasion_at, require_active_partner


def booking_for(child_id: int, offer: Offer, at: datetime, known: OfferDay | None = None) -> Booking | None:
    occ = occasion_at(offer, at, known)
    if occ is None:
        return None
    return db.session.scalar(db.select(Booking).where(Booking.occasion_id == occ.id, Booking.child_id == child_id,
                                                      Booking.status == BookingStatus.BOOKED))


def _take_place(occasion_id: int) -> bool:
    """Atomically take one place: a conditional UPDATE, so concurrent bookings can never exceed capacity."""
    result = db.session.execute(
        sa.update(Occasion).where(Occasion.id == occasion_id, Occasion.capacity.is_not(None),
                                  Occasion.booked < Occasion.capacity)
        .values(booked=Occasion.booked + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _lock_occasion(occasion_id: int) -> None:
    """Serialise every change to one occasion's places (book, cancel, release, move-up) on its row.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite: a no-op write, which takes the database's write lock now
    rather than at the first real write (so two cancels cannot both read the booking as still booked).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.select(Occasion.id).where(Occasion.id == occasion_id).with_for_update())
    else:
        db.session.execute(sa.update(Occasion).where(Occasion.id == occasion_id).values(booked=Occasion.booked)
                           .execution_options(synchronize_session=False))


def _set_booking_status(booking: Booking, old: list[BookingStatus], new: BookingStatus) -> bool:
    """A conditional state change: only one of several concurrent callers moves the booking on."""
    values = {"status": new}
    if new == BookingStatus.BOOKED:
        values["placed_at"] = utcnow()
    result = db.session.execute(sa.update(Booking).where(Booking.id == booking.id, Booking.status.in_(old))
                                .values(**values).execution_options(synchronize_session=False))
    db.session.expire(booking, ["status", "placed_at"])
    return result.rowcount == 1


def _give_back_place(occasion_id: int) -> None:
    db.session.execute(sa.update(Occasion).where(Occasion.id == occasion_id, Occasion.booked > 0)
                       .values(booked=Occasion.booked - 1).execution_options(synchronize_session=False))


def book_on_behalf(occasion: Occasion, card_code: str, *, actor: User) -> Booking:
    """A caseworker books for a child of their own municipality, identified by the child's card code."""
    card = cards.lookup_card(card_code)
    if not can_access_municipality(actor, card.municipality_id):
        raise DomainError("card_unknown", _("Ukjent kort."))
    return book(occasion, card, actor=actor)


def book(occasion: Occasion, card: Card, *, actor: User | None) -> Booking:
    """Book a place for the card's child, or put the child on the waiting list when the occasion is full."""
    today = local_date(utcnow())
    cards.assert_card_valid(card, today)
    offer = occasion.offer
    if offer.status != OfferStatus.PUBLISHED or offer.partner.status != PartnerStatus.APPROVED:
        raise DomainError("offer_inactive", _("Tilbudet er ikke åpent for påmelding."))
    if occasion.starts_at <= utcnow():
        raise DomainError("occasion_started", _("Aktiviteten har allerede startet."))
    check_age(offer, cards.child_age(card.child, local_date(occasion.starts_at)))
    _lock_occasion(occasion.id)
    live = db.session.scalar(db.select(Booking).where(
        Booking.occasion_id == occasion.id, Booking.child_id == card.child_id,
        Booking.status.in_([BookingStatus.BOOKED, BookingStatus.WAITLISTED])))
    if live is not None:
        raise Conflict("already_booked", _("Barnet er allerede påmeldt."))
    status = BookingStatus.BOOKED
    if occasion.capacity is not None and not _take_place(occasion.id):
        status = BookingStatus.WAITLISTED
    booking = Booking(occasion_id=occasion.id, child_id=card.child_id, card_id=card.id, status=status,
                      booked_by_id=actor.id if actor else None,
                      placed_at=utcnow() if status == BookingStatus.BOOKED else None)
    try:
        with db.session.begin_nested():
            db.session.add(booking)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("already_booked", _("Barnet er allerede påmeldt.")) from None
    db.session.expire(occasion, ["booked"])
    audit.record(actor, "booking.create", "booking", booking.id, municipality_id=offer.municipality_id,
                 status=str(status))
    return booking


def waitlist_position(booking: Booking) -> int | None:
    if booking.status != BookingStatus.WAITLISTED:
        return None
    return db.session.scalar(db.select(sa.func.count(Booking.id)).where(
        Booking.occasion_id == booking.occasion_id, Booking.status == BookingStatus.WAITLISTED,
        sa.or_(Booking.created_at < booking.created_at,
               sa.and_(Booking.created_at == booking.created_at, Booking.id <= booking.id))))


def _notify_guardians(child_id: int, kind: str, subject_fn, body_fn) -> None:
    child = db.session.get(Child, child_id)
    household = db.session.get(Household, child.household_id) if child and child.household_id else None
    for guardian in household.guardians if household else []:
        lang = guardian.preferred_language
        with force_locale(lang):
            subject, body = subject_fn(child), body_fn(child)
        if guardian.email:
            outbox.enqueue(OutboxChannel.EMAIL, guardian.email, subject, body, kind=kind, locale=lang)
        if guardian.phone:
            outbox.enqueue(OutboxChannel.SMS, guardian.phone, subject, body, kind=kind, locale=lang)


def _promote_waiting(occasion: Occasion) -> Booking | None:
    """Move the first child on the waiting list up when a place is free, and tell the family.

    The caller holds the occasion's lock (`_lock_occasion`)."""
    nxt = db.session.scalar(db.select(Booking).where(
        Booking.occasion_id == occasion.id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.created_at, Booking.id).limit(1))
    if nxt is None or not _take_place(occasion.id):
        return None
    if not _set_booking_status(nxt, [BookingStatus.WAITLISTED], BookingStatus.BOOKED):
        _give_back_place(occasion.id)
        return None
    title = occasion.offer.title
    when = local_date(occasion.starts_at).strftime("%d.%m.%Y")
    _notify_guardians(nxt.child_id, "booking_promoted",
                      lambda c: _("%(name)s har fått plass", name=c.given_name),
                      lambda c: _("Det ble en ledig plass: %(name)s har fått plass på %(offer)s %(date)s.",
                                  name=c.given_name, offer=title, date=when))
    return nxt


def cancel_booking(booking: Booking, *, actor: User | None) -> Booking | None:
    """Cancel a booking once, atomically; a freed place goes to the first on the waiting list (returned)."""
    _lock_occasion(booking.occasion_id)
    db.session.refresh(booking)  # the status as committed by whoever held the lock before us
    if booking.status not in (BookingStatus.BOOKED, BookingStatus.WAITLISTED):
        raise DomainError("booking_not_active", _("Påmeldingen er allerede avsluttet."))
    had_place = booking.status == BookingStatus.BOOKED
    if not _set_booking_status(booking, [booking.status], BookingStatus.CANCELLED):
        raise DomainError("booking_not_active", _("Påmeldingen er allerede avsluttet."))
    occasion = db.session.get(Occasion, booking.occasion_id)
    promoted = None
    if had_place and occasion.capacity is not None:
        _give_back_place(occasion.id)
        promoted = _promote_waiting(occasion)
    db.session.expire(occasion, ["booked"])
    audit.record(actor, "booking.cancel", "booking", booking.id, municipality_id=occasion.offer.municipality_id)
    return promoted


def occasion_for_edit(actor: User, offer_id: int, occasion_id: int) -> Occasion:
    """An occasion of an offer the actor may edit (their partner's); anything else is not found."""
    offer = get_offer_for_edit(actor, offer_id)
    occ = db.session.get(Occasion, occasion_id)
    if occ is None or occ.offer_id != offer.id:
        raise NotFound("occasion_not_found", _("Fant ikke datoen."))
    return occ


def release_bookings(occasion: Occasion, bookings: list[Booking], *, actor: User | None) -> int:
    """The partner (or, with no actor, the schedule) gives booked places nobody used to the waiting list (the
    bookings become no-shows); returns how many were released. Who did not come is the check-in part's to say
    (checkin.services.no_shows)."""
    if actor is not None and not can_act_for_partner(actor, occasion.offer.partner_id, occasion.offer.municipality_id):
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    if actor is not None and actor.role == Role.PARTNER:
        require_active_partner(actor)
    _lock_occasion(occasion.id)
    released = 0
    for b in bookings:
        if b.occasion_id != occasion.id or not _set_booking_status(b, [BookingStatus.BOOKED], BookingStatus.NO_SHOW):
            continue
        if occasion.capacity is not None:
            _give_back_place(occasion.id)
            _promote_waiting(occasion)
        released += 1
    db.session.expire(occasion, ["booked"])
    audit.record(actor, "occasion.release_no_shows", "occasion", occasion.id,
                 municipality_id=occasion.offer.municipality_id, released=released)
    return released


def bookings_for_card(card: Card) -> list[Booking]:
    return list(db.session.scalars(db.select(Booking).where(
        Booking.child_id == card.child_id, Booking.status.in_([BookingStatus.BOOKED, BookingStatus.WAITLISTED]))
        .order_by(Booking.created_at)))


def bookings_of(occasion: Occasion) -> list[Booking]:
    """Who booked an occasion (booked first, then the waiting list in order)."""
    return list(db.session.scalars(db.select(Booking).where(Booking.occasion_id == occasion.id)
                                   .order_by(Booking.status, Booking.created_at)))

