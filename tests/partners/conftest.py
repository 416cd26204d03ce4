from datetime import UTC, date, datetime, timedelta

import pytest

from opplevelseskort.extensions import db
from opplevelseskort.partners import services
from opplevelseskort.partners.models import Occasion

from ..cards.conftest import card, child, child_input, guardian_input, household  # noqa: F401


@pytest.fixture(autouse=True)
def _zones(zone_set):
    return zone_set


def offer_values(**kw):
    base = dict(title="Fotball", description="Trening", category="sport", age_min=6, age_max=16,
                address="Banen", start_date=date(2026, 1, 1), end_date=date(2030, 12, 31), opening_hours="",
                companions_allowed=1, price_nok=200, use_limit=None, use_limit_period="period",
                requires_booking=False, status="published", lat=None, lon=None)
    base.update(kw)
    return base


@pytest.fixture
def offer(users):
    return services.save_offer(users["partner"], offer_values(), {"en": {"title": "Football", "description": ""}})


@pytest.fixture
def camp(users):
    o = services.save_offer(users["partner"], offer_values(title="Leir", requires_booking=True), {})
    start = datetime.now(UTC) + timedelta(days=3)
    occ = services.add_occasion(o, start, start + timedelta(hours=6), 2, actor=users["partner"])
    db.session.flush()
    return occ


def make_card(muni, users, given="Ola", birth_year=2014):
    from opplevelseskort.cards import services as cards

    h = cards.register_household(muni, [guardian_input()], [child_input(given_name=given, birth_year=birth_year)],
                                 actor=users["caseworker"])
    return cards.issue_card(h.children[0], actor=users["caseworker"], valid_from=date(2026, 1, 1),
                            valid_until=date(2030, 12, 31))


__all__ = ["Occasion", "card", "child", "household"]
