"""Families on a phone (390 × 844), in bokmål and Arabic: nothing wider than the screen, the language they choose
wins over the one in the texted link, and staff tables do not split their headers mid-word."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from opplevelseskort.cards.models import Card
from opplevelseskort.extensions import db

from .conftest import login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def family_token(live_app, live_server):
    with live_app.app_context():
        return db.session.scalar(db.select(Card.family_token).where(Card.revoked_at.is_(None)).limit(1))


@pytest.fixture
def phone(context_factory):
    ctx = context_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    return ctx.new_page()


ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).parent / "artifacts")) / "family-pages"


@pytest.fixture
def offer_path(live_app, live_server):
    from opplevelseskort.partners.models import Offer, OfferStatus

    with live_app.app_context():
        offer_id = db.session.scalar(db.select(Offer.id).where(Offer.status == OfferStatus.PUBLISHED).limit(1))
    return f"/tilbud/{offer_id}"


@pytest.mark.parametrize("lang", ["nb", "ar", "uk"])
def test_screenshot_walk_of_every_family_page_on_a_phone(phone, live_server, family_token, offer_path, lang,
                                                         axe_check):
    """Every family page in bokmål, Arabic and Ukrainian on a 390 px phone: no wider than the screen, not blank,
    in the language asked for, axe-clean; a full-page screenshot of each is kept under tests/browser/artifacts
    (or $TEST_ARTIFACTS) for a person to look at."""
    pages = {"home": "/", "offers": "/tilbud", "offer": offer_path, "apply": "/sok-om-kort",
             "equipment": "/utstyr/lan", "accessibility": "/tilgjengelighet", "card": f"/kort/{family_token}"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in pages.items():
        phone.goto(f"{live_server.url}{path}?sprak={lang}")
        width = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (path, lang, width)
        assert phone.evaluate("() => document.body.innerText.trim().length") > 20, (path, "blank page")
        assert phone.locator("html").get_attribute("lang") == lang, path
        assert phone.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr"), path
        axe_check(phone)
        shot = ARTIFACTS / f"{lang}-{name}.png"
        phone.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5000, shot  # a real picture, not an empty canvas


def test_skip_link_appears_on_focus_in_rtl(phone, live_server):
    phone.goto(f"{live_server.url}/tilbud?sprak=ar")
    phone.keyboard.press("Tab")
    box = phone.locator(".skip-link").bounding_box()
    assert box and box["width"] > 20 and 0 <= box["x"] <= PHONE["width"]


def test_the_language_chosen_wins_over_the_texted_link(phone, live_server, family_token):
    phone.goto(f"{live_server.url}/kort/{family_token}?sprak=ar")
    assert phone.locator("html").get_attribute("lang") == "ar"
    phone.select_option("#lang-locale", "uk")
    phone.locator(".lang-form button").click()
    phone.wait_for_load_state()
    assert phone.locator("html").get_attribute("lang") == "uk"
    assert "sprak=ar" not in phone.url
    phone.reload()
    assert phone.locator("html").get_attribute("lang") == "uk"


def test_table_headers_are_not_split_mid_word_at_1280(page, live_server):
    login(page, live_server.url, "admin@demo.no")
    for path in ["/admin/partnere", "/admin/brukere", "/besok/oppgjor", "/besok", "/rapporter/?period=2026",
                 "/utstyr/statistikk", "/barn", "/soknader", "/oppfolging", "/rapporter/tilskudd", "/admin/soner"]:
        page.goto(live_server.url + path)
        split = page.evaluate("""() => [...document.querySelectorAll('th')]
            .filter(th => !th.querySelector('.visually-hidden')).filter(th => {
            const words = th.innerText.trim().split(/\\s+/);
            const range = document.createRange(); range.selectNodeContents(th);
            const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            return words.length === 1 && lines.size > 1; }).map(th => th.innerText)""")
        assert split == [], (path, split)


@pytest.mark.parametrize("lang", ["ar", "ti"])
def test_card_page_is_the_familys_record_on_a_phone(phone, live_app, live_server, lang, axe_check):
    """A card with a visit and equipment on loan: the record shows in the family's language, fits the phone."""
    from datetime import date, timedelta

    from opplevelseskort.accounts.models import User
    from opplevelseskort.checkin import services as checkin
    from opplevelseskort.partners.models import Offer, OfferStatus
    from utstyr import services as equipment
    from utstyr.models import Location, Unit, UnitStatus

    with live_app.app_context():
        offer = db.session.scalar(db.select(Offer).where(Offer.status == OfferStatus.PUBLISHED,
                                                         Offer.requires_booking.is_(False)).limit(1))
        admin = db.session.scalar(db.select(User).filter_by(email="admin@demo.no"))
        card = db.session.scalar(db.select(Card).where(Card.revoked_at.is_(None), Card.municipality_id ==
                                                       offer.municipality_id).order_by(Card.id.desc()).limit(1))
        checkin.record_checkin(card.short_code, offer, actor=admin)
        unit = db.session.scalar(db.select(Unit).join(Location).where(
            Unit.status == UnitStatus.AVAILABLE, Location.municipality_id == card.municipality_id).limit(1))
        volunteer = unit.location.volunteers[0] if unit.location.volunteers else admin
        equipment.checkout(unit.location, equipment.borrower_for_card(card.short_code, card.municipality_id),
                           [unit.label_code], volunteer=volunteer, due_on=date.today() + timedelta(days=3))
        db.session.commit()
        token, title = card.family_token, offer.text(lang)[0]
    phone.goto(f"{live_server.url}/kort/{token}?sprak={lang}")
    expect(phone.locator("#loans-heading")).to_be_visible()
    expect(phone.locator("#history-heading")).to_be_visible()
    assert title in phone.locator("section[aria-labelledby='history-heading']").inner_text()
    width = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    axe_check(phone)


def test_tigrinya_pages_bring_their_own_ethiopic_font(phone, live_server, family_token):
    """A phone without an Ethiopic font shows Tigrinya, not boxes: the page loads the package's subset of Noto
    Sans Ethiopic (only on Tigrinya pages), and the text is drawn with it."""
    phone.goto(f"{live_server.url}/kort/{family_token}?sprak=ti")
    loaded = phone.evaluate("""async () => {
        const faces = await document.fonts.load('16px "Noto Sans Ethiopic Web"', 'ትግርኛ');
        return faces.map(f => f.status);
    }""")
    assert loaded and set(loaded) == {"loaded"}, loaded
    phone.goto(f"{live_server.url}/kort/{family_token}?sprak=nb")
    assert phone.locator('link[href*="ethiopic.css"]').count() == 0
