"""Partner registration, approval, suspension, offers, catalogue, bookings and the waiting list."""

from datetime import UTC, date, datetime, timedelta

import pytest

from opplevelseskort.accounts.models import User
from opplevelseskort.checkin import services as checkin
from opplevelseskort.core import validation
from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.models import OutboxMessage, Role
from opplevelseskort.extensions import db
from opplevelseskort.partners import bookings, services
from opplevelseskort.partners.models import Booking, BookingStatus, Occasion, Offer, Partner, PartnerStatus
from opplevelseskort.partners.services import create_staff_user

from ..factories import make_card, offer_values


@pytest.mark.parametrize("number, ok", [("974760673", True), ("923 609 016", True), ("974760672", False),
                                        ("12345678", False), ("abcdefghi", False), ("123456785", True)])
def test_org_number_modulus_11(number, ok):
    assert validation.valid_org_number(number) is ok


def _reg(**kw):
    base = dict(name="Nytt lag", org_number="982463718", kind="club", contact_name="Nils", contact_email="nils@lag.no")
    base.update(kw)
    return services.PartnerInput(**base)


def test_registration_waits_as_pending(muni):
    p = services.register_partner(muni, _reg())
    assert p.status == PartnerStatus.PENDING


@pytest.mark.parametrize("kw", [{"org_number": "982463719"}, {"org_number": "1234"}, {"contact_email": "nope"},
                                {"name": ""}])
def test_bad_registration_writes_nothing(muni, kw):
    with pytest.raises(DomainError):
        services.register_partner(muni, _reg(**kw))
    assert db.session.scalar(db.select(db.func.count(Partner.id))) == 0


def test_registration_form_rejects_bad_org_number(client, muni):
    r = client.post("/partnere/registrer", data={"name": "X", "org_number": "123456789", "kind": "club",
                                                 "contact_name": "N", "contact_email": "n@x.no"})
    assert r.status_code == 422 and "organisasjonsnummer" in r.text


def test_approval_creates_partner_user_and_invites(muni, users):
    p = services.register_partner(muni, _reg())
    user = services.approve_partner(p, actor=users["admin"])
    assert user.role == Role.PARTNER and services.partner_id_of(user) == p.id
    msg = db.session.scalar(db.select(OutboxMessage).filter_by(kind="partner_invite"))
    assert msg.recipient == "nils@lag.no"
    assert "/passord/ny/" in msg.body and "midlertidige" not in msg.body  # a link, never a password


