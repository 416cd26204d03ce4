"""Activity money where people meet it (issue 40, items 4, 6, 8): a family's booking of a priced offer reserves the
price and a cancellation releases it; the partner settles through the API with an Idempotency-Key; at the door the
partner sees what is left and never the scheme; the family's card page shows available, reserved, used and when it
lapses."""

from __future__ import annotations

import sqlalchemy as sa

from opplevelseskort.api.checkins import CardValidity
from opplevelseskort.extensions import db
from opplevelseskort.money import services
from opplevelseskort.money.models import MoneyReservationStatus, Reservation, Transfer
from opplevelseskort.partners.models import Booking

from ..conftest import login
from ..factories import make_card, occasion


def _reservations():
    return db.session.scalars(sa.select(Reservation).order_by(Reservation.id)).all()


def test_a_booking_reserves_the_price_and_a_cancellation_releases_it(client, scheme, kid, priced, users):
    services.grant(scheme)
    camp = occasion(priced, users)
    assert client.post(f"/kort/{kid.family_token}/pamelding/{camp.id}").status_code == 302
    (held,) = _reservations()
    assert (held.amount, held.status) == (10_000, MoneyReservationStatus.ACTIVE)
    assert services.available(kid.child_id) == 90_000
    booking = db.session.scalar(sa.select(Booking).where(Booking.child_id == kid.child_id))
    assert held.booking_id == booking.id
    assert client.post(f"/kort/{kid.family_token}/avmelding/{booking.id}").status_code == 302
    assert db.session.get(Reservation, held.id).status == MoneyReservationStatus.VOIDED
    assert services.available(kid.child_id) == 100_000


def test_a_booking_the_money_cannot_cover_is_refused_place_and_all(client, muni, users, club, scheme, priced):
    poor = make_card(muni, users, "Per", birth_year=2014)
    services.grant(scheme)
    account_holder = services.reserve(poor.child_id, priced, 95_000)  # almost all of it held already
    camp = occasion(priced, users)
    answer = client.post(f"/kort/{poor.family_token}/pamelding/{camp.id}")
    assert answer.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0  # no place without the money
    assert [r.id for r in _reservations()] == [account_holder.id]
    # a child without activity money keeps the card's free entry
    free = make_card(muni, users, "Fri", birth_year=2013)  # carded after the grant: no money (until the night's run)
    assert client.post(f"/kort/{free.family_token}/pamelding/{camp.id}").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    assert [r.id for r in _reservations()] == [account_holder.id]


def test_a_caseworkers_booking_on_a_childs_behalf_holds_the_money_as_the_familys_does(client, muni, users, scheme,
                                                                                       kid, priced):
    services.grant(scheme)
    camp = occasion(priced, users)
    login(client, users["caseworker"])
    url = f"/tilbud/{priced.id}/pamelding/{camp.id}/pa-vegne"
    assert client.post(url, data={"card_code": kid.short_code}).status_code == 302
    (held,) = _reservations()
    booking = db.session.scalar(sa.select(Booking).where(Booking.child_id == kid.child_id))
    assert (held.amount, held.booking_id) == (10_000, booking.id) and services.available(kid.child_id) == 90_000
    poor = make_card(muni, users, "Per", birth_year=2014)
    services.grant(scheme)
    services.reserve(poor.child_id, priced, 95_000)
    refused = client.post(url, data={"card_code": poor.short_code})
    assert refused.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.child_id == poor.child_id)) == 0
    assert client.get(f"/tilbud/{priced.id}/pamelding/{camp.id + 999}/pa-vegne").status_code == 405
    assert client.post(f"/tilbud/{priced.id + 999}/pamelding/{camp.id}/pa-vegne",
                       data={"card_code": kid.short_code}).status_code == 404


def test_settling_through_the_api_is_idempotent(client, scheme, kid, priced, users):
    from opplevelseskort.accounts import tokens

    services.grant(scheme)
    held = services.reserve(kid.child_id, priced, 30_000)
    token = tokens.create_token(users["partner"], "kasse")[1]
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/money/reservations/{held.id}/settle"
    assert client.post(url, json={"amount_ore": 20_000}, headers=auth).status_code == 400  # no key
    first = client.post(url, json={"amount_ore": 20_000}, headers={**auth, "Idempotency-Key": "k-1"})
    assert first.status_code == 200 and first.json["settled_ore"] == 20_000
    again = client.post(url, json={"amount_ore": 20_000}, headers={**auth, "Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json == first.json  # replayed: one transfer
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer).where(Transfer.kind == "settle")) == 1
    other = client.post(url, json={"amount_ore": 10_000}, headers={**auth, "Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.json["error"] == "idempotency_key_reused"
    twice = client.post(url, json={}, headers={**auth, "Idempotency-Key": "k-2"})
    assert twice.status_code == 409
    assert services.available(kid.child_id) == 80_000


def test_another_partner_cannot_settle_a_reservation(client, scheme, kid, priced, users, other_partner_org):
    from opplevelseskort.accounts import tokens
    from opplevelseskort.partners.services import create_staff_user

    services.grant(scheme)
    held = services.reserve(kid.child_id, priced, 30_000)
    stranger = create_staff_user("annen@klubb.no", "gront eple 47", "partner", municipality_id=kid.municipality_id,
                                 partner_id=other_partner_org.id)
    token = tokens.create_token(stranger, "kasse")[1]
    answer = client.post(f"/api/v1/money/reservations/{held.id}/settle", json={},
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "x-1"})
    assert answer.status_code == 404


def test_the_door_sees_what_is_left_and_never_the_scheme(client, scheme, kid, priced, users):
    services.grant(scheme)
    services.reserve(kid.child_id, priced, 10_000)
    login(client, users["partner"])
    answer = client.post("/skann", data={"offer_id": priced.id, "code": kid.short_code}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "Aktivitetspenger igjen" in page and "1\u00a0000 kr" not in page and "Fritidskortet" not in page
    assert "900 kr" in page  # the reservation was settled by the visit: 1,000 less 100
    fields = set(CardValidity.model_fields)
    assert "money_available_ore" in fields and not fields & {"scheme", "scheme_id", "channel", "eligibility", "reason"}


def test_the_card_page_shows_available_reserved_used_and_when_it_lapses(client, scheme, kid, priced, users):
    services.grant(scheme)
    used = services.reserve(kid.child_id, priced, 25_000)
    services.settle(used.id)
    services.reserve(kid.child_id, priced, 10_000)
    page = client.get(f"/kort/{kid.family_token}").get_data(as_text=True)
    assert "Aktivitetspenger" in page
    for amount in ("650 kr", "100 kr", "250 kr"):
        assert amount in page, amount
    assert "31. desember" in page
