"""A volunteer on a phone lends two units to a card holder and takes one back as needing repair."""

import pytest
from playwright.sync_api import expect

from opplevelseskort.extensions import db
from utstyr.models import Unit, UnitStatus

from .conftest import login
from .test_cards_checkin import _partner_card

pytestmark = pytest.mark.browser


def scroll_fits(p) -> bool:
    return p.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_volunteer_checkout_and_return_on_phone(phone_page, live_server, live_app, axe_check):
    code, _url, _offer = _partner_card(live_app, name="Utstyrsbarn")
    with live_app.app_context():
        units = list(db.session.scalars(db.select(Unit).where(Unit.status == UnitStatus.AVAILABLE)
                                        .order_by(Unit.id).limit(2)))
        a, b = units[0].label_code, units[1].label_code
    p = phone_page
    login(p, live_server.url, "frivillig@demo.no")
    p.goto(live_server.url + "/utstyr/")
    axe_check(p)
    p.goto(live_server.url + "/utstyr/utlan")
    axe_check(p)
    p.fill("#card_code", code)
    p.fill("#unit_codes", f"{a}\n{b}")
    p.get_by_role("button", name="Registrer utlån").click()
    p.get_by_text("Utlånt til Utstyrsbarn").wait_for()  # the confirmation names the borrower and due date
    expect(p.get_by_text("2 enheter, leveres innen")).to_be_visible()
    p.goto(live_server.url + "/utstyr/retur")
    axe_check(p)
    p.fill("#unit_code", a)
    p.select_option("#condition", "needs_repair")
    p.get_by_role("button", name="Registrer retur").click()
    expect(p.get_by_text(f"{a} er levert og satt til reparasjon.")).to_be_visible()
    with live_app.app_context():
        statuses = {u.label_code: u.status for u in db.session.scalars(db.select(Unit).where(Unit.label_code.in_([a, b])))}
    assert statuses == {a: UnitStatus.MAINTENANCE, b: UnitStatus.ON_LOAN}
    p.goto(live_server.url + "/utstyr/lan")
    axe_check(p)

    # who has what: find the borrower by name, see the unit still out, cancel their reservation
    with live_app.app_context():
        from datetime import timedelta

        from utstyr import reservations, services
        from utstyr.models import Borrower, Location

        borrower = db.session.scalar(db.select(Borrower).filter_by(name="Utstyrsbarn"))
        unit = db.session.scalar(db.select(Unit).filter_by(label_code=b))
        loc = db.session.get(Location, unit.location_id)
        start = services.today() + timedelta(days=20)
        reservations.reserve(loc, borrower, unit.item_type, 1, start, start + timedelta(days=1),
                         actor=loc.volunteers[0] if loc.volunteers else None)
        db.session.commit()
    p.goto(live_server.url + "/utstyr/lanere")
    axe_check(p)
    p.fill("#q", "Utstyrsbarn")
    p.get_by_role("button", name="Søk").click()
    p.get_by_role("link", name="Utstyrsbarn").click()
    p.get_by_role("heading", name="Har nå").wait_for()
    expect(p.locator("table", has_text=b).first).to_be_visible()
    axe_check(p)
    p.get_by_role("button", name="Avbestill").first.click()
    p.get_by_text("Reservasjonen for Utstyrsbarn er avbestilt.").wait_for()
    assert scroll_fits(p)
