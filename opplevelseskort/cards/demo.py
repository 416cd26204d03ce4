"""Demo households with cards. The small set: three named families. The full demo adds about 1,500 households
with 2,300 children spread over the zones as in a real municipality (most grunnkretser 20-80 children, some large,
two with only a couple, a few in the "uoppgitt" zone), eligible since the start of last year or joining during
this one, in the languages the platform speaks. Registered through the import's batch path
(`register_households_bulk`); the cards are then dated from when the children became eligible, as if issued then."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import sqlalchemy as sa

from ..accounts.models import User
from ..core.models import Municipality
from ..demo import DEMO_SEED, UNKNOWN_CODE
from ..extensions import db
from ..zones.models import Zone
from . import households, services
from .models import Card, Child

DEMO_FAMILIES = [
    ("Amina Hassan", "+4791234567", "amina@example.org", "so", [("Ayaan", "Hassan", 2015, 4, "99010101"),
                                                               ("Hodan", "Hassan", 2012, 9, "99010101")]),
    ("Ola Nordmann", "+4792345678", None, "nb", [("Emma", "Nordmann", 2014, 1, "99010201")]),
    ("Olena Kovalenko", None, "olena@example.org", "uk", [("Maksym", "Kovalenko", 2013, 6, "99010302")]),
]

CHILDREN = 2300
GIVEN = {"nb": ["Emma", "Nora", "Ella", "Olivia", "Jakob", "Noah", "Filip", "Lukas", "Ingrid", "Sofie", "Henrik",
                "Aksel", "Maja", "Oskar", "Sara", "Johannes", "Leah", "Emil", "Tiril", "Mathias"],
         "so": ["Ayaan", "Hodan", "Ismail", "Hibaaq", "Abdi", "Faadumo", "Mahad", "Sagal"],
         "ar": ["Omar", "Lina", "Yousef", "Mariam", "Ali", "Sara", "Hamza", "Noor"],
         "uk": ["Maksym", "Sofiia", "Artem", "Anna", "Denys", "Viktoriia"],
         "pl": ["Jakub", "Zuzanna", "Antoni", "Julia", "Szymon", "Maja"],
         "ti": ["Yonas", "Selam", "Dawit", "Helen", "Robel", "Mahlet"],
         "en": ["James", "Amelia", "Liam", "Grace"]}
FAMILY = {"nb": ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Berg",
                 "Haugen", "Bakken", "Lie"],
          "so": ["Hassan", "Mohamed", "Abdi", "Warsame"], "ar": ["Haddad", "Khalil", "Saleh", "Nasser"],
          "uk": ["Kovalenko", "Shevchenko", "Bondarenko"], "pl": ["Nowak", "Kowalski", "Wiśniewski"],
          "ti": ["Tesfay", "Gebremedhin", "Haile"], "en": ["Smith", "Brown"]}
LANGUAGES = ["nb"] * 64 + ["so"] * 8 + ["ar"] * 9 + ["uk"] * 7 + ["pl"] * 6 + ["ti"] * 4 + ["en"] * 2
CHANNELS = ["nav"] * 5 + ["school"] * 2 + ["health_nurse", "child_welfare", "introduction"] + ["application"] * 2


def demo_cards(muni: Municipality, *, small: bool = False) -> dict[str, int]:
    if db.session.scalar(db.select(Child.id).filter_by(municipality_id=muni.id).limit(1)):
        return {}
    actor = db.session.scalar(db.select(User).filter_by(email="saksbehandler@demo.no"))
    today = services.today()
    if small:
        since, until = date(today.year, 1, 1), date(today.year, 12, 31)
    else:
        since, until = date(today.year - 1, 1, 1), date(today.year, 12, 31)
    for name, phone, email, lang, kids in DEMO_FAMILIES:
        h = households.register_household(
            muni, [households.GuardianInput(name, phone, email, lang)],
            [households.ChildInput(g, f, y, m, zone, "nav", since, until, True) for g, f, y, m, zone in kids],
            actor=actor)
        for child in h.children:
            services.issue_card(child, actor=actor)
    if not small:
        _many(muni, actor, today)
    return {"children with cards": db.session.scalar(db.select(db.func.count(Child.id))
                                                     .filter_by(municipality_id=muni.id))}


def _many(muni: Municipality, actor: User, today: date) -> None:
    zones = {z.code: z for z in db.session.scalars(db.select(Zone).filter_by(municipality_id=muni.id,
                                                                             level="grunnkrets"))}
    households.register_households_bulk(muni, _households(zones, today), zones.__getitem__, actor=actor)
    # the cards date from when each child became eligible, as if issued then (the history needs them valid)
    issued = sa.select(Child.eligible_from).where(Child.id == Card.child_id).scalar_subquery()
    db.session.execute(sa.update(Card).where(Card.municipality_id == muni.id).values(valid_from=issued))
    for since_day in db.session.scalars(sa.select(Card.valid_from).where(Card.municipality_id == muni.id).distinct()):
        db.session.execute(sa.update(Card).where(Card.municipality_id == muni.id, Card.valid_from == since_day)
                           .values(issued_at=datetime(since_day.year, since_day.month, since_day.day, 9, tzinfo=UTC)))


def _households(zones: dict[str, Zone], today: date) -> list:
    """Households of one to four children in their zones (a seeded draw: the same every time)."""
    rng = random.Random(DEMO_SEED)
    codes = sorted(code for code in zones if code != UNKNOWN_CODE)
    weights = {code: rng.lognormvariate(0, 0.55) for code in codes}
    for tiny in rng.sample(codes, 2):  # two zones where almost no eligible child lives
        weights[tiny] = 0.0
    total = sum(weights.values())
    quota = {code: round(w / total * (CHILDREN - 10)) for code, w in weights.items()}
    for tiny in (c for c in codes if weights[c] == 0.0):
        quota[tiny] = 2
    quota[UNKNOWN_CODE] = 3  # children whose address gave no grunnkrets
    groups = []
    for code in [*codes, UNKNOWN_CODE]:
        left = quota[code]
        while left > 0:
            size = min(left, rng.choice([1, 1, 1, 2, 2, 2, 3, 3, 4]))
            left -= size
            lang = rng.choice(LANGUAGES)
            family = rng.choice(FAMILY[lang])
            guardian = households.GuardianInput(
                f"{rng.choice(GIVEN[lang])} {family}", f"+479{rng.randrange(1000000, 9999999)}",
                f"foresatt{len(groups) + 1}@example.org" if rng.random() < 0.6 else None, lang)
            # most children were eligible from the start of last year; a fifth joined during this one
            since = date(today.year - 1, 1, 1) if rng.random() < 0.8 else date(
                today.year, rng.randint(1, max(1, today.month)), 1)
            kids = []
            for _ in range(size):
                age = rng.choice([3, 4, 5] + list(range(6, 18)) * 3)
                kids.append(households.ChildInput(rng.choice(GIVEN[lang]), family, today.year - age,
                                                rng.randint(1, 12), code, rng.choice(CHANNELS), since,
                                                date(today.year, 12, 31), True, rng.choice(["girl", "boy"])))
            groups.append((guardian, kids))
    return groups
