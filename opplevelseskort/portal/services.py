"""What the family's card page shows, gathered from the parts below: the card, offers it can be used for now,
upcoming bookings and waiting-list places, past visits, equipment on loan and returned. Data only: the view
builds the links."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from utstyr import overview as equipment
from utstyr.overview import FamilyLoanLine

from ..cards import services as cards
from ..cards import wallet
from ..cards.models import Card, CardStatus
from ..checkin import services as checkin
from ..core.clock import today, utcnow
from ..core.errors import NotFound
from ..core.labels import label
from ..core.models import Municipality
from ..extensions import db
from ..money import services as money
from ..partners import bookings
from ..partners import services as partners
from ..partners.models import Booking, BookingStatus, Occasion, Offer
from ..wishes import calls as wish_calls
from ..wishes import services as wishes
from ..wishes.models import WishRound


@dataclass(frozen=True)
class BookingLine:
    booking_id: int
    offer_title: str
    starts_at: datetime
    status: str
    position: int | None

    @property
    def state(self) -> str:
        """What the family reads: a place, or their number on the waiting list."""
        if self.position is not None:
            return _("venteliste, nummer %(n)d", n=self.position)
        return label("booking_status", self.status)


@dataclass(frozen=True)
class VisitLine:
    at: datetime
    offer_title: str
    partner: str


@dataclass(frozen=True)
class MoneyLine:
    available: str
    reserved: str
    used: str
    lapses_after: date


@dataclass(frozen=True)
class CardPage:
    card: Card
    status: CardStatus
    offers: list[tuple[Offer, str]]  # (offer, title in the reader's language)
    bookings: list[BookingLine]
    contact_line: str = ""  # the municipality's line for families (its settings page)
    replaced: bool = False  # revoked because a new card replaced it (the old link says a new one was sent)
    visits: list[VisitLine] = ()  # past visits, newest first
    on_loan: list[FamilyLoanLine] = ()  # equipment the child has now, soonest due first
    returned: list[FamilyLoanLine] = ()  # equipment brought back, newest first
    wallets: dict = field(default_factory=dict)  # {"apple": bool, "google": bool}: the wallets the municipality offers
    money: list[MoneyLine] = field(default_factory=list)  # activity money per scheme, in kroner (no scheme name)
    wishes: list[tuple[WishRound, bool]] = field(default_factory=list)  # open rounds for the card, answered or not
    wished: list[tuple[Offer, str]] = field(default_factory=list)  # offers children's wishes led to, in the zone


def family_card(token: str) -> Card:
    """The card behind a family's secret link; an unknown link, or a child whose data is erased, is not found."""
    card = cards.card_by_family_token(token)
    if card.child.anonymised_at is not None:
        raise NotFound("card_unknown", _("Ukjent kort."))
    return card


def card_page(card: Card, locale: str) -> CardPage:
    """The family's page: offers the child can use now (published, running today, for the child's age) and the
    child's bookings and waiting-list places with the position."""
    on = today()
    status = cards.card_status(card, on)
    offers: list[tuple[Offer, str]] = []
    if status == CardStatus.ACTIVE:
        age = cards.child_age(card.child, on)
        offers = [(o, o.text(locale)[0])
                  for o in partners.catalogue(partners.CatalogueFilter(age=age, on=on), limit=50)]
    lines = []
    for b in bookings.bookings_for_card(card):
        occ = db.session.get(Occasion, b.occasion_id)
        if occ.ends_at >= utcnow():  # upcoming (or going on now); what is past shows as a visit
            lines.append(BookingLine(b.id, occ.offer.text(locale)[0], occ.starts_at, str(b.status),
                                     bookings.waitlist_position(b)))
    municipality = db.session.get(Municipality, card.municipality_id)
    replaced = status == CardStatus.REVOKED and db.session.scalar(
        db.select(db.exists().where(Card.replaces_id == card.id)))
    if replaced:  # the new card's page is the family's record now
        return CardPage(card, status, [], [], municipality.contact_line_in(locale) if municipality else "", True)
    visits = [VisitLine(at, offer.text(locale)[0], partner) for at, offer, partner in checkin.visits_of_child(
        card.child_id)]
    on_loan, returned = equipment.loans_of_child(card.child_id, locale)
    return CardPage(card, status, offers, lines, municipality.contact_line_in(locale) if municipality else "", False,
                    visits, on_loan, returned, wallet.enabled(card.municipality_id) if status == CardStatus.ACTIVE else {},
                    [MoneyLine(money.kroner(m.available), money.kroner(m.reserved), money.kroner(m.used), m.lapses_after)
                     for m in money.child_money(card.child_id)],
                    [(r, wishes.has_answered(r, card)) for r in wishes.rounds_for_card(card)]
                    if status == CardStatus.ACTIVE else [],
                    [(o, o.text(locale)[0]) for o in wish_calls.born_offers(card.municipality_id,
                                                                            zone_id=card.child.zone_id)])


def wish_round_for_card(card: Card, round_id: int) -> WishRound:
    """An open round this card's child may answer, or not found."""
    found = next((r for r in wishes.rounds_for_card(card) if r.id == round_id), None)
    if found is None:
        raise NotFound("round_unknown", _("Denne ønskerunden er ikke åpen for dette kortet."))
    return found


def usable_card(token: str) -> Card:
    """The card behind a family's link, for its QR and PDF: a revoked card has neither (its page says why not)."""
    card = family_card(token)
    if card.revoked_at is not None:
        raise NotFound("card_unknown", _("Ukjent kort."))
    return card


def book(occasion: Occasion, card: Card) -> Booking:
    """A family books a place; for a priced offer of a partner on the money register, a child with activity money
    has the price reserved with the place (refused, place and all, when too little is left)."""
    booking = bookings.book(occasion, card, actor=None)
    offer = occasion.offer
    if booking.status == BookingStatus.BOOKED and money.pays_for(card.child_id, offer):
        money.reserve(card.child_id, offer, offer.price_nok * 100, booking_id=booking.id)
    return booking


def book_on_behalf(occasion: Occasion, card_code: str, *, actor) -> Booking:
    """A caseworker books for a child of their municipality by card code; money is held as when the family books
    (refused, place and all, when too little is left)."""
    booking = bookings.book_on_behalf(occasion, card_code, actor=actor)
    offer = occasion.offer
    if booking.status == BookingStatus.BOOKED and money.pays_for(booking.child_id, offer):
        money.reserve(booking.child_id, offer, offer.price_nok * 100, booking_id=booking.id)
    return booking


def occasion_of_offer(offer_id: int, occasion_id: int) -> Occasion:
    """The offer's occasion, or not found (another offer's occasion too)."""
    occ = db.session.get(Occasion, occasion_id)
    if occ is None or occ.offer_id != offer_id:
        raise NotFound("occasion_unknown", _("Fant ikke aktiviteten."))
    return occ


def cancel(booking: Booking) -> None:
    """A family cancels: the place goes to the waiting list and money held for it is the child's again."""
    bookings.cancel_booking(booking, actor=None)
    money.void_booking(booking.id)


def occasion_for_family(occasion_id: int) -> Occasion:
    occ = db.session.get(Occasion, occasion_id)
    if occ is None:
        raise NotFound("occasion_unknown", _("Ukjent kort."))
    return occ


def booking_of_family(card: Card, booking_id: int) -> Booking:
    """One of this child's own bookings; another child's is not found."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.child_id != card.child_id:
        raise NotFound("booking_unknown", _("Ukjent kort."))
    return booking

