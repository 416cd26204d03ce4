"""The card page is the family's whole record: upcoming bookings and waiting places, past visits, equipment on
loan with its due date and what was returned, in the family's language; nothing a partner or passer-by could read
about why the child has a card."""

from datetime import UTC, date, datetime, timedelta

from opplevelseskort.cards import services as cards
from opplevelseskort.checkin import services as checkin
from opplevelseskort.extensions import db
from opplevelseskort.partners import bookings as partners
from utstyr import services as equipment

from .. import factories


def _visit(card, offer, users, at):
    return checkin.record_checkin(card.short_code, offer, actor=users["partner"], at=at)


def test_card_page_shows_visits_loans_returns_and_bookings(client, muni, users, zone_set):
    card = factories.make_card(muni, users, "Iben")
    football = factories.offer(users, title="Fotball")
    swim = factories.offer(users, title="Svømming", translations={"pl": {"title": "Pływanie", "description": ""}})
    _visit(card, football, users, datetime.now(UTC) - timedelta(days=3))
    voided = _visit(card, swim, users, datetime.now(UTC)).checkin
    checkin.void_checkin(voided, "feil kort", actor=users["partner"])
    course = factories.offer(users, title="Klatrekurs", requires_booking=True)
    occ = factories.occasion(course, users, in_days=4, capacity=1)
    partners.book(occ, card, actor=None)
    full = factories.offer(users, title="Dans", requires_booking=True)
    full_occ = factories.occasion(full, users, in_days=5, capacity=1)
    partners.book(full_occ, factories.make_card(muni, users, "Ola"), actor=None)
    partners.book(full_occ, card, actor=None)  # waiting list, number 1
    loc = factories.location(muni, [users["volunteer"]], name="BUA Sentrum")
    skis, helmet = factories.item_type(muni), factories.item_type(muni, name="Hjelm", category="other", size="M")
    ski_unit = equipment.add_units(skis, loc, 1)[0]
    helmet_unit = equipment.add_units(helmet, loc, 1)[0]
    borrower = equipment.borrower_for_card(card.short_code, muni.id)
    due = date.today() + timedelta(days=5)
    equipment.checkout(loc, borrower, [ski_unit.label_code, helmet_unit.label_code], volunteer=users["volunteer"],
                       due_on=due)
    equipment.return_unit(helmet_unit.label_code, volunteer=users["volunteer"])
    db.session.commit()

    page = client.get(f"/kort/{card.family_token}").text
    main = page.split("<main", 1)[1]
    visits = main.split('id="history-heading"', 1)[1]
    assert "Fotball, Testby IL" in visits  # the visit, with its partner
    assert "Svømming" not in visits  # a voided visit is not a visit
    assert "Klatrekurs" in main and "Har plass" in main
    assert "Dans" in main and "venteliste, nummer 1" in main
    loans = main.split('id="loans-heading"', 1)[1].split("</section>", 1)[0]
    assert "Ski 130 cm" in loans and "BUA Sentrum" in loans and "leveres senest" in loans
    assert "Hjelm" not in loans
    assert "Levert tilbake" in visits and "Hjelm M" in visits
    for private in ("Nordmann", "2014", "91234567", "lavinntekt", "channel", "school"):
        assert private not in main, private


def test_card_page_record_is_in_the_familys_language_and_overdue_says_so(client, muni, users, zone_set):
    card = factories.make_card(muni, users, "Iben")
    swim = factories.offer(users, title="Svømming", translations={"pl": {"title": "Pływanie", "description": ""}})
    _visit(card, swim, users, datetime.now(UTC) - timedelta(days=1))
    loc = factories.location(muni, [users["volunteer"]])
    unit = equipment.add_units(factories.item_type(muni), loc, 1)[0]
    loan = equipment.checkout(loc, equipment.borrower_for_card(card.short_code, muni.id), [unit.label_code],
                              volunteer=users["volunteer"], due_on=date.today() + timedelta(days=1))
    loan.due_on = date.today() - timedelta(days=2)  # two days late
    db.session.commit()
    page = client.get(f"/kort/{card.family_token}?sprak=pl").text
    assert "Pływanie" in page and "Svømming" not in page.split("<main", 1)[1]
    assert "powinien zostać zwrócony" in page  # "should have been returned", in Polish
    assert "skulle vært levert" not in page


def test_replaced_card_page_keeps_no_record(client, muni, users, zone_set):
    card = factories.make_card(muni, users, "Iben")
    _visit(card, factories.offer(users, title="Fotball"), users, datetime.now(UTC) - timedelta(days=1))
    cards.replace_lost_card(card, actor=users["caseworker"])
    db.session.commit()
    page = client.get(f"/kort/{card.family_token}").text
    assert "Fotball" not in page and "erstattet" in page
