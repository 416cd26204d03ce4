"""Truly parallel requests on PostgreSQL: 50 at once against one place, one card, one unit, one message.

Each worker is its own test client (own app context, own database connection and transaction), released
together by a barrier; afterwards the rows themselves are counted, so an invariant broken in the database is
caught even when every response looked fine.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.core.models import OutboxMessage, OutboxStatus
from opplevelseskort.extensions import db
from opplevelseskort.partners import bookings as booking_service
from opplevelseskort.partners import services as partners
from opplevelseskort.partners.models import Booking, BookingStatus, Occasion

from .factories import make_card, offer_values

pytestmark = [pytest.mark.pg, pytest.mark.usefixtures("zone_set")]
N = 50


def parallel(n, fn):
    """Run fn(i) in n threads released at once; return the results (exceptions are re-raised)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def _client_as(app, session_id: str):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id
        sess["_fresh"] = True
    return client


def _api_token(app, user) -> str:
    """A token already used once: its last-use stamp is not written again (which would serialise requests)."""
    raw = api_tokens.create_token(user, "door")[1]
    db.session.commit()
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    return raw


def _count(model, **where):
    db.session.expire_all()
    q = db.select(db.func.count()).select_from(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return db.session.scalar(q)


def _camp(users, capacity):
    o = partners.save_offer(users["partner"], offer_values(title="Sommerleir", requires_booking=True), {})
    start = datetime.now(UTC) + timedelta(days=3)
    return partners.add_occasion(o, start, start + timedelta(hours=6), capacity, actor=users["partner"])


def _assert_places(occ_id, capacity):
    db.session.expire_all()
    occ = db.session.get(Occasion, occ_id)
    booked_rows = _count(Booking, occasion_id=occ_id, status=BookingStatus.BOOKED)
    assert booked_rows <= capacity
    assert occ.booked == booked_rows, "the place counter drifted from the booked rows"
    return booked_rows


def test_parallel_family_bookings_fill_exactly_the_places(app, committing, muni, users):
    occ = _camp(users, 15)
    cards = [make_card(muni, users, f"Barn{i}") for i in range(N)]
    db.session.commit()
    tokens, occ_id = [c.family_token for c in cards], occ.id

    def book(i):
        return app.test_client().post(f"/kort/{tokens[i]}/pamelding/{occ_id}").status_code

    statuses = parallel(N, book)
    assert set(statuses) == {302}
    assert _assert_places(occ_id, 15) == 15
    assert _count(Booking, occasion_id=occ_id, status=BookingStatus.WAITLISTED) == N - 15


def test_parallel_cancels_of_one_booking_free_one_place_and_move_up_one(app, committing, muni, users):
    occ = _camp(users, 3)
    cards = [make_card(muni, users, f"Barn{i}") for i in range(8)]
    bookings = [booking_service.book(occ, c, actor=None) for c in cards]
    db.session.commit()
    target, token, occ_id = bookings[0].id, cards[0].family_token, occ.id

    def cancel(_i):
        return app.test_client().post(f"/kort/{token}/avmelding/{target}").status_code

    assert set(parallel(N, cancel)) == {302}
    assert _assert_places(occ_id, 3) == 3
    assert _count(Booking, occasion_id=occ_id, status=BookingStatus.CANCELLED) == 1
    assert _count(Booking, occasion_id=occ_id, status=BookingStatus.WAITLISTED) == 4


def test_parallel_cancels_of_different_bookings_move_up_each_waiting_child_once(app, committing, muni, users):
    occ = _camp(users, 10)
    cards = [make_card(muni, users, f"Barn{i}") for i in range(30)]
    bookings = [booking_service.book(occ, c, actor=None) for c in cards]
    db.session.commit()
    booked = [(c.family_token, b.id) for c, b in zip(cards, bookings, strict=True) if b.status == "booked"]
    occ_id = occ.id

    def cancel(i):
        token, bid = booked[i % len(booked)]
        return app.test_client().post(f"/kort/{token}/avmelding/{bid}").status_code

    parallel(N, cancel)
    assert _assert_places(occ_id, 10) == 10
    assert _count(Booking, occasion_id=occ_id, status=BookingStatus.CANCELLED) == 10
    assert _count(Booking, occasion_id=occ_id, status=BookingStatus.WAITLISTED) == 10


def test_parallel_no_show_releases_give_each_place_away_once(app, committing, muni, users):
    occ = _camp(users, 3)
    cards = [make_card(muni, users, f"Barn{i}") for i in range(8)]
    for c in cards:
        booking_service.book(occ, c, actor=None)
    # The occasion has started and nobody came: the three booked are no-shows.
    occ.starts_at = datetime.now(UTC) - timedelta(hours=1)
    occ.ends_at = datetime.now(UTC) + timedelta(hours=1)
    db.session.execute(db.update(Booking).where(Booking.placed_at.is_not(None))
                       .values(placed_at=occ.starts_at - timedelta(days=1)))
    db.session.commit()
    occ_id, offer_id, sid = occ.id, occ.offer_id, users["partner"].get_id()

    def release(_i):
        client = _client_as(app, sid)
        return client.post(f"/mine-tilbud/{offer_id}/pameldte/{occ_id}/frigi").status_code

    assert set(parallel(N, release)) == {302}
    assert _assert_places(occ_id, 3) == 3
    assert _count(Booking, occasion_id=occ_id, status=BookingStatus.NO_SHOW) == 3


def test_parallel_scans_of_one_card_count_one_visit(app, committing, muni, users):
    from opplevelseskort.checkin.models import CheckIn

    offer = partners.save_offer(users["partner"], offer_values(), {})
    card = make_card(muni, users, "Sara")
    db.session.commit()
    raw = _api_token(app, users["partner"])
    body = {"code": card.short_code, "offer_id": offer.id}

    def scan(_i):
        return app.test_client().post("/api/v1/checkins", json=body,
                                      headers={"Authorization": f"Bearer {raw}"}).status_code

    statuses = Counter(parallel(N, scan))
    assert statuses == {201: 1, 200: N - 1}
    assert _count(CheckIn, card_id=card.id) == 1


@pytest.fixture
def pool(muni, users):
    from utstyr import services as utstyr
    from utstyr.models import ItemType, Location

    loc = Location(municipality_id=muni.id, name="Sentralen", solo_age=12)
    loc.volunteers.append(users["volunteer"])
    skis = ItemType(municipality_id=muni.id, name="Ski", category="ski", size="130 cm", default_loan_days=7)
    db.session.add_all([loc, skis])
    db.session.flush()
    units = utstyr.add_units(skis, loc, N)
    return loc, skis, units


def test_parallel_checkouts_of_one_unit_lend_it_once(app, committing, muni, users, pool):
    from utstyr.models import LoanLine

    _loc, _skis, units = pool
    cards = [make_card(muni, users, f"Barn{i}") for i in range(N)]
    db.session.commit()
    raw = _api_token(app, users["volunteer"])
    code, card_codes = units[0].label_code, [c.short_code for c in cards]

    def lend(i):
        return app.test_client().post("/api/v1/loans", json={"unit_codes": [code], "card_code": card_codes[i]},
                                      headers={"Authorization": f"Bearer {raw}"}).status_code

    statuses = Counter(parallel(N, lend))
    assert statuses == {201: 1, 409: N - 1}
    assert _count(LoanLine, unit_id=units[0].id) == 1


def test_parallel_first_loans_of_one_fresh_card_make_one_borrower(app, committing, muni, users, pool):
    from utstyr.models import Borrower, LoanLine

    _loc, _skis, units = pool
    card = make_card(muni, users, "Nora")
    db.session.commit()
    raw = _api_token(app, users["volunteer"])
    codes, card_code = [u.label_code for u in units], card.short_code

    def lend(i):
        return app.test_client().post("/api/v1/loans", json={"unit_codes": [codes[i]], "card_code": card_code},
                                      headers={"Authorization": f"Bearer {raw}"}).status_code

    statuses = Counter(parallel(N, lend))
    assert statuses == {201: N}
    assert _count(Borrower, card_id=card.id) == 1
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(LoanLine.id))) == N


