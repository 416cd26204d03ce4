"""The check-in rules, in one place for the scanner page, the card link and the API."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import make_transient_to_detached

from ..accounts.models import User
from ..cards import services as cards
from ..cards.models import Card, CardStatus, Child
from ..core import audit
from ..core.clock import OSLO, local_date, today, utcnow
from ..core.errors import DomainError, NotFound, PermissionDenied
from ..core.models import Role
from ..extensions import db
from ..money import services as money
from ..money.models import MoneyRegistration
from ..partners import bookings
from ..partners import services as partners
from ..partners.models import Booking, BookingStatus, Occasion, Offer, Partner, PartnerMember, PartnerStatus
from ..partners.services import can_act_for_partner
from .models import CheckIn, CheckinSource

log = logging.getLogger(__name__)

# Stable error codes of the check-in API (also shown, translated, on the scanner page).
ERROR_CODES = ("card_unknown", "card_revoked", "card_expired", "card_not_yet_valid", "offer_inactive",
               "age_outside_range", "quota_exceeded", "not_booked", "companions_exceeded")


@dataclass(slots=True, frozen=True)
class Visit:
    """A visit just written, as the plain values of its row (the door's hot path builds no ORM object)."""

    id: int
    card_id: int
    child_id: int
    offer_id: int
    partner_id: int
    occasion_id: int | None
    municipality_id: int
    recorded_by_id: int
    at: datetime
    companions: int
    source: CheckinSource
    zone_id: int | None
    age: int | None
    birth_year: int | None
    gender: str | None
    value_nok: int
    voided_at: datetime | None = None
    voided_by_id: int | None = None
    void_reason: str | None = None


class CheckinResult:
    """What a scan did: the visit (new, or the earlier one for a repeat inside the window), card, child and the
    companions allowed. `visit` is a new visit's `Visit` or a repeat's `CheckIn` row (both answer a visit's
    columns); `checkin`, the ORM row, is made only when asked for (the API's answer needs none: building and
    tracking it costs the door CPU)."""

    __slots__ = ("visit", "created", "card", "child", "companions_allowed", "_checkin")

    def __init__(self, visit: Visit | CheckIn, created: bool, card: Card, child: Child, companions_allowed: int):
        self.visit, self.created, self.card, self.child = visit, created, card, child
        self.companions_allowed = companions_allowed
        self._checkin = visit if isinstance(visit, CheckIn) else None

    @property
    def checkin(self) -> CheckIn:
        if self._checkin is None:
            checkin = CheckIn(**{f: getattr(self.visit, f) for f in Visit.__dataclass_fields__})
            make_transient_to_detached(checkin)  # the row is written: the session takes it as loaded, no SELECT
            self._checkin = db.session.merge(checkin, load=False)  # the session's own copy if it read the row since
        return self._checkin


DOOR_OFFER_COLUMNS = ("id", "partner_id", "municipality_id", "title", "status", "start_date", "end_date", "age_min",
                      "age_max", "companions_allowed", "price_nok", "use_limit", "use_limit_period",
                      "requires_booking")


@dataclass(slots=True, frozen=True)
class DoorPartner:
    id: int
    municipality_id: int
    status: str
    name: str


@dataclass(slots=True, frozen=True)
class DoorOccasion:
    id: int
    starts_at: datetime


@dataclass(slots=True)
class DoorOffer:
    """What the door's rules read of an offer, as plain values from one Core statement (no ORM object to build,
    track and expire: the door's hot path). It answers the attributes the rules and the scanner's pages read, with
    the names an `Offer` has, so the rules take either; `day` is the offer's day read with it, and `checked_for`
    the user whose right to record visits on it was checked when it was read (`get_offer_for`)."""

    id: int
    partner_id: int
    municipality_id: int
    title: str
    status: str
    start_date: date
    end_date: date
    age_min: int | None
    age_max: int | None
    companions_allowed: int
    price_nok: int
    use_limit: int | None
    use_limit_period: str
    requires_booking: bool
    partner: DoorPartner
    day: partners.OfferDay | None = None
    checked_for: int | None = None
    takes_money: bool = True  # the partner is on the money register (read with the offer: a visit may settle money)

    @property
    def occasions(self) -> list[DoorOccasion]:
        """Every occasion (only asked when the rules look at another day than the one read with the offer)."""
        t = Occasion.__table__
        return [DoorOccasion(*r) for r in db.session.connection().execute(
            sa.select(t.c.id, t.c.starts_at).where(t.c.offer_id == self.id).order_by(t.c.starts_at))]


@functools.cache
def _door_offer_query():
    """The offer, its partner, the partner user's own organisation, whether the offer is dated, and the day's
    occasions: one Core statement on the tables, built once (building a statement costs more CPU than running a
    cached one, and rows cost less than ORM objects)."""
    o, p, m, oc = Offer.__table__, Partner.__table__, PartnerMember.__table__, Occasion.__table__
    x = oc.alias("any_occasion")
    dated = sa.exists().where(x.c.offer_id == o.c.id).label("dated")
    day = sa.and_(oc.c.offer_id == o.c.id, oc.c.starts_at >= sa.bindparam("lo", type_=oc.c.starts_at.type),
                  oc.c.starts_at < sa.bindparam("hi", type_=oc.c.starts_at.type))
    r = MoneyRegistration.__table__
    takes_money = sa.exists().where(r.c.partner_id == o.c.partner_id, r.c.approved_at.is_not(None),
                                    r.c.suspended_at.is_(None)).label("takes_money")
    return (sa.select(*[o.c[c] for c in DOOR_OFFER_COLUMNS], p.c.municipality_id, p.c.status, p.c.name,
                      m.c.partner_id, dated, oc.c.id, oc.c.starts_at, takes_money)
            .select_from(o.join(p, p.c.id == o.c.partner_id)
                         .outerjoin(m, m.c.user_id == sa.bindparam("user_id"))
                         .outerjoin(oc, day))
            .where(o.c.id == sa.bindparam("offer_id")))


def partner_suspended(user: User) -> bool:
    """Whether a partner user's organisation is suspended (its staff may not take cards at the door)."""
    partner_id = partners.partner_id_of(user)
    partner = db.session.get(Partner, partner_id) if partner_id else None
    return partner is not None and partner.status == PartnerStatus.SUSPENDED


def get_offer_for(user: User, offer_id: int) -> DoorOffer:
    """The offer a user may record check-ins for: partners only their own organisation's."""

    # One round-trip for what the door needs: the offer, its partner, the partner user's own organisation, whether
    # the offer is dated, and today's occasions (not every occasion of the offer).
    lo, hi = partners.day_bounds(today())
    rows = db.session.connection().execute(
        _door_offer_query(), {"offer_id": offer_id, "user_id": user.id, "lo": lo, "hi": hi}).all() if offer_id else []
    if not rows:
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    n = len(DOOR_OFFER_COLUMNS)
    first = rows[0]
    values = first[:n]
    day = partners.OfferDay(today(), bool(first[n + 4]), tuple(
        DoorOccasion(r[n + 5], r[n + 6]) for r in rows if r[n + 5] is not None))
    offer = DoorOffer(*values, partner=DoorPartner(values[1], first[n], first[n + 1], first[n + 2]), day=day,
                      takes_money=bool(first[n + 7]))
    own_partner = first[n + 3]  # the partner user's organisation, read in the same statement
    allowed = (own_partner is not None and own_partner == offer.partner_id) if user.role == Role.PARTNER else \
        can_act_for_partner(user, offer.partner_id, offer.municipality_id)
    if not allowed:
        raise PermissionDenied("offer_forbidden", _("Du kan ikke registrere besøk på dette tilbudet."))
    offer.checked_for = user.id
    return offer


def _known_day(offer: DoorOffer | Offer):
    """The day the offer was read with (a DoorOffer), else None: the rules then read its occasions."""
    return offer.day if isinstance(offer, DoorOffer) else None


def _partner_municipality(partner_id: int) -> int | None:
    return db.session.scalar(db.select(Partner.municipality_id).where(Partner.id == partner_id))


def _companions_allowed_text(allowed: int) -> str:
    return ngettext("Kortet gir plass til %(num)d ledsager.", "Kortet gir plass til %(num)d ledsagere.", allowed)


def companions_allowed(card: Card, offer: Offer) -> int:
    return max(0, min(card.companions or 0, offer.companions_allowed or 0))


def _period_start(offer: Offer, at: datetime) -> datetime | None:
    period = str(getattr(offer, "use_limit_period", "") or "period")
    day = local_date(at)
    if period == "week":
        start = day - timedelta(days=day.weekday())
    elif period == "month":
        start = day.replace(day=1)
    else:
        return None  # the whole offer period: every use counts
    return datetime(start.year, start.month, start.day, tzinfo=OSLO).astimezone(UTC)


def uses_in_period(child_id: int, offer: Offer, at: datetime) -> int:
    """Counted (not voided) check-ins of a child at an offer in the offer's limit period around `at`."""
    q = db.select(db.func.count(CheckIn.id)).where(
        CheckIn.child_id == child_id, CheckIn.offer_id == offer.id, CheckIn.voided_at.is_(None))
    start = _period_start(offer, at)
    if start is not None:
        q = q.where(CheckIn.at >= start)
    return db.session.scalar(q) or 0


def repeat_window_minutes() -> int:
    """A second scan of a card at an offer within this many minutes is the first visit, not a new one."""
    return int(current_app.config["CHECKIN_REPEAT_WINDOW_MINUTES"])


def _repeat_of(card: Card, offer: Offer, at: datetime) -> CheckIn | None:
    window = timedelta(minutes=repeat_window_minutes())
    return db.session.scalar(
        db.select(CheckIn).where(CheckIn.card_id == card.id, CheckIn.offer_id == offer.id,
                                 CheckIn.voided_at.is_(None), CheckIn.at > at - window, CheckIn.at <= at)
        .order_by(CheckIn.at.desc()).limit(1))



def evaluate(card: Card, offer: DoorOffer | Offer, at: datetime) -> Child:
    """Raise the first rule the card breaks at this offer now (validity, offer, age, quota, booking)."""
    today = local_date(at)
    cards.assert_card_valid(card, today)
    child = card.child
    known = _known_day(offer)
    if not partners.offer_active_at(offer, at, known):
        raise DomainError("offer_inactive", _("Tilbudet er ikke åpent i dag."))
    partners.check_age(offer, cards.child_age(child, today))
    if offer.use_limit:
        if uses_in_period(child.id, offer, at) >= offer.use_limit:
            raise DomainError("quota_exceeded", _("Kortet er allerede brukt %(n)d ganger på dette tilbudet i perioden.",
                                                  n=offer.use_limit))
    if offer.requires_booking and bookings.booking_for(child.id, offer, at, known) is None:
        raise DomainError("not_booked", _("Barnet har ikke plass på denne aktiviteten."))
    return child


def record_checkin(code: str, offer: DoorOffer | Offer, *, actor: User, companions: int = 0,
                   source: CheckinSource | str = CheckinSource.TYPED, at: datetime | None = None) -> CheckinResult:
    """Count a visit once: a repeat of the same card at the same offer inside the window returns the first.

    The door's hot path is three statements after the offer's: the card and child (locked), and one INSERT ...
    SELECT ... WHERE NOT EXISTS (a visit inside the window) RETURNING id. A refused scan asks whether it was a
    repeat (the first visit is answered then, as before the rules were asked again)."""
    checked = isinstance(offer, DoorOffer) and offer.checked_for == actor.id  # by get_offer_for, for this actor
    if actor.role == Role.PARTNER and not checked and \
            not can_act_for_partner(actor, offer.partner_id, offer.municipality_id):
        raise PermissionDenied("offer_forbidden", _("Du kan ikke registrere besøk på dette tilbudet."))
    # Locking the card row serialises two scanners at once, so a visit cannot be counted twice. The time is
    # read after the lock: a scan that waited must see the visit recorded by the one it waited for.
    card = cards.door_card(code, municipality_id=offer.municipality_id)
    at = at or utcnow()
    cards.assert_card_valid(card, local_date(at))
    allowed = companions_allowed(card, offer)
    companions = int(companions or 0)
    try:
        child = evaluate(card, offer, at)
        if companions < 0 or companions > allowed:
            raise DomainError("companions_exceeded", _companions_allowed_text(allowed))
    except DomainError:
        repeat = _repeat_of(card, offer, at)
        if repeat is not None:
            return CheckinResult(repeat, False, card, card.child, allowed)
        raise
    occasion = partners.occasion_at(offer, at, _known_day(offer))
    values = visit_values(card, child, offer, actor=actor, at=at, companions=companions, source=source)
    values["occasion_id"] = occasion.id if occasion is not None else None
    new_id = _insert_unless_repeat(values)
    if new_id is None:
        return CheckinResult(_repeat_of(card, offer, at), False, card, child, allowed)
    log.info("check-in %s recorded at offer %s (source %s)", new_id, offer.id, values["source"])
    if getattr(offer, "takes_money", True):  # the child came: money held for the offer goes to the partner
        money.settle_visit(child.id, offer.id, actor=actor)
    return CheckinResult(Visit(id=new_id, **values), True, card, child, allowed)


def visit_values(card: Card, child: Child, offer: DoorOffer | Offer, *, actor: User, at: datetime, companions: int,
                 source: CheckinSource | str) -> dict:
    """A visit's row (its occasion left to the caller): the child's zone, age and birth year copied as they are at
    the visit, so reports stay right after a move and survive the child's anonymisation."""
    return {"card_id": card.id, "child_id": child.id, "offer_id": offer.id, "partner_id": offer.partner_id,
            "occasion_id": None, "municipality_id": child.municipality_id, "recorded_by_id": actor.id, "at": at,
            "companions": companions, "source": CheckinSource(source), "zone_id": child.zone_id,
            "age": cards.child_age(child, local_date(at)), "birth_year": child.birth_year,
            "gender": str(child.gender) if child.gender else None, "value_nok": int(offer.price_nok or 0),
            "voided_at": None, "voided_by_id": None, "void_reason": None}


_VISIT_COLUMNS = ("card_id", "child_id", "offer_id", "partner_id", "occasion_id", "municipality_id", "recorded_by_id",
                  "at", "companions", "source", "zone_id", "age", "birth_year", "gender", "value_nok", "voided_at",
                  "voided_by_id", "void_reason")


@functools.cache
def _insert_visit_query():
    """INSERT ... SELECT <the visit> WHERE NOT EXISTS (a visit of the card at the offer in the window) RETURNING id,
    built once with bound parameters."""
    table = CheckIn.__table__
    earlier = sa.select(table.c.id).where(
        table.c.card_id == sa.bindparam("card_id"), table.c.offer_id == sa.bindparam("offer_id"),
        table.c.voided_at.is_(None), table.c.at > sa.bindparam("window_start", type_=table.c.at.type),
        table.c.at <= sa.bindparam("at", type_=table.c.at.type))
    row = sa.select(*[sa.bindparam(c, type_=table.c[c].type).label(c) for c in _VISIT_COLUMNS]).where(~sa.exists(earlier))
    return sa.insert(table).from_select(list(_VISIT_COLUMNS), row).returning(table.c.id)


def _insert_unless_repeat(values: dict) -> int | None:
    """INSERT the visit unless one of the card at the offer is inside the repeat window: one statement."""
    window = timedelta(minutes=current_app.config["CHECKIN_REPEAT_WINDOW_MINUTES"])
    return db.session.connection().execute(_insert_visit_query(),
                                           {**values, "window_start": values["at"] - window}).scalar()


def set_companions(checkin: CheckIn, companions: int, *, actor: User) -> CheckIn:
    """Record how many companions actually came (never more than the card and offer allow)."""
    if not can_act_for_partner(actor, checkin.partner_id, _partner_municipality(checkin.partner_id)):
        raise PermissionDenied("offer_forbidden", _("Du kan ikke endre dette besøket."))
    card = db.session.get(Card, checkin.card_id)
    offer = db.session.get(Offer, checkin.offer_id)
    allowed = companions_allowed(card, offer) if card and offer else 0
    if companions < 0 or companions > allowed:
        raise DomainError("companions_exceeded", _companions_allowed_text(allowed))
    checkin.companions = companions
    return checkin


def can_void(actor: User, checkin: CheckIn) -> bool:
    """The visit's own partner, or an admin of the partner's municipality."""
    return can_act_for_partner(actor, checkin.partner_id, _partner_municipality(checkin.partner_id))


def _void_refusal(actor: User, checkin: CheckIn, now: datetime, municipality_id: int | None = None) -> DomainError | None:
    """Why this actor may not void this visit now, or None: the visit's own partner the same day, an admin of the
    partner's municipality at any time, never twice. (`municipality_id`: the visit's partner's, when known.)"""
    if municipality_id is None:
        municipality_id = _partner_municipality(checkin.partner_id)
    if not can_act_for_partner(actor, checkin.partner_id, municipality_id):
        return PermissionDenied("offer_forbidden", _("Du kan ikke endre dette besøket."))
    if checkin.voided_at is not None:
        return DomainError("already_void", _("Besøket er allerede annullert."))
    if actor.role == Role.PARTNER and local_date(checkin.at) != local_date(now):
        return DomainError("void_too_late", _("Et besøk kan bare annulleres samme dag."))
    return None


def may_void(actor: User, checkin: CheckIn, *, now: datetime | None = None) -> bool:
    """Whether `void_checkin` would let this actor void this visit now."""
    return _void_refusal(actor, checkin, now or utcnow()) is None


def void_choices(actor: User, rows: list[CheckIn], *, now: datetime | None = None) -> dict[int, bool]:
    """For a visit log: which visits the actor may void now (the page offers the button on those). The partners'
    municipalities are read in one statement, whatever the number of visits."""
    now = now or utcnow()
    partner_ids = {c.partner_id for c in rows}
    municipalities = dict(db.session.execute(db.select(Partner.id, Partner.municipality_id).where(
        Partner.id.in_(partner_ids))).all()) if partner_ids else {}
    return {c.id: _void_refusal(actor, c, now, municipalities.get(c.partner_id)) is None for c in rows}


def void_checkin(checkin: CheckIn, reason: str, *, actor: User, now: datetime | None = None) -> CheckIn:
    """A partner voids a mistaken check-in the same day, with a reason kept in the audit log."""
    now = now or utcnow()
    refusal = _void_refusal(actor, checkin, now)
    if refusal is not None:
        raise refusal
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("Skriv hvorfor besøket annulleres."))
    checkin.voided_at, checkin.voided_by_id, checkin.void_reason = now, actor.id, reason[:500]
    audit.record(actor, "checkin.void", "checkin", checkin.id, municipality_id=checkin.municipality_id,
                 reason=reason[:500])
    return checkin


