"""The shell in a real browser: log in, see the dashboard, axe-core, keyboard, small screens."""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser


def test_admin_logs_in_and_sees_dashboard_without_axe_violations(page, live_server, axe_check):
    login(page, live_server.url, "admin@demo.no")
    expect(page.get_by_role("heading", name="Oversikt")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "nb"
    axe_check(page)


def test_login_page_is_accessible_and_wrong_password_gives_generic_error(page, live_server, axe_check):
    page.goto(live_server.url + "/logg-inn")
    axe_check(page)
    page.get_by_label("E-post").fill("admin@demo.no")
    page.get_by_label("Passord", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_text("Feil e-post eller passord.")).to_be_visible()


def test_skip_link_is_first_tab_stop_and_moves_focus_to_main(page, live_server):
    page.goto(live_server.url + "/logg-inn")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Hopp til hovedinnholdet"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("email", ["admin@demo.no", "saksbehandler@demo.no", "partner@demo.no",
                                   "frivillig@demo.no", "analytiker@demo.no"])
def test_each_role_dashboard_fits_a_360px_phone(phone_page, live_server, axe_check, email):
    login(phone_page, live_server.url, email)
    overflow = phone_page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not overflow, "page scrolls sideways at 360 px"
    axe_check(phone_page)


def test_admin_zone_pages_are_accessible(page, live_server, axe_check):
    login(page, live_server.url, "admin@demo.no")
    for path in ["/admin/soner", "/admin/soner/import", "/admin/brukere", "/admin/brukere/ny", "/api-nokler"]:
        page.goto(live_server.url + path)
        axe_check(page)


def test_language_switch_to_english_sets_lang(page, live_server):
    page.goto(live_server.url + "/logg-inn")
    page.locator("#lang-locale").select_option("en")
    page.locator(".lang-form button").click()
    assert page.locator("html").get_attribute("lang") == "en"


def test_arabic_is_right_to_left(page, live_server):
    page.goto(live_server.url + "/logg-inn")
    page.locator("#lang-locale").select_option("ar")
    page.locator(".lang-form button").click()
    assert page.locator("html").get_attribute("dir") == "rtl"


def test_axe_check_reports_a_form_field_without_label(page, live_server):
    """Guards the guard: the axe fixture must see a real violation."""
    from .conftest import axe_violations

    page.goto(live_server.url + "/logg-inn")
    page.evaluate("document.querySelector('label[for=email]').remove()")
    ids = {v["id"] for v in axe_violations(page, impacts=("serious", "critical"))}
    assert "label" in ids


def test_menu_groups_open_one_at_a_time_and_close_on_escape_and_outside_click(page, live_server):
    """The disclosure navigation pattern, with the keyboard: one group open at a time; Escape closes it and gives
    focus back to its button; a click outside closes it."""
    login(page, live_server.url, "admin@demo.no")
    summaries = page.locator(".nav-group summary")
    assert summaries.count() >= 2
    details = page.locator(".nav-group details")

    def open_groups():
        return [details.nth(i).evaluate("d => d.open") for i in range(details.count())]

    summaries.nth(0).focus()
    page.keyboard.press("Enter")
    assert open_groups()[0] is True
    summaries.nth(1).focus()  # focus moves on: the first closes
    page.keyboard.press("Enter")
    assert open_groups()[:2] == [False, True] and sum(open_groups()) == 1
    page.keyboard.press("Tab")  # into the open group's first link
    page.keyboard.press("Escape")
    assert sum(open_groups()) == 0
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    assert page.evaluate("document.activeElement.textContent") == summaries.nth(1).text_content()
    summaries.nth(0).click()
    assert open_groups()[0] is True
    size = page.viewport_size
    page.mouse.click(10, size["height"] - 10)  # outside the menu (its panel covers the heading)
    assert sum(open_groups()) == 0
