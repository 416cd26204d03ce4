"""Imports as jobs, in the browser: upload, the result page (or the progress page), axe on each."""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser


def test_a_caseworker_previews_then_imports_a_household_file(page, live_server, axe_check, tmp_path):
    login(page, live_server.url, "saksbehandler@demo.no")
    template = page.request.get(f"{live_server.url}/barn/import/mal.csv").body()
    path = tmp_path / "husstander.csv"
    path.write_bytes(template)
    page.goto(f"{live_server.url}/barn/import")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_label("Bare forhåndsvis (lagre ingenting)").check()
    page.get_by_role("button", name="Last opp").click()
    page.wait_for_url("**/barn/import/jobb/*")
    expect(page.get_by_role("heading", name="Forhåndsvisning")).to_be_visible()
    axe_check(page)
    preview_url = page.url
    with page.expect_navigation():
        page.get_by_role("button", name="Importer denne filen nå").click()
    assert page.url != preview_url and "/barn/import/jobb/" in page.url  # a new job: the real import
    expect(page.get_by_text("er registrert med kort").first).to_be_visible()
    axe_check(page)


def test_an_admin_imports_zones_and_reads_what_was_done(page, live_server, axe_check, tmp_path):
    login(page, live_server.url, "admin@demo.no")
    path = tmp_path / "soner.csv"
    path.write_text("code;name;level;parent\n99990001;Prøvesone;grunnkrets;\n", encoding="utf-8")
    page.goto(f"{live_server.url}/admin/soner/import")
    page.get_by_label("Filtype").select_option("csv")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Importer").click()
    page.wait_for_url("**/jobber/*")
    expect(page.get_by_text("1 soner opprettet")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Tilbake").click()
    page.wait_for_url("**/admin/soner")