def card_validity(code: str, *, actor: User, on: date | None = None) -> dict:
    """Whether a card is valid now, for an approved partner's quick look-up (no child data beyond given name);
    cards of another municipality are unknown here."""
    partner = partners.require_active_partner(actor)
    card = cards.lookup_card(code, municipality_id=partner.municipality_id)
    on = on or local_date(utcnow())
    status = cards.card_status(card, on)
    child = db.session.get(Child, card.child_id)
    valid = status == CardStatus.ACTIVE
    return {"valid": valid, "status": str(status), "valid_until": card.valid_until.isoformat(),
            "companions": card.companions, "given_name": child.given_name if valid else None,
            "birth_year": child.birth_year if valid else None,
            "money_available_ore": money.available_at(child.id, partner.id) if valid else None}


def preview(code: str, offer: Offer, at: datetime | None = None) -> dict:
    """What a check-in would answer now, without recording it (the card-link confirmation page)."""
    at = at or utcnow()
    card = cards.lookup_card(code, municipality_id=offer.municipality_id)
    repeat = _repeat_of(card, offer, at)
    child = evaluate(card, offer, at) if repeat is None else db.session.get(Child, card.child_id)
    return {"given_name": child.given_name, "birth_year": child.birth_year,
            "companions_allowed": companions_allowed(card, offer), "repeat": repeat}


