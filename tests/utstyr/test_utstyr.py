"""The equipment pool: never one unit lent twice, refusals, returns, maintenance, reservations, reminders."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from opplevelseskort.cards.models import Card
from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.models import OutboxMessage
from opplevelseskort.extensions import db
from utstyr import overview, reservations, services
from utstyr.models import Loan, LoanLine, Unit, UnitStatus

from ..factories import make_card


def _loans():
    return db.session.scalar(db.select(db.func.count(Loan.id)))


def test_label_codes_catch_typos(units):
    code = units[0].label_code
    assert services.valid_label_code(code)
    wrong = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    assert not services.valid_label_code(wrong)


def test_card_holder_borrows_two_units(location, units, holder, users):
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    loan = services.checkout(location, b, [units[0].label_code, units[1].label_code.lower()], volunteer=users["volunteer"])
    assert len(loan.lines) == 2 and loan.due_on == services.today() + timedelta(days=7)
    assert {u.status for u in units[:2]} == {UnitStatus.ON_LOAN}


def test_unit_on_loan_is_refused_and_nothing_written(location, units, holder, users):
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    with pytest.raises(DomainError) as exc:
        services.checkout(location, b, [units[1].label_code, units[0].label_code], volunteer=users["volunteer"])
    assert exc.value.code == "unit_not_available" and exc.value.details["unit"] == units[0].label_code


@pytest.mark.parametrize("status", [UnitStatus.MAINTENANCE, UnitStatus.RETIRED, UnitStatus.LOST, UnitStatus.UNCHECKED])
def test_units_out_of_service_are_refused(location, units, holder, users, status):
    units[0].status = status
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    with pytest.raises(DomainError) as exc:
        services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    assert exc.value.code == "unit_not_available"
    assert _loans() == 0


def test_safety_item_past_expiry_is_not_lent(location, units, holder, users):
    units[0].safety_expires_on = date(2020, 1, 1)
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    with pytest.raises(DomainError) as exc:
        services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    assert exc.value.details["status"] == "safety_expired"


def test_blocked_borrower_is_refused(location, units, users, muni):
    b = services.register_borrower(muni.id, kind="adult", name="Per", phone="91234567")
    services.block_borrower(b, "Leverte ikke", actor=users["volunteer"])
    with pytest.raises(DomainError) as exc:
        services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    assert exc.value.code == "borrower_blocked"


def test_minor_without_guardian_consent_where_required(location, tent, users, muni):
    unit = services.add_units(tent, location, 1)[0]
    adult = services.register_borrower(muni.id, kind="adult", name="Mor", phone="91234567")
    kid = services.register_borrower(muni.id, kind="child", name="Kid", responsible=adult, birth_year=2010)
    with pytest.raises(DomainError) as exc:
        services.checkout(location, kid, [unit.label_code], volunteer=users["volunteer"])
    assert exc.value.code == "guardian_consent_required"
    kid.guardian_consent = True
    assert services.checkout(location, kid, [unit.label_code], volunteer=users["volunteer"])


def test_young_child_cannot_borrow_alone(location, units, users, muni):
    adult = services.register_borrower(muni.id, kind="adult", name="Far", phone="91234567")
    kid = services.register_borrower(muni.id, kind="child", name="Liten", responsible=adult,
                                     birth_year=services.today().year - 8, guardian_consent=True)
    with pytest.raises(DomainError) as exc:
        services.checkout(location, kid, [units[0].label_code], volunteer=users["volunteer"])
    assert exc.value.code == "too_young_alone"


def test_volunteer_only_at_own_locations(units, users, muni, location):
    from utstyr.models import Location

    other = Location(municipality_id=muni.id, name="Skolebua")
    db.session.add(other)
    db.session.flush()
    with pytest.raises(DomainError):
        services.require_location(users["volunteer"], other.id)


def test_database_refuses_a_second_open_line_for_a_unit(location, units, holder, users):
    from sqlalchemy.exc import IntegrityError

    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    loan = services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(LoanLine(loan_id=loan.id, unit_id=units[0].id))
            db.session.flush()


def test_return_needing_repair_goes_to_maintenance_and_back(location, units, holder, users):
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    services.checkout(location, b, [units[0].label_code, units[1].label_code], volunteer=users["volunteer"])
    services.return_unit(units[0].label_code, volunteer=users["volunteer"], condition="needs_repair")
    assert units[0].status == UnitStatus.MAINTENANCE and units[1].status == UnitStatus.ON_LOAN
    services.repaired(units[0], volunteer=users["volunteer"])
    assert units[0].status == UnitStatus.AVAILABLE


def test_unchecked_queue_and_lost(location, units, holder, users):
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    services.checkout(location, b, [units[0].label_code, units[1].label_code], volunteer=users["volunteer"])
    services.return_unit(units[0].label_code, volunteer=users["volunteer"], unchecked=True)
    assert units[0].status == UnitStatus.UNCHECKED
    services.finish_check(units[0], volunteer=users["volunteer"], condition="worn")
    assert units[0].status == UnitStatus.AVAILABLE and units[0].condition == "worn"
    services.return_unit(units[1].label_code, volunteer=users["volunteer"], lost=True)
    assert units[1].status == UnitStatus.LOST


def test_kit_checklist_notes_what_is_missing(location, tent, users, muni):
    unit = services.add_units(tent, location, 1)[0]
    adult = services.register_borrower(muni.id, kind="adult", name="Mor", phone="91234567")
    services.checkout(location, adult, [unit.label_code], volunteer=users["volunteer"])
    line = services.return_unit(unit.label_code, volunteer=users["volunteer"], checklist_in=["duk", "stenger"],
                                missing="en plugg knekt")
    assert line.checklist_out == ["duk", "stenger", "plugger"]
    assert line.missing == "plugger; en plugg knekt"


def test_reservation_never_promises_more_than_exist(location, units, skis, users, muni):
    b = services.register_borrower(muni.id, kind="group", name="5B", email="larer@skole.no")
    d1 = services.today() + timedelta(days=3)
    reservations.reserve(location, b, skis, 2, d1, d1 + timedelta(days=1), actor=users["volunteer"])
    assert reservations.available(location.id, skis.id, d1, d1) == 1
    with pytest.raises(DomainError) as exc:
        reservations.reserve(location, b, skis, 2, d1, d1, actor=users["volunteer"])
    assert exc.value.code == "reservation_exceeds_stock"
    assert reservations.reserve(location, b, skis, 2, d1 + timedelta(days=2), d1 + timedelta(days=3),
                            actor=users["volunteer"])


def test_reservations_expire_after_grace(location, units, skis, users, muni):
    b = services.register_borrower(muni.id, kind="adult", name="A", phone="91234567")
    d = services.today()
    r = reservations.reserve(location, b, skis, 1, d, d, actor=users["volunteer"])
    assert reservations.expire_reservations(d + timedelta(days=5)) == 1 and r.status == "expired"


def test_household_cap_at_peak(location, units, users, muni):
    location.household_cap, location.peak_from, location.peak_until = 1, date(2000, 1, 1), date(2100, 1, 1)
    adult = services.register_borrower(muni.id, kind="adult", name="Mor", phone="91234567")
    with pytest.raises(DomainError) as exc:
        services.checkout(location, adult, [units[0].label_code, units[1].label_code], volunteer=users["volunteer"])
    assert exc.value.code == "household_cap"


def test_reminders_due_soon_and_overdue_once(location, units, holder, users):
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    loan = services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    loan.due_on = services.today() + timedelta(days=1)
    assert overview.send_reminders() == (1, 0)
    assert overview.send_reminders() == (0, 0)
    loan.due_on = services.today() - timedelta(days=2)
    assert overview.send_reminders() == (0, 1)
    kinds = set(db.session.scalars(db.select(OutboxMessage.kind)))
    assert {"loan_due_soon", "loan_overdue"} <= kinds
    assert [line.unit_id for line in overview.overdue_lines(users["volunteer"])] == [units[0].id]


def test_statistics_and_unmet_demand(location, units, holder, users):
    b = services.borrower_for_card(holder.short_code, location.municipality_id)
    services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    overview.record_unmet_demand(location, category="ski", size="160 cm", volunteer=users["volunteer"])
    overview.record_unmet_demand(location, category="ski", size="160 cm", volunteer=users["volunteer"])
    stats = overview.statistics([location.id], services.today().year)
    assert stats["per_category_month"][0][0] == "ski" and stats["per_category_month"][0][2] == 1
    assert set(stats["never_lent"]) == {units[1].label_code, units[2].label_code}
    assert stats["unmet"] == [("ski", "160 cm", 2)]


def test_label_pdf_qr_codes_decode_to_label_codes(units, tmp_path):
    """Render the PDF with poppler and decode every QR with zxing-cpp (an independent decoder)."""
    import shutil
    import subprocess

    import zxingcpp
    from PIL import Image

    from utstyr.label_sheets import label_sheet

    if shutil.which("pdftoppm") is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm missing")
        pytest.skip("pdftoppm (poppler-utils) not installed")
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(label_sheet(units))
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    page = sorted(tmp_path.glob("page*.png"))[0]
    decoded = {r.text for r in zxingcpp.read_barcodes(Image.open(page))}
    assert decoded == {u.label_code for u in units}


def test_api_loan_and_conflict_and_return(client, location, units, holder, users):
    from opplevelseskort.accounts import tokens as api_tokens

    raw = api_tokens.create_token(users["volunteer"], "x")[1]
    h = {"Authorization": f"Bearer {raw}"}
    r = client.post("/api/v1/loans", json={"unit_codes": [units[0].label_code], "card_code": holder.short_code},
                    headers=h)
    assert r.status_code == 201
    r2 = client.post("/api/v1/loans", json={"unit_codes": [units[0].label_code], "card_code": holder.short_code},
                     headers=h)
    assert r2.status_code == 409 and r2.json["error"] == "unit_not_available" and r2.json["unit"] == units[0].label_code
    r3 = client.post(f"/api/v1/loans/{r.json['id']}/return", json={"condition": "needs_repair"}, headers=h)
    assert r3.status_code == 200 and r3.json["lines"][0]["returned_at"]


def test_pages_for_volunteer_and_refused_for_partner(client, login_as, location, units):
    login_as("volunteer")
    for path in ["/utstyr/", "/utstyr/utlan", "/utstyr/retur", "/utstyr/enheter", "/utstyr/statistikk",
                 "/utstyr/lanere/ny"]:
        assert client.get(path).status_code == 200, path
    assert client.get("/utstyr/etiketter.pdf").data.startswith(b"%PDF")
    login_as("partner")
    assert client.get("/utstyr/utlan").status_code == 403


def test_public_page_shows_free_today(client, units):
    r = client.get("/utstyr/lan")
    assert r.status_code == 200 and "Ski 130 cm" in r.text
    assert '<td class="num">3 av 3</td>' in r.text  # three units, all free today


def test_checkout_page_refusal_writes_nothing(client, login_as, location, units, holder):
    login_as("volunteer")
    r = client.post("/utstyr/utlan", data={"card_code": holder.short_code, "unit_codes": "UAAAAAAA"})
    assert r.status_code == 422 and "Ukjent etikett" in r.text
    assert _loans() == 0


@pytest.mark.pg
def test_two_volunteers_scanning_the_same_unit_at_once(app, committing, muni, users, location, units, holder):
    import threading

    from opplevelseskort.accounts.models import User
    from utstyr.models import Borrower, Location

    b = services.borrower_for_card(holder.short_code, muni.id)
    db.session.commit()
    code, loc_id, b_id, vol_id = units[0].label_code, location.id, b.id, users["volunteer"].id
    barrier = threading.Barrier(8)
    results = []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                services.checkout(db.session.get(Location, loc_id), db.session.get(Borrower, b_id), [code],
                                  volunteer=db.session.get(User, vol_id))
                db.session.commit()
                results.append("ok")
            except DomainError as exc:
                db.session.rollback()
                results.append(exc.code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and results.count("unit_not_available") == 7
    assert db.session.scalar(db.select(db.func.count(LoanLine.id))) == 1
    _ = (UTC, datetime)


def test_reservation_page_and_calendar(client, login_as, location, units, skis, muni):
    b = services.register_borrower(muni.id, kind="group", name="5B", email="l@s.no")
    login_as("volunteer")
    d = (services.today() + timedelta(days=2)).isoformat()
    r = client.post("/utstyr/reservasjoner", data={"borrower_id": b.id, "item_type_id": skis.id, "quantity": 2,
                                                   "date_from": d, "date_to": d})
    assert r.status_code == 302
    page = client.get(f"/utstyr/reservasjoner?type={skis.id}")
    # the volunteer at the desk sees who reserved (name and number), and can open the borrower
    assert page.status_code == 200 and f'href="/utstyr/lanere/{b.id}">5B (låner {b.id})</a>' in page.text
    r = client.post("/utstyr/reservasjoner", data={"borrower_id": b.id, "item_type_id": skis.id, "quantity": 2,
                                                   "date_from": d, "date_to": d})
    assert r.status_code == 422 and "Bare 1 ledige" in r.text


def test_admin_creates_location_and_ties_volunteers(client, login_as, users, muni):
    from utstyr.models import Location

    login_as("admin")
    r = client.post("/utstyr/steder", data={"name": "Skolebua", "volunteers": "nobody@x.no"})
    assert r.status_code == 422 and "nobody@x.no" in r.text
    r = client.post("/utstyr/steder", data={"name": "Skolebua", "volunteers": users["volunteer"].email})
    assert r.status_code == 302
    loc = db.session.scalar(db.select(Location).filter_by(name="Skolebua"))
    assert [v.id for v in loc.volunteers] == [users["volunteer"].id]
    assert loc in services.locations_for(users["volunteer"])


def test_kit_return_page_shows_checklist_and_records_missing(client, login_as, location, tent, users, muni):
    unit = services.add_units(tent, location, 1)[0]
    adult = services.register_borrower(muni.id, kind="adult", name="Mor", phone="91234567")
    services.checkout(location, adult, [unit.label_code], volunteer=users["volunteer"])
    login_as("volunteer")
    r = client.post("/utstyr/retur", data={"unit_code": unit.label_code, "condition": "good"})
    assert r.status_code == 302 and "unit_code=" in r.headers["Location"]  # a kit: tick the checklist first
    page = client.get(r.headers["Location"])
    assert 'name="kit" value="plugger"' in page.text
    r = client.post("/utstyr/retur", data={"unit_code": unit.label_code, "condition": "good", "kit_shown": "1",
                                           "kit": ["duk", "stenger"]})
    assert r.status_code == 302
    line = db.session.scalar(db.select(LoanLine).filter_by(unit_id=unit.id))
    assert line.missing == "plugger" and line.checklist_in == ["duk", "stenger"]


def test_block_and_unblock_borrower_page(client, login_as, location, units, muni):
    b = services.register_borrower(muni.id, kind="adult", name="Per", phone="91234567")
    login_as("volunteer")
    r = client.post(f"/utstyr/lanere/{b.id}", data={"action": "block", "reason": ""})
    assert r.status_code == 422 and db.session.get(type(b), b.id).blocked_at is None
    assert client.post(f"/utstyr/lanere/{b.id}", data={"action": "block", "reason": "Leverte ikke"}).status_code == 302
    assert db.session.get(type(b), b.id).blocked_reason == "Leverte ikke"
    assert client.post(f"/utstyr/lanere/{b.id}", data={"action": "unblock"}).status_code == 302
    assert db.session.get(type(b), b.id).blocked_at is None


def test_item_type_photo_upload_and_public_page(client, login_as, location):
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (30, 30), "blue").save(png, format="PNG")
    login_as("volunteer")
    r = client.post("/utstyr/enheter", data={"name": "Hjelm", "category": "helmet", "size": "M", "default_loan_days": 7,
                                             "count": 2, "photo": (io.BytesIO(b"junk"), "h.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    from utstyr.models import ItemType, Unit

    assert db.session.scalar(db.select(db.func.count(Unit.id))) == 0
    r = client.post("/utstyr/enheter", data={"name": "Hjelm", "category": "helmet", "size": "M", "default_loan_days": 7,
                                             "count": 2, "photo": (io.BytesIO(png.getvalue()), "h.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    it = db.session.scalar(db.select(ItemType).filter_by(name="Hjelm"))
    assert it.has_photo and client.get(f"/utstyr/bilde/{it.id}.jpg").mimetype == "image/jpeg"
    assert f"/utstyr/bilde/{it.id}.jpg" in client.get("/utstyr/lan").text


def test_location_opening_hours_shown_publicly(client, login_as, users, skis, muni):
    login_as("admin")
    r = client.post("/utstyr/steder", data={"name": "Bua", "address": "Storgata 1", "hours": "man–ons 15–19\ntorsdag 15:30–19",
                                            "exceptions": "2030-12-24 stengt\n2020-01-01 stengt",
                                            "volunteers": users["volunteer"].email})
    assert r.status_code == 302
    from utstyr.models import Location

    loc = db.session.scalar(db.select(Location).filter_by(name="Bua"))
    assert [o.day for o in loc.opening_hours.weekly] == [0, 1, 2, 3]
    services.add_units(skis, loc, 1)
    page = client.get("/utstyr/lan").text
    assert "<li>mandag 15:00–19:00</li>" in page and "<li>onsdag 15:00–19:00</li>" in page
    assert "<li>torsdag 15:30–19:00</li>" in page and "24. desember 2030: stengt" in page
    assert "2020" not in page  # past exceptions are not shown
    assert "Adresse: Storgata 1" in page
    title = page.split("<title>")[1].split("</title>")[0]
    assert "<" not in title and "Åpningstider" not in title
    en = client.get("/utstyr/lan?sprak=en").text
    assert "<li>Monday 15:00–19:00</li>" in en


def test_opening_hours_written_by_older_versions_read_as_days_not_keys(app, location):
    from opplevelseskort.core.hours import OpeningHours

    hours = OpeningHours.from_json({"weekly": {"1": "15-19", "3": "15-19", "5": "12-16"}})
    assert hours.lines() == ["tirsdag 15:00–19:00", "torsdag 15:00–19:00", "lørdag 12:00–16:00"]
    assert OpeningHours.from_json({"weekly": ["mandag 15–19"]}).lines() == ["mandag 15:00–19:00"]
    location.opening_hours = {"weekly": {"0": "10-12"}}  # the demo's shape is stored in the one typed shape
    db.session.flush()
    raw = db.session.execute(sa.text("SELECT opening_hours FROM location WHERE id = :i"), {"i": location.id}).scalar()
    assert (json.loads(raw) if isinstance(raw, str) else raw) == {
        "weekly": [{"day": 0, "opens": "10:00", "closes": "12:00"}], "exceptions": []}


def test_bad_opening_hours_are_named_and_nothing_is_saved(client, login_as, users):
    login_as("admin")
    r = client.post("/utstyr/steder", data={"name": "Bua", "hours": "mandag 15–19\nblimsdag 15–19\nfredag 19–15",
                                            "exceptions": "24.12 stengt"})
    assert r.status_code == 422
    assert "linje 2 «blimsdag 15–19»" in r.text and "linje 3 «fredag 19–15»" in r.text
    assert "Unntak linje 1 «24.12 stengt»" in r.text
    from utstyr.models import Location

    assert db.session.scalar(db.select(Location).filter_by(name="Bua")) is None


def test_a_location_can_be_changed_after_it_is_made(client, login_as, users, location):
    from opplevelseskort.core.models import AuditLog

    login_as("admin")
    page = client.get(f"/utstyr/steder/{location.id}").text
    assert f'value="{location.name}"' in page
    r = client.post(f"/utstyr/steder/{location.id}", data={"name": "Bua Sentrum", "address": "Torget 2",
                                                           "hours": "fredag 12–16", "exceptions": "",
                                                           "volunteers": users["volunteer"].email})
    assert r.status_code == 302
    db.session.refresh(location)
    assert location.name == "Bua Sentrum" and location.address == "Torget 2"
    assert location.opening_hours.as_text() == ("fredag 12:00–16:00", "")
    assert [v.email for v in location.volunteers] == [users["volunteer"].email]
    assert db.session.scalar(db.select(AuditLog).filter_by(action="location.update", object_id=str(location.id)))
    assert "fredag 12:00–16:00" in client.get(f"/utstyr/steder/{location.id}").text
    login_as("volunteer")
    assert client.get(f"/utstyr/steder/{location.id}").status_code == 403


def test_kit_checklist_is_ticked_at_hand_out(client, login_as, location, tent, users, muni):
    unit = services.add_units(tent, location, 1)[0]
    adult = services.register_borrower(muni.id, kind="adult", name="Mor", phone="91234567")
    login_as("volunteer")
    r = client.post("/utstyr/utlan", data={"borrower_id": adult.id, "unit_codes": unit.label_code})
    assert r.status_code == 200 and f'name="kit-{unit.label_code}" value="stenger"' in r.text
    assert db.session.scalar(db.select(db.func.count(Loan.id))) == 0  # nothing recorded before the ticks
    r = client.post("/utstyr/utlan", data={"borrower_id": adult.id, "unit_codes": unit.label_code, "kit_shown": "1",
                                           f"kit-{unit.label_code}": ["duk", "stenger"]})
    assert r.status_code == 302
    line = db.session.scalar(db.select(LoanLine).filter_by(unit_id=unit.id))
    assert line.checklist_out == ["duk", "stenger"]


# --- volunteers see who has what -------------------------------------------------------------

def test_borrower_search_by_name_phone_card_code_and_number(client, login_as, location, users, muni):
    card_borrower = services.borrower_for_card(make_card(muni, users, "Kari").short_code, muni.id)
    other = services.register_borrower(muni.id, kind="adult", name="Ola Nordmann", phone="+47 912 34 567",
                                       actor=users["volunteer"])
    db.session.commit()
    login_as("volunteer")
    # the card holder Kari Nordmann (guardian +47 912 34 567) is found by family name and phone too
    both = {card_borrower.id, other.id}
    assert {b.id for b in services.search_borrowers(muni.id, "nordm")} == both
    assert {b.id for b in services.search_borrowers(muni.id, "91234567")} == both
    assert {b.id for b in services.search_borrowers(muni.id, "912 34")} == both
    assert [b.id for b in services.search_borrowers(muni.id, "ola")] == [other.id]
    code = db.session.get(Card, card_borrower.card_id).short_code
    assert [b.id for b in services.search_borrowers(muni.id, f"{code[:3]}-{code[3:6]}-{code[6:]}")] == [card_borrower.id]
    assert [b.id for b in services.search_borrowers(muni.id, str(other.id))] == [other.id]
    assert services.search_borrowers(muni.id, "x") == []
    page = client.get("/utstyr/lanere?q=Nordmann").text
    assert f'href="/utstyr/lanere/{other.id}"' in page and "Ola Nordmann" in page
    assert "Ingen lånere passer" in client.get("/utstyr/lanere?q=Zzzz").text


def test_borrower_page_lists_current_and_past_loans_and_reservations(client, login_as, location, skis, users, muni):
    b = services.register_borrower(muni.id, kind="adult", name="Ola Nordmann", phone="45 67 89 01")
    u1, u2 = services.add_units(skis, location, 2)
    services.checkout(location, b, [u1.label_code], volunteer=users["volunteer"])
    services.checkout(location, b, [u2.label_code], volunteer=users["volunteer"])
    services.return_unit(u2.label_code, volunteer=users["volunteer"])
    today = services.today()
    r = reservations.reserve(location, b, skis, 1, today + timedelta(days=3), today + timedelta(days=5),
                         actor=users["volunteer"])
    db.session.commit()
    login_as("volunteer")
    page = client.get(f"/utstyr/lanere/{b.id}").text
    now = page.split("<h2>Har nå</h2>")[1].split("<h2>Reservasjoner</h2>")[0]
    past = page.split("<h2>Tidligere lån</h2>")[1]
    assert u1.label_code in now and u2.label_code not in now
    assert u2.label_code in past
    assert "Avbestill" in page.split("<h2>Reservasjoner</h2>")[1].split("<h2>Tidligere lån</h2>")[0]
    # cancel from the borrower page: audited, and the page says so
    token = page.split('name="csrf_token" value="')[1].split('"')[0] if 'name="csrf_token" value="' in page else ""
    resp = client.post(f"/utstyr/reservasjoner/{r.id}/avbestill",
                       data={"csrf_token": token, "next": f"/utstyr/lanere/{b.id}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/utstyr/lanere/{b.id}")
    db.session.refresh(r)
    assert r.status == "cancelled"
    from opplevelseskort.core.models import AuditLog

    assert db.session.scalar(db.select(AuditLog).filter_by(action="reservation.cancel", object_id=str(r.id)))
    again = client.post(f"/utstyr/reservasjoner/{r.id}/avbestill", data={"csrf_token": token}, follow_redirects=True)
    assert "ikke aktiv lenger" in again.text


def test_reservations_name_the_borrower_and_checkout_names_borrower_and_due_date(client, login_as, location, skis,
                                                                                 users, muni):
    b = services.register_borrower(muni.id, kind="adult", name="Ola Nordmann", phone="45 67 89 01")
    unit = services.add_units(skis, location, 2)[0]
    today = services.today()
    reservations.reserve(location, b, skis, 1, today + timedelta(days=3), today + timedelta(days=5),
                     actor=users["volunteer"])
    db.session.commit()
    login_as("volunteer")
    page = client.get("/utstyr/reservasjoner").text
    assert "Ola Nordmann" in page and f'href="/utstyr/lanere/{b.id}"' in page and "Avbestill" in page
    r = client.post("/utstyr/utlan", data={"borrower_id": b.id, "unit_codes": unit.label_code,
                                           "due_on": (today + timedelta(days=7)).isoformat()}, follow_redirects=True)
    assert f"Utlånt til Ola Nordmann (låner {b.id}): 1 enheter" in r.text
    from flask_babel import format_date

    with client.application.test_request_context():
        assert format_date(today + timedelta(days=7), "d. MMMM y") in r.text


def test_another_municipalitys_reservation_cannot_be_cancelled(client, login_as, location, skis, users, muni,
                                                               other_muni):
    from utstyr.models import Location

    far = Location(municipality_id=other_muni.id, name="Langt unna")
    db.session.add(far)
    db.session.flush()
    b = services.register_borrower(other_muni.id, kind="adult", name="Fremmed", phone="40000000")
    services.add_units(skis, far, 1)
    from utstyr.models import Reservation

    r = Reservation(borrower_id=b.id, location_id=far.id, item_type_id=skis.id, quantity=1,
                    date_from=services.today(), date_to=services.today())
    db.session.add(r)
    db.session.commit()
    login_as("volunteer")
    client.post(f"/utstyr/reservasjoner/{r.id}/avbestill", data={})
    db.session.refresh(r)
    assert r.status == "active"


def test_an_item_type_is_made_once_per_name_and_size(client, login_as, location, users, muni):
    from utstyr.models import ItemType

    login_as("volunteer")
    for _ in range(2):
        r = client.post("/utstyr/enheter", data={"name": " Truger ", "size": "M", "category": "other", "count": 2,
                                                 "default_loan_days": 7})
        assert r.status_code == 302
    types = list(db.session.scalars(db.select(ItemType).filter_by(name="Truger")))
    assert len(types) == 1 and types[0].size == "M"
    assert db.session.scalar(db.select(sa.func.count()).select_from(Unit).where(Unit.item_type_id == types[0].id)) == 4
    # and the database itself refuses a second row, whoever writes it
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(ItemType(municipality_id=muni.id, name="Truger", size="M", category="other"))
        db.session.flush()


def test_an_unmet_wish_without_a_category_goes_back_saying_so(client, login_as, location):
    from utstyr.models import UnmetDemand

    login_as("volunteer")
    r = client.post("/utstyr/mangler", data={"category": "rocket", "size": ""})
    assert r.status_code == 302 and r.headers["Location"].endswith("/utstyr/")
    assert '<p class="flash flash-error">Ikke et gyldig valg</p>' in client.get("/utstyr/").text
    assert db.session.scalar(db.select(db.func.count(UnmetDemand.id))) == 0


def test_the_desk_finds_a_card_holder_by_family_name_and_guardian_phone(client, login_as, muni, users, location,
                                                                        holder):
    """A card-holder borrower is stored by given name only; the desk finds them as a library finds a member: by
    the child's family name and a guardian's phone, and shows the full name and the phone."""
    borrower = services.borrower_for_card(holder.short_code, muni.id)
    assert services.search_borrowers(muni.id, "Nordmann") == [borrower]
    assert services.search_borrowers(muni.id, "912 34 567") == [borrower]
    login_as("volunteer")
    page = client.get("/utstyr/lanere?q=nordmann").text
    assert "Lars Nordmann" in page and "+4791234567" in page
