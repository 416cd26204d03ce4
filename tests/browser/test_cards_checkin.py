"""Real browser flows: caseworker issues a card, the family opens it on a phone, a partner scans it."""

import io
import re
import subprocess
from datetime import date

import pytest
from playwright.sync_api import expect

from opplevelseskort.accounts.models import User
from opplevelseskort.cards import households
from opplevelseskort.cards import services as cards
from opplevelseskort.cards.models import Card, Child
from opplevelseskort.core.models import OutboxMessage
from opplevelseskort.extensions import db
from opplevelseskort.partners.models import Offer

from .conftest import CHROMIUM, CHROMIUM_ARGS, login

pytestmark = pytest.mark.browser


def _decode_png(png: bytes) -> str:
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code found in the screenshot"
    return found[0].text


def test_caseworker_registers_household_and_family_opens_card_on_phone(page, phone_page, live_server, live_app,
                                                                        axe_check):
    login(page, live_server.url, "saksbehandler@demo.no")
    page.goto(live_server.url + "/husstand/ny")
    axe_check(page)
    page.fill("#guardians-0-name", "Nora Berg")
    page.fill("#guardians-0-phone", "98765432")
    page.fill("#guardians-0-email", "nora@example.org")
    page.fill("#eligible_from", f"{date.today().year}-01-01")
    page.fill("#eligible_until", f"{date.today().year}-12-31")
    page.fill("#children-0-given_name", "Iben")
    page.fill("#children-0-family_name", "Berg")
    page.fill("#children-0-birth_year", "2015")
    page.fill("#children-0-zone", "99010102")
    page.check("#confirmed")
    page.get_by_role("button", name="Registrer").click()
    page.wait_for_url("**/husstand/*")
    expect(page.get_by_role("heading", name="Iben Berg")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Lag kort og send lenken").click()
    expect(page.get_by_text("Kortet er laget")).to_be_visible()

    with live_app.app_context():
        child = db.session.scalar(db.select(Child).filter_by(given_name="Iben"))
        card = db.session.scalar(db.select(Card).filter_by(child_id=child.id))
        msg = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.recipient == "nora@example.org"))
        link = re.search(r"https?://\S+", msg.body).group(0)
        card_url, card_id = cards.card_url(card), card.id
    phone_page.goto(link)
    expect(phone_page.get_by_text("Iben").first).to_be_visible()
    assert "Berg" not in phone_page.locator("main").inner_text()
    overflow = phone_page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not overflow
    qr = phone_page.locator("img.member-card-qr")
    qr.wait_for()
    assert qr.bounding_box()["width"] >= 200  # large enough to scan from a phone at a counter
    decoded = _decode_png(qr.screenshot())  # the signed code: a scanner without a network checks it
    assert decoded.startswith(("OK1:", "OK2:"))  # the printed code, or the phone's own once it is bound
    with live_app.app_context():
        from opplevelseskort.cards import signing

        assert cards.card_url(db.session.get(Card, card_id)) == card_url
        assert signing.card_number_of(decoded) == db.session.get(Card, card_id).short_code
    axe_check(phone_page)


def _partner_card(live_app, revoked=False, name="Tora"):
    with live_app.app_context():
        from opplevelseskort.core.models import Municipality

        muni = db.session.scalar(db.select(Municipality))
        actor = db.session.scalar(db.select(User).filter_by(email="saksbehandler@demo.no"))
        year = date.today().year
        h = households.register_household(muni, [households.GuardianInput("Foresatt", "91111111", None, "nb")],
                                     [households.ChildInput(name, "Test", 2013, 2, "99010201", "nav", date(year, 1, 1),
                                                       date(year, 12, 31), True)], actor=actor)
        card = cards.issue_card(h.children[0], actor=actor)
        if revoked:
            cards.revoke_card(card, "lost", actor=actor)
        db.session.commit()
        offer_id = db.session.scalar(db.select(Offer.id).filter_by(title="Fotballtrening"))
        return card.short_code, cards.card_url(card), offer_id


def test_scanner_on_phone_typed_code_green_then_revoked_red(phone_page, live_server, live_app, axe_check):
    good, _url, offer_id = _partner_card(live_app, name="Tora")
    bad, _url2, _ = _partner_card(live_app, revoked=True, name="Rolf")
    login(phone_page, live_server.url, "partner@demo.no")
    phone_page.goto(live_server.url + "/skann")
    axe_check(phone_page)
    phone_page.select_option("#offer_id", str(offer_id))
    phone_page.fill("#code", good)
    phone_page.get_by_role("button", name="Sjekk inn").click()
    verdict = phone_page.locator(".verdict")
    assert "verdict-yes" in verdict.get_attribute("class")
    expect(phone_page.get_by_role("heading", name="Ja – gyldig kort")).to_be_visible()
    expect(phone_page.get_by_text("Tora")).to_be_visible()
    axe_check(phone_page)
    phone_page.goto(live_server.url + "/skann")
    phone_page.fill("#code", bad)
    phone_page.get_by_role("button", name="Sjekk inn").click()
    assert "verdict-no" in phone_page.locator(".verdict").get_attribute("class")
    expect(phone_page.get_by_text("Kortet er sperret.")).to_be_visible()
    axe_check(phone_page)


def test_scanner_reads_qr_from_camera(live_server, live_app, tmp_path, playwright_instance):
    """The camera path, with Chromium's fake camera playing a video of the card's QR code."""
    from opplevelseskort.cards.pdf import qr_png

    _code, url, offer_id = _partner_card(live_app, name="Kamera")
    png = tmp_path / "qr.png"
    png.write_bytes(qr_png(url, box_size=8))
    y4m = tmp_path / "qr.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png), "-vf",
                    "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p",
                    "-t", "2", "-r", "10", str(y4m)], check=True)
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}"])
    try:
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="nb-NO")
        ctx.grant_permissions(["camera"], origin=live_server.url)
        p = ctx.new_page()
        login(p, live_server.url, "partner@demo.no")
        p.goto(live_server.url + "/skann")
        p.select_option("#offer_id", str(offer_id))
        p.get_by_role("button", name="Skann med kamera").click()
        p.wait_for_url("**/skann/resultat/**", timeout=20000)
        expect(p.get_by_text("Kamera")).to_be_visible()
        with live_app.app_context():
            from opplevelseskort.checkin.models import CheckIn

            assert db.session.scalar(db.select(CheckIn).order_by(CheckIn.id.desc())).source == "camera"
    finally:
        browser.close()


def test_card_page_opens_offline_after_first_visit(context_factory, live_server, live_app):
    _code, _url, _offer = _partner_card(live_app, name="Offline")
    from opplevelseskort.cards.models import Card

    with live_app.app_context():
        token = db.session.scalar(db.select(Card.family_token).order_by(Card.id.desc()))
    ctx = context_factory(viewport={"width": 360, "height": 740})
    p = ctx.new_page()
    p.goto(f"{live_server.url}/kort/{token}")
    p.evaluate("async () => { await navigator.serviceWorker.ready; }")
    p.reload()  # now controlled by the worker, which caches the page, the QR and the styles
    p.wait_for_function("() => navigator.serviceWorker.controller !== null")
    p.wait_for_timeout(300)
    ctx.set_offline(True)
    p.reload()
    expect(p.get_by_text("Offline").first).to_be_visible()
    assert p.locator("img.member-card-qr").evaluate("img => img.complete && img.naturalWidth > 0")
