"""Local accounts get a second factor: time-based one-time codes (pyotp) with recovery codes; required for the
roles that see children (admins and caseworkers, SECOND_FACTOR_ROLES), offered to the rest; reset by an admin
(audited); verification rate limited; a code works once."""

import re

import pyotp
import pytest

from opplevelseskort.accounts import services as accounts
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db

PASSWORD = "demo-passord-123"


@pytest.fixture
def caseworker(users):
    user = users["caseworker"]
    accounts.set_password(user, PASSWORD, actor=None)
    db.session.commit()
    return user


def _now_code(secret: str) -> str:
    """The code the app shows at the platform's "now" (accounts.clock, which a test may freeze)."""
    from opplevelseskort.core.clock import utcnow

    return pyotp.TOTP(secret).at(int(utcnow().timestamp()))


def _enable(user) -> tuple[str, list[str]]:
    secret = accounts.new_totp_secret()
    codes = accounts.enable_second_factor(user, secret, _now_code(secret), actor=user)
    db.session.commit()
    return secret, codes


def _password(client, user):
    return client.post("/logg-inn", data={"email": user.email, "password": PASSWORD})


def test_sign_in_asks_for_the_code_after_the_password(client, caseworker, frozen_clock):
    secret, _codes = _enable(caseworker)
    frozen_clock.move(seconds=60)  # a later time step than the one used to turn it on
    r = _password(client, caseworker)
    assert r.status_code == 302 and "/logg-inn/kode" in r.headers["Location"]
    assert client.get("/barn").status_code == 302  # not signed in on the password alone
    wrong = client.post("/logg-inn/kode", data={"code": "000000"})
    assert wrong.status_code == 422 and "Koden stemmer ikke" in wrong.text
    code = _now_code(secret)
    assert client.post("/logg-inn/kode", data={"code": code}).status_code == 302
    assert client.get("/barn").status_code == 200
    client.post("/logg-ut")
    _password(client, caseworker)
    again = client.post("/logg-inn/kode", data={"code": code})  # the same code a second time: refused
    assert again.status_code == 422


def test_a_recovery_code_works_once(client, caseworker):
    _secret, codes = _enable(caseworker)
    _password(client, caseworker)
    assert client.post("/logg-inn/kode", data={"code": codes[0]}).status_code == 302
    client.post("/logg-ut")
    _password(client, caseworker)
    assert client.post("/logg-inn/kode", data={"code": codes[0]}).status_code == 422
    db.session.refresh(caseworker)
    assert len(caseworker.recovery_codes) == 9
    assert db.session.scalar(db.select(AuditLog).filter_by(action="user.2fa_recovery_code"))


def test_setting_it_up_shows_the_qr_then_the_recovery_codes_once(client, login_as, caseworker):
    login_as("caseworker")
    page = client.get("/konto/tofaktor").text
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    assert "<svg" in page
    assert client.post("/konto/tofaktor", data={"code": "123456"}).status_code == 422
    done = client.post("/konto/tofaktor", data={"code": _now_code(secret)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "private, no-store"
    assert len(re.findall(r"<li><code>[0-9a-f]{4}-[0-9a-f]{4}</code></li>", done.text)) == 10
    db.session.refresh(caseworker)
    assert accounts.has_second_factor(caseworker) and caseworker.totp_secret == secret
    assert "Tofaktor er slått på for kontoen din" in client.get("/konto/tofaktor").text


def test_roles_that_see_children_must_set_it_up_first(app, client, login_as, users):
    app.config["SECOND_FACTOR_ROLES"] = ["admin", "caseworker"]
    try:
        login_as("caseworker")
        r = client.get("/barn")
        assert r.status_code == 302 and r.headers["Location"].endswith("/konto/tofaktor")
        assert "sett opp tofaktor før du går videre" in client.get("/konto/tofaktor").text
        login_as("partner")  # offered, not required
        assert client.get("/besok").status_code == 200
    finally:
        app.config["SECOND_FACTOR_ROLES"] = []


def test_an_admin_resets_it_audited_and_the_users_sessions_end(client, login_as, caseworker, users):
    _enable(caseworker)
    version = caseworker.session_version
    login_as("admin")
    page = client.get(f"/admin/brukere/{caseworker.id}").text
    assert "Slå av tofaktor" in page
    assert client.post(f"/admin/brukere/{caseworker.id}/tofaktor/nullstill").status_code == 302
    db.session.refresh(caseworker)
    assert not accounts.has_second_factor(caseworker) and caseworker.session_version == version + 1
    assert db.session.scalar(db.select(AuditLog).filter_by(action="user.2fa_reset", object_id=str(caseworker.id)))


def test_code_guessing_is_rate_limited(make_app, caseworker):
    _enable(caseworker)
    app = make_app(RATELIMIT_ENABLED=True, SECOND_FACTOR_RATE_LIMIT="5 per minute")
    c = app.test_client()
    _password(c, caseworker)
    answers = [c.post("/logg-inn/kode", data={"code": f"{n:06d}"}).status_code for n in range(7)]
    assert answers[:5] == [422] * 5 and answers[5:] == [429, 429]
