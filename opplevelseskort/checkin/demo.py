"""Demo check-ins: two years of visits (the full demo), shaped by the seasons of a Norwegian school year: the winter
holiday (week 8-9) and the autumn holiday (week 40) at two to three times an ordinary week, July and Christmas
quiet; about 55 % of the card holders use the card in a year, most a few times, some every week. The named demo
families are among the frequent users, so the family's, the partner's and the caseworker's pages have history.
Also a few bookings of the coming weeks' places, made through the booking service. Written a table at a time;
seeded, so the same day gives the same history."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from ..accounts.models import User
from ..cards.models import Card, Child
from ..core.clock import today
from ..core.errors import DomainError
from ..core.models import Municipality
from ..demo import DEMO_SEED
from ..extensions import db
from ..partners import bookings as partners
from ..partners.models import Occasion, Offer
from .models import CheckIn, CheckinSource

ACTIVE_SHARE = 0.55
NAMED_FAMILY_NAMES = ("Hassan", "Nordmann", "Kovalenko")


def season_weight(day: date) -> float:
    """How busy a day is, relative to an ordinary school day."""
    week = day.isocalendar().week
    if week in (8, 9):
        return 3.0  # winter holiday
    if week == 40:
        return 2.0  # autumn holiday
    if day.month == 7 or (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
        return 0.3
    return 0.6 if day.weekday() == 6 else 1.0


def demo_checkins(muni: Municipality, *, small: bool = False) -> dict[str, int]:
    if small or db.session.scalar(db.select(CheckIn.id).filter_by(municipality_id=muni.id).limit(1)):
        return {}
    rng = random.Random(DEMO_SEED + 1)
    end = today() - timedelta(days=1)
    days = [date(end.year - 1, 1, 1) + timedelta(days=n) for n in range((end - date(end.year - 1, 1, 1)).days + 1)]
    weights = [season_weight(d) for d in days]
    offers = list(db.session.scalars(db.select(Offer).filter_by(municipality_id=muni.id).order_by(Offer.id)))
    holders = db.session.execute(
        sa.select(Child, Card).join(Card, Card.child_id == Child.id)
        .where(Child.municipality_id == muni.id).order_by(Child.id)).all()
    rows = []
    usable_days: dict[tuple[int, date], tuple[list[date], list[float]]] = {}  # the same few cards' starts recur

    def usable(year: int, since: date) -> tuple[list[date], list[float]]:
        if (year, since) not in usable_days:
            pairs = [(d, w) for d, w in zip(days, weights, strict=True) if d.year == year and d >= since]
            usable_days[year, since] = ([d for d, _w in pairs], [w for _d, w in pairs])
        return usable_days[year, since]

    for child, card in holders:
        named = child.family_name in NAMED_FAMILY_NAMES and child.given_name in {"Ayaan", "Hodan", "Emma", "Maksym"}
        fitting = [o for o in offers if o.age_min <= end.year - (child.birth_year or end.year) <= o.age_max] or offers
        for year in (end.year - 1, end.year):
            if not named and rng.random() > ACTIVE_SHARE:
                continue
            visits = 12 if named else min(40, int(rng.expovariate(1 / 4)) + 1)
            open_days, day_weights = usable(year, card.valid_from)
            if not open_days:
                continue
            for day in sorted(rng.choices(open_days, weights=day_weights, k=visits)):
                offer = rng.choice(fitting)
                at = datetime(day.year, day.month, day.day, rng.randint(14, 18), rng.randint(0, 59), tzinfo=UTC)
                age = day.year - child.birth_year if child.birth_year else None
                rows.append({"card_id": card.id, "child_id": child.id, "offer_id": offer.id,
                             "partner_id": offer.partner_id, "municipality_id": muni.id, "at": at,
                             "companions": rng.choice([0, 0, 0, 1]) if offer.companions_allowed else 0,
                             "source": CheckinSource.CAMERA, "zone_id": child.zone_id, "age": age,
                             "birth_year": child.birth_year, "gender": child.gender.value if child.gender else None,
                             "value_nok": offer.price_nok})
    db.session.execute(sa.insert(CheckIn), rows)
    return {"check-ins": len(rows), "bookings": _bookings(muni, holders, rng)}


def _bookings(muni: Municipality, holders, rng: random.Random) -> int:
    """A few children booked on the coming weeks' places, through the booking service (its rules apply)."""
    caseworker = db.session.scalar(db.select(User).filter_by(email="saksbehandler@demo.no"))
    occasions = list(db.session.scalars(db.select(Occasion).join(Offer).where(Offer.municipality_id == muni.id)
                                        .order_by(Occasion.starts_at, Occasion.id)))
    made = 0
    for occasion in occasions[:8]:
        for _child, card in rng.sample(holders, 12):
            try:
                partners.book(occasion, card, actor=caseworker)
                made += 1
            except DomainError:
                continue  # too young or too old for the offer: that child is not booked
    return made