def test_a_set_password_link_works_once_and_expires(client, muni, users, monkeypatch):
    import re

    from opplevelseskort.accounts import services as accounts

    p = services.register_partner(muni, _reg())
    user = services.approve_partner(p, actor=users["admin"])
    msg = db.session.scalar(db.select(OutboxMessage).filter_by(kind="partner_invite"))
    path = re.search(r"(/passord/ny/\S+)", msg.body).group(1)
    assert client.get(path).status_code == 200
    r = client.post(path, data={"new": "kort", "confirm": "kort"})
    assert r.status_code == 422  # the password rule, under the field; the link still works
    r = client.post(path, data={"new": "lag og klubb 2026", "confirm": "lag og klubb 2026"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/logg-inn")
    assert accounts.authenticate("nils@lag.no", "lag og klubb 2026").id == user.id
    assert client.get(path).status_code == 404  # used: the link named the password it replaced
    fresh = accounts.password_link_token(user)
    monkeypatch.setitem(client.application.config, "PASSWORD_LINK_HOURS", 0)
    import time

    time.sleep(1.1)
    assert client.get(f"/passord/ny/{fresh}").status_code == 404  # expired
    assert client.get("/passord/ny/forfalsket").status_code == 404


def test_reject_sends_reason(muni, users):
    p = services.register_partner(muni, _reg())
    services.reject_partner(p, "Ikke i kommunen", actor=users["admin"])
    assert "Ikke i kommunen" in db.session.scalar(db.select(OutboxMessage).filter_by(kind="partner_reject")).body


def test_suspended_partner_vanishes_and_cannot_edit(offer, partner_org, users):
    assert offer in services.catalogue(services.CatalogueFilter())
    services.suspend_partner(partner_org, "Avtalebrudd", actor=users["admin"])
    assert offer not in services.catalogue(services.CatalogueFilter())
    with pytest.raises(DomainError) as exc:
        services.save_offer(users["partner"], offer_values(), {}, offer=offer)
    assert exc.value.code == "partner_inactive"


def test_admin_pages_approve_via_http(client, login_as, muni):
    p = services.register_partner(muni, _reg())
    login_as("admin")
    assert client.post(f"/admin/partnere/{p.id}/godkjenn", data={}).status_code == 302
    assert db.session.get(Partner, p.id).status == PartnerStatus.APPROVED


def test_offer_text_falls_back_to_bokmal(offer):
    assert offer.text("en")[0] == "Football"
    assert offer.text("pl")[0] == "Fotball"
    assert offer.text("en")[1] == "Trening"


@pytest.mark.parametrize("kw", [{"title": ""}, {"age_min": 10, "age_max": 5}, {"end_date": date(2025, 1, 1)},
                                {"category": "gaming"}, {"price_nok": -1}])
def test_bad_offer_writes_nothing(users, kw):
    with pytest.raises(DomainError):
        services.save_offer(users["partner"], offer_values(**kw), {})
    assert db.session.scalar(db.select(db.func.count(Offer.id))) == 0


def test_partner_cannot_see_or_edit_other_partners_offer(client, offer, other_partner_org, muni):

    from ..conftest import login

    other = create_staff_user("other@p.no", "gront eple 47", Role.PARTNER, municipality_id=muni.id,
                              partner_id=other_partner_org.id)
    login(client, other)
    assert client.get(f"/mine-tilbud/{offer.id}").status_code == 404
    assert client.post(f"/mine-tilbud/{offer.id}", data={"title": "Hacked"}).status_code == 404
    assert "Fotball" not in client.get("/mine-tilbud").text
    assert db.session.get(Offer, offer.id).title == "Fotball"


def test_partner_creates_offer_through_form(client, login_as):
    login_as("partner")
    r = client.post("/mine-tilbud/ny", data={"title": "Teater", "category": "culture", "age_min": "8", "age_max": "14",
                                             "start_date": "2026-01-01", "end_date": "2026-12-31", "status": "published",
                                             "use_limit_period": "period", "price_nok": "150",
                                             "companions_allowed": "1", "title_en": "Theatre"})
    assert r.status_code == 302, r.text
    o = db.session.scalar(db.select(Offer).filter_by(title="Teater"))
    assert o.translations == {"en": {"title": "Theatre", "description": ""}}


def test_catalogue_filters(client, users, offer):
    services.save_offer(users["partner"], offer_values(title="Paradis bio", category="cinema", age_min=12, age_max=17), {})
    f = services.CatalogueFilter
    assert {o.title for o in services.catalogue(f(age=8))} == {"Fotball"}
    assert {o.title for o in services.catalogue(f(category="cinema"))} == {"Paradis bio"}
    assert {o.title for o in services.catalogue(f(text="paradis"))} == {"Paradis bio"}
    assert services.catalogue(f(on=date(2031, 1, 1))) == []
    r = client.get("/tilbud?age=8")
    assert r.status_code == 200 and "Fotball" in r.text and "Paradis bio" not in r.text
    r = client.get("/tilbud", headers={"Accept-Language": "en"})
    assert "Football" in r.text


def test_draft_offer_not_in_catalogue_and_page_404(client, users):
    o = services.save_offer(users["partner"], offer_values(status="draft"), {})
    assert client.get(f"/tilbud/{o.id}").status_code == 404


def test_booking_fills_then_waitlist_then_moves_up_on_cancel(camp, muni, users):
    a, b, c = (make_card(muni, users, n) for n in ("A", "B", "C"))
    ba = bookings.book(camp, a, actor=None)
    bb = bookings.book(camp, b, actor=None)
    bc = bookings.book(camp, c, actor=None)
    assert [ba.status, bb.status, bc.status] == ["booked", "booked", "waitlisted"]
    assert bookings.waitlist_position(bc) == 1
    promoted = bookings.cancel_booking(ba, actor=None)
    assert promoted.id == bc.id and bc.status == BookingStatus.BOOKED
    db.session.refresh(camp)
    assert camp.booked == 2
    assert db.session.scalar(db.select(OutboxMessage).filter_by(kind="booking_promoted"))


def test_same_child_cannot_book_twice(camp, muni, users):
    a = make_card(muni, users)
    bookings.book(camp, a, actor=None)
    with pytest.raises(DomainError) as exc:
        bookings.book(camp, a, actor=None)
    assert exc.value.code == "already_booked"


def test_database_refuses_overbooking(camp):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            camp.booked = 3
            db.session.flush()


def test_family_books_from_card_link(client, camp, muni, users):
    card = make_card(muni, users)
    r = client.post(f"/kort/{card.family_token}/pamelding/{camp.id}")
    assert r.status_code == 302
    assert db.session.scalar(db.select(Booking).filter_by(child_id=card.child_id)).status == "booked"
    page = client.get(f"/kort/{card.family_token}")
    assert "Leir" in page.text and "Avbestill" in page.text


def test_caseworker_books_on_behalf(client, login_as, camp, muni, users):
    card = make_card(muni, users)
    login_as("caseworker")
    r = client.post(f"/tilbud/{camp.offer_id}/pamelding/{camp.id}/pa-vegne", data={"card_code": card.short_code})
    assert r.status_code == 302
    assert db.session.scalar(db.select(Booking).filter_by(child_id=card.child_id)) is not None


def test_no_shows_released_to_waiting_list(camp, muni, users):
    a, b, c = (make_card(muni, users, n) for n in ("A", "B", "C"))
    bookings.book(camp, a, actor=None)
    bookings.book(camp, b, actor=None)
    wait = bookings.book(camp, c, actor=None)
    _started(camp)
    assert len(checkin.no_shows(camp)) == 2
    n = checkin.release_no_shows(camp, actor=users["partner"])
    assert n == 2 and wait.status == BookingStatus.BOOKED


def _started(occ, minutes=30):
    """Move an occasion's start into the past, its bookings' places to before that start."""
    occ.starts_at = datetime.now(UTC) - timedelta(minutes=minutes)
    db.session.execute(db.update(Booking).where(Booking.occasion_id == occ.id, Booking.placed_at.is_not(None))
                       .values(placed_at=occ.starts_at - timedelta(days=1)))
    db.session.flush()


def test_releasing_twice_does_not_burn_the_waiting_list(camp, muni, users):
    """A child moved up after the start has had no chance to come: a second release leaves them their place."""
    kids = [make_card(muni, users, n) for n in ("A", "B", "C", "D", "E")]
    for k in kids:
        bookings.book(camp, k, actor=None)
    _started(camp)
    assert checkin.release_no_shows(camp, actor=users["partner"]) == 2
    assert checkin.release_no_shows(camp, actor=users["partner"]) == 0
    assert db.session.scalar(db.select(db.func.count(Booking.id)).where(
        Booking.occasion_id == camp.id, Booking.status == BookingStatus.BOOKED)) == 2


def test_family_page_lists_offers_for_childs_age(client, offer, muni, users):
    card = make_card(muni, users, birth_year=2014)
    page = client.get(f"/kort/{card.family_token}")
    assert "Fotball" in page.text


@pytest.mark.pg
def test_concurrent_bookings_never_exceed_capacity(app, committing, muni, users):
    """Many simultaneous bookings at the last places: exactly the capacity is booked."""
    import threading

    o = services.save_offer(users["partner"], offer_values(title="Sommerleir", requires_booking=True), {})
    start = datetime.now(UTC) + timedelta(days=3)
    occ = services.add_occasion(o, start, start + timedelta(hours=6), 5, actor=users["partner"])
    cards = [make_card(muni, users, f"Barn{i}") for i in range(20)]
    db.session.commit()
    card_ids, occ_id = [c.id for c in cards], occ.id
    barrier = threading.Barrier(len(card_ids))
    results = []

    def worker(card_id):
        from opplevelseskort.cards.models import Card

        with app.app_context():
            barrier.wait()
            booking = bookings.book(db.session.get(Occasion, occ_id), db.session.get(Card, card_id), actor=None)
            db.session.commit()
            results.append(str(booking.status))

    threads = [threading.Thread(target=worker, args=(cid,)) for cid in card_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("booked") == 5 and results.count("waitlisted") == 15
    db.session.expire_all()
    assert db.session.get(Occasion, occ_id).booked == 5
    assert db.session.scalar(db.select(db.func.count(Booking.id)).where(Booking.status == "booked")) == 5
    _ = User


def test_offer_image_is_reencoded_and_bad_files_refused(client, login_as, offer, tmp_path):
    import io

    from PIL import Image

    login_as("partner")
    base = {"title": "Fotball", "category": "sport", "age_min": "6", "age_max": "16", "start_date": "2026-01-01",
            "end_date": "2030-12-31", "status": "published", "use_limit_period": "period", "price_nok": "200",
            "companions_allowed": "1"}
    r = client.post(f"/mine-tilbud/{offer.id}", data={**base, "image": (io.BytesIO(b"not an image"), "x.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "bilde" in r.text
    assert not db.session.get(Offer, offer.id).has_image
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(png, format="PNG")
    r = client.post(f"/mine-tilbud/{offer.id}", data={**base, "image": (io.BytesIO(png.getvalue()), "x.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    img = client.get(f"/tilbud/{offer.id}/bilde.jpg")
    assert img.status_code == 200 and img.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(img.data)).format == "JPEG"
    assert f"/tilbud/{offer.id}/bilde.jpg" in client.get(f"/tilbud/{offer.id}").text


def test_booking_on_behalf_without_a_card_code_goes_back_saying_so(client, login_as, camp):
    login_as("caseworker")
    r = client.post(f"/tilbud/{camp.offer_id}/pamelding/{camp.id}/pa-vegne", data={"card_code": ""})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tilbud/{camp.offer_id}")
    page = client.get(r.headers["Location"])
    assert '<p class="flash flash-error">Dette feltet er påkrevd.</p>' in page.text
    assert db.session.scalar(db.select(db.func.count(Booking.id))) == 0


def test_an_offers_opening_hours_are_typed_like_a_lending_locations(users, muni):
    """One format for both: the offer's hours go through the same parser, are stored typed and shown per line;
    a line that is no opening is named and nothing is saved."""
    from opplevelseskort.core.hours import OpeningHours

    values = offer_values(opening_hours="tirsdag 17–19\n2026-12-24 stengt")
    offer = services.save_offer(users["partner"], values, {})
    assert isinstance(offer.opening_hours, OpeningHours)
    assert [o.day for o in offer.opening_hours.weekly] == [1]
    assert offer.opening_hours.as_one_text() == "tirsdag 17:00–19:00\n2026-12-24 stengt"
    with pytest.raises(DomainError) as exc:
        services.save_offer(users["partner"], offer_values(title="Annet", opening_hours="når det passer"), {})
    assert "Åpningstider linje 1 «når det passer»" in exc.value.message
    assert db.session.scalar(db.select(db.func.count(Offer.id)).filter_by(title="Annet")) == 0


def test_the_schedule_gives_no_shows_places_to_the_waiting_list_once(camp, muni, users):
    from opplevelseskort.core import jobs

    a, b, c = (make_card(muni, users, n) for n in ("A", "B", "C"))
    bookings.book(camp, a, actor=None)
    bookings.book(camp, b, actor=None)
    wait = bookings.book(camp, c, actor=None)
    _started(camp, minutes=10)
    assert jobs.run_scheduled("release_no_shows").result == {"released": 0}  # too early: they may still come
    _started(camp, minutes=40)
    assert jobs.run_scheduled("release_no_shows").result == {"released": 2}
    assert wait.status == BookingStatus.BOOKED
    assert jobs.run_scheduled("release_no_shows").result == {"released": 0}  # idempotent


def test_the_admin_dashboard_counts_partners_waiting_for_approval(client, login_as, muni):
    for i in range(2):
        db.session.add(Partner(municipality_id=muni.id, name=f"Venter {i}", org_number=f"99999999{i}",
                               status=PartnerStatus.PENDING))
    db.session.flush()
    login_as("admin")
    page = client.get("/oversikt").text
    assert '<span class="count">2</span> partnere venter på godkjenning' in page
