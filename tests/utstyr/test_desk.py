"""The lending desk works like a library desk: the borrower is found inside the checkout and reservation forms
(name, guardian's phone, card code or number), a loan registered afterwards may carry a past due date with a
reason, and overdue is driven by a frozen clock."""

from datetime import date, timedelta

from opplevelseskort.core.models import AuditLog, OutboxMessage
from opplevelseskort.extensions import db
from utstyr import overview, services
from utstyr.models import Loan

from ..factories import make_card


def _holder(muni, users, location):
    card = make_card(muni, users, "Emma")  # family name Nordmann, guardian phone 91234567 (factories)
    return card, services.borrower_for_card(card.short_code, location.municipality_id)


def test_checkout_form_finds_the_borrower_by_family_name_phone_and_code(client, login_as, muni, users, location,
                                                                        units, zone_set):
    card, b = _holder(muni, users, location)
    db.session.commit()
    login_as("volunteer")
    for query in ("Nordmann", "912 34 567", card.short_code):
        page = client.get(f"/utstyr/utlan?finn={query}").text
        assert "Emma Nordmann" in page and f"/utstyr/utlan?location={location.id}&amp;laaner={b.id}" in page, query
    chosen = client.get(f"/utstyr/utlan?laaner={b.id}").text
    assert f'id="borrower_id" name="borrower_id" type="number" value="{b.id}"' in chosen or \
        f'value="{b.id}"' in chosen.split('id="borrower_id"', 1)[1][:200]
    assert "Valgt låner: Emma Nordmann" in chosen
    r = client.post("/utstyr/utlan", data={"borrower_id": b.id, "unit_codes": units[0].label_code})
    assert r.status_code == 302


def test_reservation_form_finds_the_borrower_too(client, login_as, muni, users, location, units, zone_set, skis):
    _card, b = _holder(muni, users, location)
    db.session.commit()
    login_as("volunteer")
    page = client.get(f"/utstyr/reservasjoner?type={skis.id}&finn=Nordmann").text
    assert "Emma Nordmann" in page and f"laaner={b.id}" in page and f"type={skis.id}" in page
    assert "Valgt låner: Emma Nordmann" in client.get(f"/utstyr/reservasjoner?laaner={b.id}").text


def test_another_municipalitys_borrower_is_never_chosen(client, login_as, muni, users, location, units, zone_set,
                                                        other_muni):
    from utstyr.models import Borrower

    stranger = Borrower(municipality_id=other_muni.id, kind="adult", name="Fremmed Person")
    db.session.add(stranger)
    db.session.commit()
    login_as("volunteer")
    page = client.get(f"/utstyr/utlan?laaner={stranger.id}&finn=Fremmed").text
    assert "Fremmed Person" not in page and "Valgt låner" not in page


def test_a_loan_registered_afterwards_needs_a_reason_for_its_past_due_date(client, login_as, muni, users, location,
                                                                          units, zone_set, frozen_clock):
    _card, b = _holder(muni, users, location)
    db.session.commit()
    login_as("volunteer")
    past = (services.today() - timedelta(days=2)).isoformat()
    r = client.post("/utstyr/utlan", data={"borrower_id": b.id, "unit_codes": units[0].label_code, "due_on": past})
    assert r.status_code == 422
    assert "skriv hvorfor" in r.text.split('id="late_reason-error"', 1)[1][:300]
    assert db.session.scalar(db.select(db.func.count(Loan.id))) == 0
    r = client.post("/utstyr/utlan", data={"borrower_id": b.id, "unit_codes": units[0].label_code, "due_on": past,
                                           "late_reason": "fra papirlisten, utlånt 1. mars"})
    assert r.status_code == 302
    entry = db.session.scalar(db.select(AuditLog).filter_by(action="loan.create"))
    assert entry.details["late_reason"] == "fra papirlisten, utlånt 1. mars" and entry.details["due_on"] == past
    assert [line.unit_id for line in overview.overdue_lines(users["volunteer"])] == [units[0].id]  # overdue at once


def test_overdue_follows_the_clock(client, login_as, muni, users, location, units, zone_set, frozen_clock):
    _card, b = _holder(muni, users, location)
    loan = services.checkout(location, b, [units[0].label_code], volunteer=users["volunteer"])
    assert loan.due_on == date(2026, 3, 17)  # seven days from the frozen "today", 10 March 2026
    db.session.commit()
    assert overview.overdue_lines(users["volunteer"]) == []
    frozen_clock.move(days=6)  # 16 March: due tomorrow
    assert overview.send_reminders() == (1, 0) and overview.overdue_lines(users["volunteer"]) == []
    frozen_clock.move(days=2)  # 18 March: a day late
    assert [line.unit_id for line in overview.overdue_lines(users["volunteer"])] == [units[0].id]
    assert overview.send_reminders() == (0, 1)
    sent = db.session.scalar(db.select(db.func.count(OutboxMessage.id)).filter_by(kind="loan_overdue"))
    assert sent >= 1
    frozen_clock.move(days=1)
    assert overview.send_reminders() == (0, 0)  # once per loan, however long it stays late
    login_as("volunteer")
    home = client.get("/utstyr/").text
    assert f"<li>{units[0].label_code} (Ski 130 cm) – skulle vært levert 17.03.2026" in home
    assert "Ingenting er forfalt." not in home
