"""Staff sign in through a real OpenID provider's own pages in chromium (Canaille, tests/oidc_provider.py): an
invited caseworker is bound and reaches the dashboard; a stranger who puts the admin's e-mail on their own profile
page at the provider is refused, and nothing is bound."""

import json

import pytest
from playwright.sync_api import expect

from opplevelseskort import create_app
from opplevelseskort.accounts import services as accounts
from opplevelseskort.accounts.models import User
from opplevelseskort.core.municipalities import get_or_create_municipality
from opplevelseskort.extensions import db

from ..conftest import TEST_CONFIG
from .conftest import LiveServer, _watched

pytestmark = pytest.mark.browser


@pytest.fixture
def oidc_server(tmp_path, canaille, monkeypatch):
    server = LiveServer(None)
    callback = f"{server.url}/logg-inn/oidc/testby/svar"
    client = canaille.client([callback])
    monkeypatch.setenv("OIDC_BROWSER_SECRET", client.client_secret)
    entry = {"name": "testby", "label": "Testby ID", "issuer": canaille.issuer, "client_id": client.client_id,
             "client_secret_env": "OIDC_BROWSER_SECRET", "municipality": "3001", "trust_email": True}
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "oidc.sqlite"),
                      "INSTANCE_PATH": str(tmp_path), "WTF_CSRF_ENABLED": True, "SERVER_NAME": None,
                      "OIDC_PROVIDERS": json.dumps([entry]), "PREFERRED_URL_SCHEME": "http"})
    with app.app_context():
        db.create_all()
        muni = get_or_create_municipality("3001", "Testby")
        kari = accounts.create_user("kari@testby.kommune.no", accounts.unusable_password(), "caseworker",
                                municipality_id=muni.id)
        kari.oidc_invite_provider = "testby"
        accounts.create_user("admin@testby.kommune.no", "korrekt hest batteri stift", "admin", municipality_id=muni.id)
        db.session.commit()
        db.session.remove()
    server.app = server.server.app = app  # the port first: the provider must know the callback address
    server.start()
    server.flask_app = app
    yield server
    server.stop()


def test_an_invited_caseworker_signs_in_through_the_providers_pages(context_factory, oidc_server, canaille,
                                                                    axe_check):
    canaille.sign_in_as(canaille.person("kari", "kari@testby.kommune.no"))
    page = _watched(context_factory(viewport={"width": 1280, "height": 900}).new_page())
    page.goto(oidc_server.url + "/logg-inn")
    axe_check(page)
    page.get_by_role("link", name="Logg inn med Testby ID").click()
    page.wait_for_url("**/oversikt")
    expect(page.get_by_role("heading", name="Oversikt")).to_be_visible()
    assert not page.errors, page.errors
    with oidc_server.flask_app.app_context():
        assert db.session.scalar(db.select(User.oidc_subject).filter_by(email="kari@testby.kommune.no")) == "kari"


def test_an_email_set_on_the_providers_profile_page_takes_over_nothing(context_factory, oidc_server, canaille):
    # a name of its own: the provider lives for the whole session, and tests/accounts/test_oidc.py has a "mallory"
    # (two accounts of one name made the profile page of either fail when both tests ran in one worker)
    canaille.sign_in_as(canaille.person("mallory-browser", "mallory.browser@example.org"))
    page = _watched(context_factory(viewport={"width": 1280, "height": 900}).new_page())
    page.goto(canaille.issuer + "/profile/mallory-browser")  # the provider's own profile page
    page.locator("#emails-0").fill("admin@testby.kommune.no")
    page.locator("#edit-profile").click()
    page.wait_for_load_state()
    page.goto(oidc_server.url + "/logg-inn")
    page.get_by_role("link", name="Logg inn med Testby ID").click()
    page.wait_for_url("**/logg-inn")
    expect(page.get_by_text("ikke knyttet til innloggingen hos Testby ID")).to_be_visible()
    with oidc_server.flask_app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(email="admin@testby.kommune.no"))
        assert admin.oidc_subject is None
