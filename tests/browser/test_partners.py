"""A partner registers, an admin approves, the partner publishes an offer, a family finds and books it."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from opplevelseskort.accounts.models import User
from opplevelseskort.cards import households
from opplevelseskort.cards import services as cards
from opplevelseskort.core.models import Municipality, OutboxMessage
from opplevelseskort.extensions import db
from opplevelseskort.partners.models import Booking

from .conftest import login

pytestmark = pytest.mark.browser


def test_partner_registration_to_family_booking(page, phone_page, live_server, live_app, axe_check):
    base = live_server.url
    page.goto(base + "/partnere/registrer")
    axe_check(page)
    page.fill("#name", "Klatreklubben")
    page.fill("#org_number", "123456785")
    page.fill("#contact_name", "Kim Klatre")
    page.fill("#contact_email", "kim@klatre.no")
    page.get_by_role("button", name="Send registrering").click()
    expect(page.get_by_role("heading", name="Takk for registreringen")).to_be_visible()

    login(page, base, "admin@demo.no")
    page.goto(base + "/admin/partnere")
    axe_check(page)
    page.get_by_role("button", name="Godkjenn Klatreklubben").click()
    expect(page.get_by_text("Klatreklubben er godkjent")).to_be_visible()
    page.get_by_role("button", name="Logg ut").click()

    with live_app.app_context():
        invite = db.session.scalar(db.select(OutboxMessage).filter_by(recipient="kim@klatre.no", kind="partner_invite"))
        link = re.search(r"(https?://\S+/passord/ny/\S+)", invite.body).group(1)
    password = "klatre trygt og høyt 7"  # the contact person chooses it: no password was ever sent
    page.goto(link)
    axe_check(page)
    page.fill("#new", password)
    page.fill("#confirm", password)
    page.get_by_role("button", name="Lagre passordet").click()
    expect(page.get_by_text("Passordet er satt.")).to_be_visible()
    login(page, base, "kim@klatre.no", password)
    page.goto(base + "/mine-tilbud/ny")
    axe_check(page)
    page.fill("#title", "Klatrekurs")
    page.fill("#description", "Lær å klatre trygt.")
    page.select_option("#category", "sport")
    page.fill("#age_min", "8")
    page.fill("#age_max", "15")
    page.fill("#start_date", date.today().isoformat())
    page.fill("#end_date", (date.today() + timedelta(days=60)).isoformat())
    page.check("#requires_booking")
    page.select_option("#status", "published")
    page.get_by_role("button", name="Lagre tilbudet").click()
    expect(page.get_by_text("Tilbudet er lagret.")).to_be_visible()
    start = (date.today() + timedelta(days=7)).isoformat()
    page.fill("#starts_at", f"{start}T10:00")
    page.fill("#ends_at", f"{start}T12:00")
    page.fill("#capacity", "15")
    page.get_by_role("button", name="Legg til dato").click()
    expect(page.get_by_text("0 av 15 plasser tatt")).to_be_visible()

    with live_app.app_context():
        muni = db.session.scalar(db.select(Municipality))
        actor = db.session.scalar(db.select(User).filter_by(email="saksbehandler@demo.no"))
        year = date.today().year
        h = households.register_household(muni, [households.GuardianInput("Mor", "93333333", None, "nb")],
                                     [households.ChildInput("Lina", "Klatre", 2014, 3, "99010101", "nav", date(year, 1, 1),
                                                       date(year + 1, 12, 31), True)], actor=actor)
        card = cards.issue_card(h.children[0], actor=actor)
        db.session.commit()
        token, child_id = card.family_token, card.child_id

    phone_page.goto(base + "/tilbud?q=klatre")
    axe_check(phone_page)
    expect(phone_page.get_by_role("link", name="Klatrekurs")).to_be_visible()
    phone_page.goto(base + f"/kort/{token}")
    phone_page.get_by_role("link", name="Klatrekurs").click()
    axe_check(phone_page)
    phone_page.get_by_role("button", name="Meld på Lina").click()
    expect(phone_page.get_by_text("Du har fått plass.")).to_be_visible()
    expect(phone_page.get_by_role("heading", name="Påmeldinger")).to_be_visible()
    axe_check(phone_page)
    with live_app.app_context():
        assert db.session.scalar(db.select(Booking).filter_by(child_id=child_id)).status == "booked"


def test_partner_picks_the_offer_place_on_a_map(page, live_server, live_app, axe_check):
    """The offer's place is clicked on a map of the municipality's zones; the coordinates land in the form."""
    login(page, live_server.url, "partner@demo.no")
    page.goto(live_server.url + "/mine-tilbud/ny")
    page.wait_for_selector("#place-map[data-ready=true]")
    axe_check(page)
    assert page.input_value("#lat") == "" and page.input_value("#lon") == ""
    page.locator("#place-map").click()  # the middle of the map: inside the municipality
    page.wait_for_selector("#place-map[data-picked=true]")
    lat, lon = float(page.input_value("#lat")), float(page.input_value("#lon"))
    with live_app.app_context():
        from opplevelseskort.zones.models import Zone

        zones = list(db.session.scalars(db.select(Zone).where(Zone.min_lat.is_not(None))))
        south, north = min(z.min_lat for z in zones), max(z.max_lat for z in zones)
        west, east = min(z.min_lon for z in zones), max(z.max_lon for z in zones)
    assert south <= lat <= north and west <= lon <= east, (lat, lon)
    # typing coordinates moves the marker instead: the fields are the text alternative
    page.fill("#lat", f"{(south + north) / 2:.5f}")
    page.dispatch_event("#lat", "change")
    assert page.locator("#place-map path.leaflet-interactive").count() >= 1
