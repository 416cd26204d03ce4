"""A synthetic municipality shaped like a real one, for the disclosure benchmark and the audit tests.

Shape (the defaults; seeded, so the same seed gives the same people): 98 grunnkretser in 16 delområder, and SSB's
"uoppgitt grunnkrets" NNNN9999 with no parent and three children; about 3,000 children with a card (about 30 per
grunnkrets: most 15-45, a few very small zones of 0-6, two zones with under five eligible children), about 55 % of
them active, about 7,000 check-ins over the year spread over six offers in four categories with prices, ages 6-17
and four gender values (a few "other" and unknown). SSB's children 6-17 per grunnkrets (the denominator of reach)
is 150-260, smaller in the small zones.

Written through the ORM in one flush per table, so it runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class Shape:
    grunnkretser: int = 98
    delomrader: int = 16
    children: int = 3000
    checkins: int = 7000
    active_share: float = 0.55
    small_zones: int = 8  # grunnkretser with 0-6 children
    tiny_zones: int = 2  # grunnkretser with under five eligible children
    orphans: int = 3  # children with a card in the parentless "uoppgitt" zone
    year: int = 2026


REAL = Shape()


def build(db, muni, *, seed: int = 1, shape: Shape = REAL) -> dict:
    """Zones, indicators, offers, children, cards and check-ins for `muni`; returns the zones by code."""
    from opplevelseskort.cards.models import Card, Channel, Child, Gender, Household
    from opplevelseskort.checkin.models import CheckIn, CheckinSource
    from opplevelseskort.partners.models import Offer, Partner
    from opplevelseskort.reports.models import ZoneIndicator
    from opplevelseskort.reports.services import ELIGIBLE_KEY
    from opplevelseskort.zones.models import Zone

    rng = random.Random(seed)
    year = shape.year
    partner = Partner(municipality_id=muni.id, name=f"Synthetic IL {seed}", org_number="974760673", status="approved")
    db.session.add(partner)
    db.session.flush()
    offers = []
    for i, (category, price) in enumerate([("sport", 100), ("sport", 150), ("culture", 120), ("culture", 80),
                                           ("outdoor", 200), ("cinema", 140)]):
        offers.append(Offer(partner_id=partner.id, municipality_id=muni.id, title=f"Tilbud {i}", description="",
                            translations={}, category=category, age_min=0, age_max=25, address="",
                            start_date=date(year, 1, 1), end_date=date(year, 12, 31), opening_hours="",
                            companions_allowed=1, price_nok=price, use_limit_period="period",
                            requires_booking=False, status="published"))
    db.session.add_all(offers)
    delos = [Zone(municipality_id=muni.id, code=f"{muni.number}{d + 1:02d}", name=f"Delområde {d + 1}",
                  level="delomrade") for d in range(shape.delomrader)]
    db.session.add_all(delos)
    db.session.flush()
    leaves = []
    for g in range(shape.grunnkretser):
        parent = delos[g % shape.delomrader]
        leaves.append(Zone(municipality_id=muni.id, code=f"{parent.code}{g // shape.delomrader + 1:02d}",
                           name=f"Grunnkrets {g + 1}", level="grunnkrets", parent_id=parent.id))
    orphan = Zone(municipality_id=muni.id, code=f"{muni.number}9999", name="Uoppgitt grunnkrets", level="grunnkrets")
    db.session.add_all([*leaves, orphan])
    db.session.flush()

    # children per grunnkrets: a few small and tiny zones, the rest around the mean
    small = set(rng.sample(range(len(leaves)), shape.small_zones + shape.tiny_zones))
    tiny = set(list(small)[:shape.tiny_zones])
    sizes = {}
    rest = shape.children - shape.orphans
    for i in small:
        sizes[i] = rng.randint(1, 3) if i in tiny else rng.choice([0, 1, 2, 4, 6])
    big = [i for i in range(len(leaves)) if i not in small]
    mean = (rest - sum(sizes.values())) / len(big)
    for i in big:
        sizes[i] = max(5, int(rng.gauss(mean, mean * 0.3)))
    zone_children = [(leaves[i], sizes[i]) for i in range(len(leaves))] + [(orphan, shape.orphans)]
    indicators = []
    for i, leaf in enumerate(leaves):
        eligible = sizes[i] + (rng.randint(0, 1) if i in tiny else rng.randint(120, 230) if i not in small else
                               rng.randint(8, 40))
        indicators.append(ZoneIndicator(zone_id=leaf.id, key=ELIGIBLE_KEY, year=year, value=eligible))
    indicators.append(ZoneIndicator(zone_id=orphan.id, key=ELIGIBLE_KEY, year=year, value=12))
    db.session.add_all(indicators)

    household = Household(municipality_id=muni.id)
    db.session.add(household)
    db.session.flush()
    genders = [Gender.GIRL] * 48 + [Gender.BOY] * 48 + [Gender.OTHER] * 1 + [None] * 3
    children = []
    for zone, n in zone_children:
        for _ in range(n):
            children.append(Child(household_id=household.id, municipality_id=muni.id, given_name="Barn",
                                  family_name="Syntetisk", birth_year=year - rng.randint(6, 17),
                                  gender=rng.choice(genders), zone_id=zone.id, channel=Channel.NAV,
                                  eligible_from=date(year, 1, 1), eligible_until=date(year, 12, 31)))
    db.session.add_all(children)
    db.session.flush()
    cards = [Card(child_id=c.id, municipality_id=muni.id, qr_token=f"syn{seed}-{c.id}", short_code=f"S{seed}X{c.id}",
                  family_token=f"fam{seed}-{c.id}", valid_from=date(year, 1, 1), valid_until=date(year, 12, 31))
             for c in children]
    db.session.add_all(cards)
    db.session.flush()

    start = datetime(year, 1, 1, 8, tzinfo=UTC)
    by_zone = {z.id: z for z in [*leaves, orphan]}
    orphans = [(c, card) for c, card in zip(children, cards, strict=True) if c.zone_id == orphan.id]
    others = [(c, card) for c, card in zip(children, cards, strict=True) if c.zone_id != orphan.id]
    active = rng.sample(others, int(len(others) * shape.active_share)) + orphans
    visits = [1] * len(active)
    for _ in range(max(0, shape.checkins - len(active) - len(orphans))):
        visits[rng.randrange(len(orphans), len(active))] += 1
    rows = []
    for (child, card), n in zip(active, visits, strict=True):
        for _ in range(n):
            offer = rng.choice(offers)
            rows.append(CheckIn(card_id=card.id, child_id=child.id, offer_id=offer.id, partner_id=partner.id,
                                municipality_id=muni.id, source=CheckinSource.TYPED, zone_id=by_zone[child.zone_id].id,
                                at=start + timedelta(days=rng.randint(0, 363), minutes=rng.randint(0, 600)),
                                age=year - child.birth_year, birth_year=child.birth_year,
                                gender=child.gender.value if child.gender else None, value_nok=offer.price_nok))
    db.session.add_all(rows)
    db.session.flush()
    return {z.code: z for z in [*delos, *leaves, orphan]}