def result_view(checkin: CheckIn) -> dict:
    """The green answer: given name, birth year and companions allowed (no more about the child)."""
    child = db.session.get(Child, checkin.child_id) if checkin.child_id else None
    card = db.session.get(Card, checkin.card_id) if checkin.card_id else None
    offer = db.session.get(Offer, checkin.offer_id)
    return {"given_name": child.given_name if child else "", "birth_year": checkin.birth_year,
            "companions_allowed": companions_allowed(card, offer) if card else 0, "offer": offer,
            "money_left": money.door_amount(checkin.child_id, offer) if checkin.child_id else None}


def no_shows(occasion: Occasion, now: datetime | None = None) -> list[Booking]:
    """Booked children with no counted visit on the occasion's day once it has started (places left empty)."""
    now = now or utcnow()
    if occasion.starts_at > now:
        return []
    day_start = occasion.starts_at.replace(hour=0, minute=0, second=0, microsecond=0)
    came = db.select(CheckIn.child_id).where(CheckIn.offer_id == occasion.offer_id, CheckIn.voided_at.is_(None),
                                             CheckIn.at >= day_start, CheckIn.at <= occasion.ends_at)
    return list(db.session.scalars(db.select(Booking).where(
        Booking.occasion_id == occasion.id, Booking.status == BookingStatus.BOOKED,
        sa.or_(Booking.placed_at.is_(None), Booking.placed_at < occasion.starts_at),
        Booking.child_id.not_in(came))))


