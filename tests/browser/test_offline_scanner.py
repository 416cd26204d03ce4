"""The scanner where the network ends (issue 39, items 3-5), in Debian's Chromium: the partner opens the installable
scanner page with a network, the phone goes offline, the page opens again from its service worker, verifies a
signed card code on the phone (WebCrypto Ed25519), refuses an altered one, says a second scan is a repeat, shows
what waits, and the queue reaches the server when the network is back; the server counts it once."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from opplevelseskort.accounts.models import User
from opplevelseskort.cards import households
from opplevelseskort.cards import services as cards
from opplevelseskort.checkin.models import CheckIn, OfflineScan
from opplevelseskort.extensions import db
from opplevelseskort.partners.models import Offer

from .conftest import PHONE, _watched, login

pytestmark = pytest.mark.browser


def _signed_card(live_app, name: str) -> tuple[str, int]:
    with live_app.app_context():
        from opplevelseskort.core.models import Municipality

        muni = db.session.scalar(db.select(Municipality))
        actor = db.session.scalar(db.select(User).filter_by(email="saksbehandler@demo.no"))
        year = date.today().year
        h = households.register_household(muni, [households.GuardianInput("Foresatt", "91111112", None, "nb")],
                                          [households.ChildInput(name, "Test", 2013, 2, "99010201", "nav",
                                                                 date(year, 1, 1), date(year, 12, 31), True)],
                                          actor=actor)
        card = cards.issue_card(h.children[0], actor=actor)
        code = cards.signed_code(card)
        db.session.commit()
        return code, db.session.scalar(db.select(Offer.id).filter_by(title="Fotballtrening"))


def _ready(p):
    p.wait_for_function("() => document.getElementById('offline-form').dataset.ready === '1'", timeout=15000)


def test_offline_scanner_checks_a_signed_card_without_a_network_and_syncs_it_later(context_factory, live_server,
                                                                                   live_app, axe_check):
    code, offer_id = _signed_card(live_app, "Skog")
    altered = code[:-4] + ("0" if code[-4] != "0" else "1") + code[-3:]
    ctx = context_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    p = _watched(ctx.new_page())
    login(p, live_server.url, "partner@demo.no")
    p.goto(live_server.url + "/skann/uten-nett")
    _ready(p)
    p.wait_for_function("() => !!document.getElementById('offline-form').dataset.kept", timeout=15000)
    p.select_option("#offline-offer", str(offer_id))
    expect(p.locator("#lists-age")).to_contain_text("minutter gamle")
    expect(p.locator("#storage-state")).not_to_have_text("Sjekker lagringen …")
    axe_check(p)

    ctx.set_offline(True)
    p.reload()  # no network: the service worker opens the page, IndexedDB holds the lists
    _ready(p)
    expect(p.locator("#net-state")).to_have_text("Uten nett: skanningene lagres på telefonen.")
    assert p.locator("#offline-offer").input_value() == str(offer_id)

    p.fill("#offline-code", code)
    p.get_by_role("button", name="Sjekk kortet").click()
    expect(p.get_by_role("heading", name="Ja – velkommen")).to_be_visible()
    assert "verdict-yes" in p.locator("#verdict").get_attribute("class")
    expect(p.locator("#waiting")).to_have_text("1 venter på å bli sendt")
    axe_check(p)

    p.fill("#offline-code", altered)
    p.get_by_role("button", name="Sjekk kortet").click()
    expect(p.get_by_role("heading", name="Nei – ikke godkjent")).to_be_visible()
    expect(p.locator("#verdict-reason")).to_have_text("Koden er ikke ekte, eller den er endret.")

    p.fill("#offline-code", code)
    p.get_by_role("button", name="Sjekk kortet").click()
    expect(p.get_by_role("heading", name="Allerede sjekket inn i dag")).to_be_visible()
    expect(p.locator("#waiting")).to_have_text("1 venter på å bli sendt")  # a repeat is not queued again
    with live_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OfflineScan)) == 0  # nothing reached us

    ctx.set_offline(False)  # coverage again: the page syncs on its own
    expect(p.locator("#waiting")).to_have_text("0 venter på å bli sendt", timeout=15000)
    expect(p.locator("#sync-status")).to_contain_text("1 telt")
    with live_app.app_context():
        scan = db.session.scalar(db.select(OfflineScan).order_by(OfflineScan.id.desc()))
        assert str(scan.outcome) == "accepted" and scan.offer_id == offer_id and not scan.flags
        assert str(db.session.get(CheckIn, scan.checkin_id).source) == "offline"
