"""An analyst opens the dashboard: the map draws the zones; a partner is refused."""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser


def test_analyst_dashboard_map_draws_zones(page, live_server, axe_check):
    login(page, live_server.url, "analytiker@demo.no")
    page.goto(live_server.url + "/rapporter/")
    page.wait_for_selector("#map[data-ready=true]", timeout=15000)
    assert page.locator("#map path.leaflet-interactive").count() == 8  # the demo's eight grunnkretser
    expect(page.get_by_role("heading", name="Tabell")).to_be_visible()
    axe_check(page)


@pytest.mark.parametrize("email", ["partner@demo.no", "frivillig@demo.no"])
def test_partner_and_volunteer_are_refused(page, live_server, email):
    login(page, live_server.url, email)
    response = page.goto(live_server.url + "/rapporter/")
    assert response.status == 403
