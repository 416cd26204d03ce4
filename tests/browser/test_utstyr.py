"""A volunteer on a phone lends two units to a card holder and takes one back as needing repair."""

import pytest

from opplevelseskort.extensions import db
from utstyr.models import Unit, UnitStatus

from .conftest import login
from .test_cards_checkin import _partner_card

pytestmark = pytest.mark.browser


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
    assert p.get_by_text("Utlånt: 2 enheter").is_visible()
    p.goto(live_server.url + "/utstyr/retur")
    axe_check(p)
    p.fill("#unit_code", a)
    p.select_option("#condition", "needs_repair")
    p.get_by_role("button", name="Registrer retur").click()
    assert p.get_by_text(f"{a} er levert og satt til reparasjon.").is_visible()
    with live_app.app_context():
        statuses = {u.label_code: u.status for u in db.session.scalars(db.select(Unit).where(Unit.label_code.in_([a, b])))}
    assert statuses == {a: UnitStatus.MAINTENANCE, b: UnitStatus.ON_LOAN}
    p.goto(live_server.url + "/utstyr/lan")
    axe_check(p)