def test_parallel_reservations_never_exceed_the_stock(app, committing, muni, users, pool):
    from utstyr import services as utstyr
    from utstyr.models import Reservation

    loc, skis, _units = pool
    borrowers = [utstyr.register_borrower(muni.id, kind="adult", name=f"Voksen {i}", phone=f"9000{i:04d}")
                 for i in range(N)]
    db.session.commit()
    ids, start, sid, loc_id, type_id = [b.id for b in borrowers], date.today() + timedelta(days=2), \
        users["volunteer"].get_id(), loc.id, skis.id

    def reserve(i):
        client = _client_as(app, sid)
        return client.post("/utstyr/reservasjoner", data={
            "location": loc_id, "borrower_id": ids[i], "item_type_id": type_id, "quantity": 7,
            "date_from": start.isoformat(), "date_to": (start + timedelta(days=2)).isoformat()}).status_code

    statuses = Counter(parallel(N, reserve))
    assert statuses == {302: N // 7, 422: N - N // 7}
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.sum(Reservation.quantity))) == 7 * (N // 7)


def test_parallel_outbox_runs_deliver_each_message_once(app, committing, monkeypatch):
    from opplevelseskort.core import outbox

    sent: list[int] = []
    lock = threading.Lock()

    def fake_send(msg):
        with lock:
            sent.append(msg.id)

    monkeypatch.setattr(outbox, "_send_sms", fake_send)
    with app.test_request_context():
        for i in range(N):
            outbox.enqueue("sms", f"9000{i:04d}", "Hei", "Melding", kind="test")
        db.session.commit()

    def run(_i):
        with app.app_context():
            return outbox.deliver_pending(limit=10)

    parallel(N // 5, run)
    assert len(sent) == N and len(set(sent)) == N
    assert _count(OutboxMessage, status=OutboxStatus.SENT) == N
