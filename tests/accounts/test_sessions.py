"""Sessions fit the data: a staff session ends after 30 idle minutes and 12 hours at most (configurable), and
exporting or deleting a household's data asks for the password again unless it was given within 5 minutes."""

import re

from opplevelseskort.cards.models import Household
from opplevelseskort.extensions import db

from ..conftest import csrf_from

PASSWORD = "demo-passord-123"


def _sign_in(client, email):
    page = client.get("/logg-inn").text
    return client.post("/logg-inn", data={"email": email, "password": PASSWORD,
                                          "csrf_token": csrf_from(page)})


def test_idle_session_ends_after_thirty_minutes(app, client, users, frozen_clock, monkeypatch):
    from opplevelseskort.accounts import services as accounts

    accounts.set_password(users["caseworker"], PASSWORD, actor=None)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert _sign_in(client, users["caseworker"].email).status_code == 302
        frozen_clock.move(minutes=29)
        assert client.get("/barn").status_code == 200  # still there: and the clock of idleness starts again
        frozen_clock.move(minutes=29)
        assert client.get("/barn").status_code == 200
        frozen_clock.move(minutes=31)
        r = client.get("/barn")
        assert r.status_code == 302 and "/logg-inn" in r.headers["Location"] and "next=" in r.headers["Location"]
        assert "uten aktivitet" in client.get(r.headers["Location"]).text
        assert client.get("/barn").status_code == 302  # the session is gone, not only this request
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_session_lasts_twelve_hours_at_most_however_busy(client, login_as, frozen_clock):
    login_as("caseworker")
    for _ in range(12 * 4 + 1):  # a request every 15 minutes, past 12 hours
        frozen_clock.move(minutes=15)
        if client.get("/barn").status_code != 200:
            break
    r = client.get("/barn")
    assert r.status_code == 302 and "/logg-inn" in r.headers["Location"]
    assert "høyst 12 timer" in client.get("/logg-inn").text


def test_timeouts_are_configurable(app, client, login_as, frozen_clock):
    app.config["SESSION_IDLE_MINUTES"] = 5
    try:
        login_as("caseworker")
        frozen_clock.move(minutes=6)
        assert client.get("/barn").status_code == 302
    finally:
        app.config["SESSION_IDLE_MINUTES"] = 30


def test_export_and_delete_ask_for_the_password_after_five_minutes(client, login_as, household, users,
                                                                    frozen_clock):
    from opplevelseskort.accounts import services as accounts

    accounts.set_password(users["caseworker"], PASSWORD, actor=None)
    db.session.commit()
    login_as("caseworker")
    url = f"/husstand/{household.id}/eksport.json"
    assert client.get(url).status_code == 200  # the password was just given
    frozen_clock.move(minutes=6)
    r = client.get(url)
    assert r.status_code == 302 and "/logg-inn/bekreft" in r.headers["Location"]
    confirm = r.headers["Location"]
    wrong = client.post(confirm, data={"password": "feil passord"})
    assert wrong.status_code == 422 and "Feil passord." in wrong.text
    ok = client.post(confirm, data={"password": PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(url)
    assert client.get(url).status_code == 200

    frozen_clock.move(minutes=6)
    r = client.post(f"/husstand/{household.id}/slett", data={"confirm": "yes"},
                    headers={"Referer": f"http://localhost/husstand/{household.id}"})
    assert r.status_code == 302 and "/logg-inn/bekreft" in r.headers["Location"]
    assert re.search(r"next=(%2F|/)husstand(%2F|/)\d+", r.headers["Location"])  # back to the page of the form
    assert db.session.get(Household, household.id) is not None  # nothing deleted before the password
    client.post(r.headers["Location"], data={"password": PASSWORD})
    assert client.post(f"/husstand/{household.id}/slett", data={"confirm": "yes"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Household, household.id) is None
