"""Passkeys in chromium with a virtual authenticator (the DevTools WebAuthn domain): a staff user adds one on the
account page and then signs in with it after the password, through the page's own script."""

import pytest
from playwright.sync_api import expect

from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db
from opplevelseskort.partners.services import create_staff_user

from .conftest import _watched

pytestmark = pytest.mark.browser

PASSWORD = "tykk blå fjellbjørk 1987"


@pytest.fixture
def passkey_user(live_app):
    with live_app.app_context():
        user = create_staff_user("passnokkel@demo.no", PASSWORD, Role.ANALYST,
                                 municipality_id=db.session.scalar(db.text("SELECT min(id) FROM municipality")))
        user_id, email = user.id, user.email
        db.session.commit()
        db.session.remove()  # no transaction left open beside the live server's
    yield email
    with live_app.app_context():  # the session-wide demo keeps no trace of this account
        for table, column in (("passkey", "user_id"), ("audit_log", "actor_id"), ("user_account", "id")):
            db.session.execute(db.text(f"DELETE FROM {table} WHERE {column} = :u"), {"u": user_id})
        db.session.commit()


def _password(page, base, email):
    page.goto(base + "/logg-inn")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Passord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()


def test_a_passkey_is_added_and_then_signs_in(context_factory, live_server, passkey_user, axe_check):
    # WebAuthn needs a secure context with a host name for the relying party: http://localhost is one.
    base = live_server.url.replace("127.0.0.1", "localhost")
    ctx = context_factory(viewport={"width": 1280, "height": 900})
    page = _watched(ctx.new_page())
    cdp = ctx.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]

    _password(page, base, passkey_user)
    page.wait_for_url("**/oversikt")
    page.goto(base + "/konto/tofaktor")
    axe_check(page)
    page.get_by_label("Navn på passnøkkelen").fill("Chromium")
    page.get_by_role("button", name="Legg til passnøkkel").click()
    expect(page.get_by_text("Passnøkkelen er lagt til")).to_be_visible()
    expect(page.get_by_role("cell", name="Chromium", exact=True)).to_be_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["rpId"] == "localhost"

    ctx.clear_cookies()  # signed out
    _password(page, base, passkey_user)
    page.wait_for_url("**/logg-inn/kode**")
    expect(page.get_by_role("heading", name="Bekreft at det er deg")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Bruk passnøkkel").click()
    page.wait_for_url("**/oversikt")
    expect(page.get_by_role("heading", name="Oversikt")).to_be_visible()
    after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert after[0]["signCount"] > credentials[0]["signCount"]
    assert not page.errors, page.errors