NO_SHOW_AFTER = timedelta(minutes=30)  # a booked child not checked in by then has not come


def occasions_to_release(now: datetime | None = None) -> list[Occasion]:
    """Occasions of the last day that started more than NO_SHOW_AFTER ago, with a waiting list: their no-shows'
    places can go to the children waiting."""
    now = now or utcnow()
    waiting = db.select(Booking.occasion_id).where(Booking.status == BookingStatus.WAITLISTED)
    return list(db.session.scalars(db.select(Occasion).where(
        Occasion.starts_at <= now - NO_SHOW_AFTER, Occasion.starts_at >= now - timedelta(days=1),
        Occasion.capacity.is_not(None), Occasion.id.in_(waiting))))


def release_all_no_shows(now: datetime | None = None) -> int:
    """The schedule's release: for each occasion that qualifies, its no-shows' places go to the waiting list
    (a booking released once is a no-show; a second run finds nothing)."""
    return sum(bookings.release_bookings(occ, no_shows(occ, now), actor=None) for occ in occasions_to_release(now))


def release_no_shows(occasion: Occasion, *, actor: User) -> int:
    """The partner gives the places of no-shows to the waiting list; returns how many were released."""
    return bookings.release_bookings(occasion, no_shows(occasion), actor=actor)


def metric_counts() -> list[tuple[str, int]]:
    """Check-ins ever recorded: the highest id (an index's last entry, not a count over every row), which also
    only grows, as a Prometheus counter must."""
    return [("checkin", db.session.scalar(db.select(db.func.max(CheckIn.id))) or 0)]


def visits_of_child(child_id: int, limit: int = 20) -> list[tuple[datetime, Offer, str]]:
    """The child's visits, newest first: (when, offer, partner's name). The family's own record; a voided visit
    is left out."""
    rows = db.session.execute(
        db.select(CheckIn.at, Offer, Partner.name).join(Offer, Offer.id == CheckIn.offer_id)
        .join(Partner, Partner.id == CheckIn.partner_id)
        .where(CheckIn.child_id == child_id, CheckIn.voided_at.is_(None))
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit))
    return [(at, offer, partner) for at, offer, partner in rows]


def checkins_today(user: User) -> int:
    """Visits recorded today (Oslo): a partner's own, or the admin's municipality's (the dashboard's count)."""

    start = datetime.combine(today(), time(0), tzinfo=OSLO)
    q = db.select(db.func.count(CheckIn.id)).where(CheckIn.at >= start, CheckIn.at < start + timedelta(days=1),
                                                    CheckIn.voided_at.is_(None))
    if user.role == Role.PARTNER:
        q = q.where(CheckIn.partner_id == partners.partner_id_of(user))
    elif user.municipality_id is not None:
        q = q.where(CheckIn.municipality_id == user.municipality_id)
    return db.session.scalar(q) or 0
