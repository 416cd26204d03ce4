"""Staff reach the family without a dead end: the caseworker can hand over the family's link when no message
arrives, and partner staff who scan a card with the phone's own camera check in with one tap."""


import pytest
from playwright.sync_api import expect

from opplevelseskort.cards.models import Card, Child
from opplevelseskort.extensions import db

from .conftest import login
from .test_cards_checkin import _decode_png, _partner_card

pytestmark = pytest.mark.browser


def test_caseworker_shows_the_family_link_as_text_and_qr(page, live_server, live_app, axe_check):
    _code, _url, _offer = _partner_card(live_app, name="Linnea")
    with live_app.app_context():
        card = db.session.scalar(db.select(Card).join(Child).where(Child.given_name == "Linnea"))
        household_id, token = card.child.household_id, card.family_token
    login(page, live_server.url, "saksbehandler@demo.no")
    page.goto(f"{live_server.url}/husstand/{household_id}")
    page.get_by_role("button", name="Send lenken på nytt").click()
    expect(page.get_by_text("venter på sending").first).to_be_visible()
    expect(page.get_by_text("står i kø").first).to_be_visible()  # the flash says queued, not sent
    with live_app.app_context():  # the outbox runs while the page stays open: the page says so by itself
        from opplevelseskort.core import outbox

        outbox.deliver_pending()
        db.session.commit()
    expect(page.locator(".message-state.message-sent").first).to_be_visible(timeout=15000)
    expect(page.locator(".message-state.message-sent").first).to_contain_text("sendt")
    page.get_by_role("button", name="Vis lenken (kopier, skriv ut, QR)").click()
    link = page.locator("#family-link").input_value()
    assert token in link
    axe_check(page)
    shot = page.locator(".family-link-qr svg").screenshot()
    assert _decode_png(shot) == link
    page.get_by_role("button", name="Kopier lenken").click()  # works or selects the text: never an error
    expect(page.locator("#family-link")).to_be_visible()
    # the family's sheet is a PDF (the form opens it in a new tab)
    with page.context.expect_page() as sheet_tab:
        page.get_by_role("button", name="Skriv ut arket til familien (PDF)").click()
    sheet = sheet_tab.value
    sheet.wait_for_load_state()
    sheet.close()
    # a new link asks first; saying no keeps the old one
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Lag en ny lenke").click()
    assert page.locator("#family-link").input_value() == link
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Lag en ny lenke").click()
    expect(page.get_by_text("Den gamle virker ikke lenger.")).to_be_visible()
    new_link = page.locator("#family-link").input_value()
    assert new_link != link and token not in new_link
    axe_check(page)
    page.goto(link)
    expect(page.get_by_role("heading", name="Fant ikke siden")).to_be_visible()


def test_partner_scanning_with_the_phone_camera_picks_the_offer_with_one_tap(phone_page, live_server, live_app):
    from opplevelseskort.partners import services as partners
    from opplevelseskort.partners.models import Offer

    _code, url, offer_id = _partner_card(live_app, name="Eskil")
    with live_app.app_context():
        first = db.session.get(Offer, offer_id)
        if db.session.scalar(db.select(db.func.count(Offer.id)).where(Offer.partner_id == first.partner_id,
                                                                       Offer.status == "published")) < 2:
            from opplevelseskort.accounts.models import User

            owner = db.session.scalar(db.select(User).filter_by(email="partner@demo.no"))
            values = {c: getattr(first, c) for c in partners.OFFER_FIELDS}
            values.update(title="Klatring", category=str(first.category), status="published",
                          use_limit_period=str(first.use_limit_period), requires_booking=False)
            partners.save_offer(owner, values, {})
            db.session.commit()
    login(phone_page, live_server.url, "partner@demo.no")
    phone_page.goto(url)  # what the phone's own camera opens: the card's URL
    expect(phone_page.get_by_role("heading", name="Hvilket tilbud sjekker du inn til?")).to_be_visible()
    phone_page.get_by_role("button", name="Fotballtrening").click()
    phone_page.wait_for_url("**/skann/resultat/**")
    expect(phone_page.get_by_text("Eskil").first).to_be_visible()
