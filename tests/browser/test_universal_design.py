"""Every main page of every role, in bokmål and in Arabic: axe-core, lang and dir; keyboard-only use."""

import os
from pathlib import Path

import pytest

from .conftest import login
from .test_cards_checkin import _partner_card

pytestmark = pytest.mark.browser

PAGES = {
    "admin@demo.no": ["/oversikt", "/admin/brukere", "/admin/soner", "/admin/partnere", "/besok/oppgjor", "/utstyr/steder",
                      "/rapporter/", "/api-nokler", "/admin/jobber"],
    "saksbehandler@demo.no": ["/oversikt", "/barn", "/husstand/ny", "/soknader", "/barn/import", "/oppfolging"],
    "partner@demo.no": ["/oversikt", "/skann", "/mine-tilbud", "/mine-tilbud/ny", "/besok"],
    "frivillig@demo.no": ["/oversikt", "/utstyr/", "/utstyr/utlan", "/utstyr/retur", "/utstyr/enheter",
                          "/utstyr/statistikk", "/utstyr/reservasjoner"],
    "analytiker@demo.no": ["/oversikt", "/rapporter/", "/rapporter/tilskudd", "/rapporter/indikatorer",
                           "/rapporter/levekarsindeks"],
}
PUBLIC = ["/", "/tilbud", "/sok-om-kort", "/partnere/registrer", "/utstyr/lan", "/tilgjengelighet", "/logg-inn"]


@pytest.mark.parametrize("lang, direction", [("nb", "ltr"), ("ar", "rtl")])
def test_public_pages(page, live_server, axe_check, lang, direction):
    for path in PUBLIC:
        page.goto(f"{live_server.url}{path}{'&' if '?' in path else '?'}sprak={lang}")
        assert page.locator("html").get_attribute("lang") == lang, path
        assert page.locator("html").get_attribute("dir") == direction, path
        axe_check(page)


@pytest.mark.parametrize("email", list(PAGES))
@pytest.mark.parametrize("lang, shown", [("nb", "nb"), ("en", "en"), ("ar", "nb")])
def test_every_main_page_of_every_role(page, live_server, axe_check, email, lang, shown):
    """Staff pages in the staff languages; asked for Arabic (whose staff texts are not complete), bokmål rather
    than a half-Norwegian page, and the switcher offers only the complete ones."""
    login(page, live_server.url, email)
    for path in PAGES[email]:
        page.goto(f"{live_server.url}{path}?sprak={lang}")
        assert page.locator("html").get_attribute("lang") == shown, path
        assert page.locator("html").get_attribute("dir") == "ltr", path
        axe_check(page)
    offered = page.eval_on_selector_all("#lang-locale option", "os => os.map(o => o.value)")
    assert offered == ["nb", "nn", "en", "sv"]


def _tab_to(page, selector, limit=40):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return True
    return False


def test_scanner_by_keyboard_alone(page, live_server, live_app):
    code, _url, _offer = _partner_card(live_app, name="Tastatur")
    login(page, live_server.url, "partner@demo.no")
    page.goto(live_server.url + "/skann")
    assert _tab_to(page, "#code"), "the code field cannot be reached with Tab"
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url("**/skann/resultat/**")
    assert page.evaluate("document.activeElement.id") == "verdict-heading"  # the answer gets focus
    outline = page.evaluate("""() => { const b = document.querySelector('a.button');
        b.focus(); const s = getComputedStyle(b); return s.outlineStyle + ' ' + s.outlineWidth; }""")
    assert "solid" in outline and not outline.endswith(" 0px")


def test_card_page_by_keyboard_alone(phone_page, live_server, live_app):
    from opplevelseskort.cards.models import Card
    from opplevelseskort.extensions import db

    _partner_card(live_app, name="Tastkort")
    with live_app.app_context():
        token = db.session.scalar(db.select(Card.family_token).order_by(Card.id.desc()))
    phone_page.goto(f"{live_server.url}/kort/{token}")
    assert _tab_to(phone_page, "a[href$='kort.pdf']"), "the PDF link cannot be reached with Tab"
    assert _tab_to(phone_page, "a[href*='/tilbud/']"), "the offers cannot be reached with Tab"


def test_text_resized_to_200_percent_still_reflows_at_320px(context_factory, live_server):
    ctx = context_factory(viewport={"width": 320, "height": 640})
    p = ctx.new_page()
    for path in ["/tilbud", "/sok-om-kort", "/logg-inn"]:
        p.goto(live_server.url + path)
        p.evaluate("document.documentElement.style.fontSize = '200%'")
        overflow = p.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")
        assert not overflow, f"{path} scrolls sideways at 320 px with 200 %% text"


STAFF_ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).parent / "artifacts")) / "staff-pages"


@pytest.mark.parametrize("email", list(PAGES))
def test_screenshot_walk_of_every_staff_page_at_1280_and_390(context_factory, live_server, axe_check, email):
    """Every staff page of every role at a desktop's 1280 px and a phone's 390 px: nothing wider than the screen
    (wide tables scroll inside their own focusable box), axe-clean on the phone (the desktop run is above); a
    full-page screenshot of each is kept under tests/browser/artifacts/staff-pages for a person to look at."""
    STAFF_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    role = email.split("@")[0]
    for width, height in ((1280, 900), (390, 844)):
        page = context_factory(viewport={"width": width, "height": height}).new_page()
        login(page, live_server.url, email)
        for path in PAGES[email]:
            page.goto(live_server.url + path)
            wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1], (path, width, wide)
            unfocusable = page.evaluate("""() => [...document.querySelectorAll('.table-wrap')]
                .filter(w => w.scrollWidth > w.clientWidth && w.tabIndex < 0).length""")
            assert unfocusable == 0, (path, width)
            if width == 390:
                axe_check(page)
            name = path.strip("/").replace("/", "-") or "home"
            shot = STAFF_ARTIFACTS / f"{role}-{width}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5000, shot
