"""A caseworker signs in through the municipality's identity provider's own pages in chromium: the login page's
provider button, the provider's sign-in form, back to the dashboard (PKCE, state and nonce checked on the way)."""

import json

import pytest
from playwright.sync_api import expect

from opplevelseskort import create_app
from opplevelseskort.core import services as core
from opplevelseskort.core.services import get_or_create_municipality
from opplevelseskort.extensions import db

from ..conftest import TEST_CONFIG
from ..core.test_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider
from .conftest import LiveServer, _watched

pytestmark = pytest.mark.browser


@pytest.fixture
def provider():
    idp = FakeProvider()
    idp.interactive = True
    yield idp
    idp.server.shutdown()


@pytest.fixture
def oidc_server(tmp_path, provider, monkeypatch):
    monkeypatch.setenv("OIDC_BROWSER_SECRET", CLIENT_SECRET)
    entry = {"name": "testby", "label": "Testby ID", "issuer": provider.issuer, "client_id": CLIENT_ID,
             "client_secret_env": "OIDC_BROWSER_SECRET"}
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "oidc.sqlite"),
                      "INSTANCE_PATH": str(tmp_path), "WTF_CSRF_ENABLED": True, "SERVER_NAME": None,
                      "OIDC_PROVIDERS": json.dumps([entry]), "PREFERRED_URL_SCHEME": "http"})
    with app.app_context():
        db.create_all()
        muni = get_or_create_municipality("3001", "Testby")
        core.create_user("kari@testby.kommune.no", core.unusable_password(), "caseworker", municipality_id=muni.id)
        db.session.commit()
        db.session.remove()
    server = LiveServer(app).start()
    yield server
    server.stop()


def test_a_caseworker_signs_in_through_the_providers_pages(context_factory, oidc_server, axe_check):
    page = _watched(context_factory(viewport={"width": 1280, "height": 900}).new_page())
    page.goto(oidc_server.url + "/logg-inn")
    axe_check(page)
    page.get_by_role("link", name="Logg inn med Testby ID").click()
    expect(page.get_by_role("heading", name="Testby kommune")).to_be_visible()  # the provider's own page
    page.get_by_label("Brukernavn").fill("kari@testby.kommune.no")
    page.get_by_role("button", name="Fortsett").click()
    page.wait_for_url("**/oversikt")
    expect(page.get_by_role("heading", name="Oversikt")).to_be_visible()
    assert not page.errors, page.errors
