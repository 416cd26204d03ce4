"""The age rule, once (issue 38, item 4): from age_min to age_max, both included, the same at the door, at booking
and in the catalogue; a bound one year off either way refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opplevelseskort.cards import services as cards
from opplevelseskort.checkin import services as checkin
from opplevelseskort.core.clock import local_date
from opplevelseskort.core.errors import DomainError
from opplevelseskort.extensions import db
from opplevelseskort.partners import bookings, services

from ..factories import make_card, offer_values

AT = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _bounds(age: int) -> list[tuple[int, int, bool]]:
    """(age_min, age_max, fits) around a child of `age`: exactly at each bound fits, one year past it does not."""
    return [(age, age, True), (age, age + 3, True), (age - 3, age, True), (age + 1, age + 4, False),
            (age - 4, age - 1, False)]


@pytest.mark.parametrize("case", range(5))
def test_the_age_rule_at_the_door(muni, users, case):
    card = make_card(muni, users, "Sara", birth_year=2014)
    age = cards.child_age(card.child, local_date(AT))
    lo, hi, fits = _bounds(age)[case]
    offer = services.save_offer(users["partner"], offer_values(title=f"Dør {case}", age_min=lo, age_max=hi), {})
    if fits:
        assert checkin.record_checkin(card.short_code, offer, actor=users["partner"], at=AT).created
    else:
        with pytest.raises(DomainError) as exc:
            checkin.record_checkin(card.short_code, offer, actor=users["partner"], at=AT)
        assert exc.value.code == "age_outside_range" and f"{age} år" in exc.value.message


@pytest.mark.parametrize("case", range(5))
def test_the_age_rule_at_booking(muni, users, case):
    card = make_card(muni, users, "Sara", birth_year=2014)
    start = datetime.now(UTC) + timedelta(days=3)
    age = cards.child_age(card.child, local_date(start))
    lo, hi, fits = _bounds(age)[case]
    offer = services.save_offer(users["partner"], offer_values(title=f"Leir {case}", age_min=lo, age_max=hi,
                                                               requires_booking=True), {})
    occasion = services.add_occasion(offer, start, start + timedelta(hours=3), 5, actor=users["partner"])
    db.session.flush()
    if fits:
        assert bookings.book(occasion, card, actor=users["caseworker"]).id
    else:
        with pytest.raises(DomainError) as exc:
            bookings.book(occasion, card, actor=users["caseworker"])
        assert exc.value.code == "age_outside_range"


def test_the_age_rule_in_the_catalogue(muni, users):
    age = 11
    for i, (lo, hi, _fits) in enumerate(_bounds(age)):
        services.save_offer(users["partner"], offer_values(title=f"Katalog {i}", age_min=lo, age_max=hi), {})
    shown = {o.title for o in services.catalogue(services.CatalogueFilter(age=age, municipality_id=muni.id))}
    assert shown == {f"Katalog {i}" for i, (_lo, _hi, fits) in enumerate(_bounds(age)) if fits}


def test_one_rule_for_every_offer_shape():
    class Offer:
        def __init__(self, lo, hi):
            self.age_min, self.age_max = lo, hi

    assert services.age_fits(Offer(6, 16), 6) and services.age_fits(Offer(6, 16), 16)
    assert not services.age_fits(Offer(6, 16), 5) and not services.age_fits(Offer(6, 16), 17)
    assert services.age_fits(Offer(None, 16), 0) and services.age_fits(Offer(6, None), 99)
