"""Test data, made through the services (so every row a test sees is one the application could have made).

Plain functions, shared by every part's tests; fixtures in the conftests call these. A test module never imports
another part's conftest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from opplevelseskort.cards import households
from opplevelseskort.cards import services as cards
from opplevelseskort.extensions import db


def child_input(**kw) -> households.ChildInput:
    base = dict(given_name="Emma", family_name="Nordmann", birth_year=2014, birth_month=5, zone="30010101",
                channel="nav", eligible_from=date(2026, 1, 1), eligible_until=date(2026, 12, 31), confirmed=True,
                gender="girl")
    base.update(kw)
    return households.ChildInput(**base)


def guardian_input(**kw) -> households.GuardianInput:
    base = dict(name="Kari Nordmann", phone="912 34 567", email="kari@example.org", preferred_language="nb")
    base.update(kw)
    return households.GuardianInput(**base)


def household(muni, users, **child):
    h = households.register_household(muni, [guardian_input()], [child_input(**child)], actor=users["caseworker"])
    db.session.flush()
    return h


def make_card(muni, users, given="Ola", birth_year=2014, *, valid_until=date(2030, 12, 31)):
    """A household with one child holding an active card (valid from 2026)."""
    h = household(muni, users, given_name=given, birth_year=birth_year)
    return cards.issue_card(h.children[0], actor=users["caseworker"], valid_from=date(2026, 1, 1),
                            valid_until=valid_until)


def offer_values(**kw) -> dict:
    base = dict(title="Fotball", description="Trening", category="sport", age_min=6, age_max=16,
                address="Banen", start_date=date(2026, 1, 1), end_date=date(2030, 12, 31), opening_hours="",
                companions_allowed=1, price_nok=200, use_limit=None, use_limit_period="period",
                requires_booking=False, status="published", lat=None, lon=None)
    base.update(kw)
    return base


def offer(users, translations=None, **kw):
    from opplevelseskort.partners import services as partners

    return partners.save_offer(users["partner"], offer_values(**kw), translations or {})


def occasion(offer_, users, *, in_days=3, hours=2, capacity=5):
    from opplevelseskort.partners import services as partners

    start = datetime.now(UTC) + timedelta(days=in_days)
    occ = partners.add_occasion(offer_, start, start + timedelta(hours=hours), capacity, actor=users["partner"])
    db.session.flush()
    return occ


def location(muni, volunteers=(), **kw):
    from utstyr.models import Location

    loc = Location(municipality_id=muni.id, name=kw.pop("name", "Sentralen"), **kw)
    loc.volunteers.extend(volunteers)
    db.session.add(loc)
    db.session.flush()
    return loc


def item_type(muni, **kw):
    from utstyr.models import ItemType

    base = dict(name="Ski", category="ski", size="130 cm", default_loan_days=7)
    base.update(kw)
    it = ItemType(municipality_id=muni.id, **base)
    db.session.add(it)
    db.session.flush()
    return it


def approved_partner(muni, name: str, org_number: str):
    """A partner the municipality has approved (as the admin's approval leaves it, without the invitation)."""
    from opplevelseskort.partners.models import Partner, PartnerStatus

    p = Partner(municipality_id=muni.id, name=name, org_number=org_number, status=PartnerStatus.APPROVED)
    db.session.add(p)
    db.session.flush()
    return p
