"""The scanner where the network ends (issue 39, items 3-5), in Debian's Chromium: the partner opens the installable
scanner page with a network, the phone goes offline, the page opens again from its service worker, verifies a
signed card code on the phone (WebCrypto Ed25519), refuses an altered one, says a second scan is a repeat, shows
what waits, and the queue reaches the server when the network is back; the server counts it once."""

from __future__ import annotations

import subprocess
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
    p.fill("#offline-companions", "5")  # more than the offer allows: the page queues what it allows
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
        assert scan.companions == min(5, db.session.get(Offer, offer_id).companions_allowed)

    # a week later, still in the forest: the lists are too old, and the page says so in red
    ctx.set_offline(True)
    p.evaluate("""async () => {
      const db = await new Promise(done => { const q = indexedDB.open('opplevelseskort-scanner', 1);
                                             q.onsuccess = () => done(q.result); });
      const t = db.transaction('meta', 'readwrite'), store = t.objectStore('meta');
      const row = await new Promise(done => { const g = store.get('bundle'); g.onsuccess = () => done(g.result); });
      row.value.fetchedAt = Date.now() - 8 * 86400000;
      store.put(row);
      await new Promise(done => { t.oncomplete = done; });
    }""")
    p.reload()
    _ready(p)
    expect(p.locator("#lists-age")).to_have_class("stale")
    expect(p.locator("#lists-age")).to_contain_text("8 dager gamle: mer enn 7 dager")
    axe_check(p)


def _family_token(live_app, name: str) -> tuple[str, str]:
    with live_app.app_context():
        from opplevelseskort.cards.models import Card, Child

        card = db.session.scalar(db.select(Card).join(Child).where(Child.given_name == name))
        return card.family_token, card.short_code


def test_three_cards_scanned_offline_typed_by_camera_and_from_a_phone_reach_the_server_once_each(
        live_server, live_app, tmp_path, playwright_instance, axe_check):
    """Issue 39's end-to-end: a printed card typed, a printed card through the camera, a family's phone showing
    its rotating code; three waiting, still three after a reload offline, three visits once online."""
    from opplevelseskort.cards import signing
    from opplevelseskort.cards.pdf import qr_png

    from .conftest import CHROMIUM, CHROMIUM_ARGS
    from .test_cards_checkin import _decode_png

    typed, offer_id = _signed_card(live_app, "Tastet")
    filmed, _ = _signed_card(live_app, "Filmet")
    _signed_card(live_app, "Telefon")
    token, phone_number = _family_token(live_app, "Telefon")
    png, y4m = tmp_path / "card.png", tmp_path / "card.y4m"
    png.write_bytes(qr_png(filmed, 8, "Q"))
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-vf",
                    "scale=720:720:force_original_aspect_ratio=decrease,pad=720:720:(ow-iw)/2:(oh-ih)/2:white,"
                    "format=yuv420p", "-t", "2", "-r", "10", str(y4m)], check=True)
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}"])
    try:
        # the family's phone: the card page binds a key made on the phone and shows a code that changes
        family = _watched(browser.new_context(viewport=PHONE, is_mobile=True, locale="nb-NO").new_page())
        family.goto(f"{live_server.url}/kort/{token}")
        family.wait_for_selector("img.member-card-qr[data-live='1']", timeout=15000)
        first = family.get_attribute("img.member-card-qr", "data-shown-at")
        family.wait_for_function(f"() => document.querySelector('img.member-card-qr').dataset.shownAt !== '{first}'",
                                 timeout=15000)
        axe_check(family)
        phone_code = _decode_png(family.locator("img.member-card-qr").screenshot())
        assert phone_code.startswith("OK2:")
        with live_app.app_context():
            assert signing.card_number_of(phone_code) == phone_number  # the server takes it, fresh

        ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="nb-NO")
        ctx.grant_permissions(["camera"], origin=live_server.url)
        p = _watched(ctx.new_page())
        login(p, live_server.url, "partner@demo.no")
        p.goto(live_server.url + "/skann/uten-nett")
        _ready(p)
        p.wait_for_function("() => !!document.getElementById('offline-form').dataset.kept", timeout=15000)
        p.select_option("#offline-offer", str(offer_id))
        ctx.set_offline(True)
        p.reload()
        _ready(p)

        p.fill("#offline-code", typed)
        p.get_by_role("button", name="Sjekk kortet").click()
        expect(p.get_by_role("heading", name="Ja – velkommen")).to_be_visible()
        p.get_by_role("button", name="Skann med kamera").click()
        expect(p.locator("#waiting")).to_have_text("2 venter på å bli sendt", timeout=20000)
        p.fill("#offline-code", phone_code)
        p.get_by_role("button", name="Sjekk kortet").click()
        expect(p.locator("#waiting")).to_have_text("3 venter på å bli sendt")
        expect(p.get_by_role("heading", name="Ja – velkommen")).to_be_visible()

        p.reload()  # still offline: the queue is on the phone
        _ready(p)
        expect(p.locator("#waiting")).to_have_text("3 venter på å bli sendt")
        with live_app.app_context():
            before = db.session.scalar(db.select(db.func.count()).select_from(OfflineScan))

        ctx.set_offline(False)
        expect(p.locator("#waiting")).to_have_text("0 venter på å bli sendt", timeout=15000)
        expect(p.locator("#sync-status")).to_contain_text("3 telt")
        with live_app.app_context():
            from opplevelseskort.cards.models import Card, Child

            scans = db.session.scalars(db.select(OfflineScan).order_by(OfflineScan.id)).all()[before:]
            assert [str(s.outcome) for s in scans] == ["accepted"] * 3 and not any(s.flags for s in scans)
            names = {db.session.scalar(db.select(Child.given_name).join(Card).where(Card.id == s.card_id))
                     for s in scans}
            assert names == {"Tastet", "Filmet", "Telefon"}
            assert all(str(db.session.get(CheckIn, s.checkin_id).source) == "offline" for s in scans)
    finally:
        browser.close()
