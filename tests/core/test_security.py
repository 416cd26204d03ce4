"""Sessions that end, rate limits per real client behind a proxy, one limiter for every card-code door,
and the password rule."""

import pytest

from opplevelseskort.accounts import services as accounts
from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.core.errors import DomainError
from opplevelseskort.extensions import db
from opplevelseskort.partners.services import create_staff_user

from ..conftest import PASSWORD


def _login(client, email, password=PASSWORD, **kw):
    return client.post("/logg-inn", data={"email": email, "password": password}, **kw)


def _session_cookie(client):
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_logout_ends_the_session_server_side(app, client, users, household):  # noqa: F811
    assert _login(client, "caseworker@test.no").status_code == 302
    stolen = _session_cookie(client)
    assert "Emma" in client.get("/barn").text
    assert client.post("/logg-ut").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    r = replay.get("/barn")
    assert r.status_code == 302 and "/logg-inn" in r.headers["Location"]
    assert "Emma" not in replay.get("/barn", follow_redirects=True).text


def test_password_change_and_disable_end_replayed_sessions(app, client, users):
    _login(client, "analyst@test.no")
    stolen = _session_cookie(client)
    accounts.set_password(users["analyst"], "et-nytt-langt-passord", actor=users["admin"])
    db.session.flush()
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/oversikt").status_code == 302
    _login(client, "analyst@test.no", "et-nytt-langt-passord")
    stolen = _session_cookie(client)
    accounts.update_user(users["analyst"], actor=users["admin"], active=False)
    db.session.flush()
    replay.set_cookie("session", stolen)
    assert replay.get("/oversikt").status_code == 302


def _from(addr):
    return {"headers": {"X-Forwarded-For": addr}}


def test_login_limit_is_per_real_client_behind_a_trusted_proxy(make_app, users):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", PROXY_FIX_X_FOR=1)
    c = app.test_client()
    attacker = [_login(c, "caseworker@test.no", "feil", **_from("203.0.113.9")).status_code for _ in range(4)]
    assert attacker == [200, 200, 200, 429]
    # Everyone else reaches the app through the same proxy, but is another client: not locked out.
    assert _login(app.test_client(), "caseworker@test.no", **_from("198.51.100.7")).status_code == 302
    # The same attacker on another account is limited per account + address, not blocked for all accounts.
    assert _login(c, "analyst@test.no", "feil", **_from("203.0.113.9")).status_code == 200


def test_forwarded_for_is_ignored_without_a_configured_proxy(make_app, users):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    c = app.test_client()
    codes = [_login(c, "caseworker@test.no", "feil", **_from(f"203.0.113.{i}")).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]  # a spoofed header does not buy new attempts


def test_one_address_cannot_spray_many_accounts(make_app, users):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", LOGIN_ADDRESS_RATE_LIMIT="5 per minute")
    c = app.test_client()
    codes = [_login(c, f"user{i}@test.no", "feil").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]


@pytest.mark.parametrize(("password", "code"), [("12345678", "password_common"), ("password", "password_common"),
                                                ("passord1", "password_common"), ("qwertyuiop", "password_common"),
                                                ("aaaaaaaaaa", "password_common"), ("kort", "password_too_short")])
def test_weak_passwords_are_refused(users, password, code):
    with pytest.raises(DomainError) as exc:
        accounts.set_password(users["analyst"], password, actor=users["admin"])
    assert exc.value.code == code
    assert accounts.authenticate("analyst@test.no", PASSWORD) is not None


def test_a_long_passphrase_is_accepted(users):
    """A passphrase of common words is long enough to be strong: it is taken, and it is what logs in."""
    accounts.set_password(users["analyst"], "korrekt hest batteri stift", actor=users["admin"])
    assert accounts.authenticate("analyst@test.no", "korrekt hest batteri stift") == users["analyst"]
    assert accounts.authenticate("analyst@test.no", PASSWORD) is None


def test_weak_password_on_the_user_form_is_a_form_error(client, login_as, muni):
    login_as("admin")
    r = client.post("/admin/brukere/ny", data={"email": "ny@test.no", "password": "password", "role": "analyst",
                                               "municipality_id": muni.id, "partner_id": 0})
    assert r.status_code == 422 and "vanlig" in r.text
    assert accounts.db.session.scalar(db.select(accounts.User).filter_by(email="ny@test.no")) is None


# --- one limiter for every door that resolves a card code -------------------------------------

@pytest.fixture
def desk(muni, users, zone_set):
    from utstyr.models import ItemType, Location
    from utstyr.services import add_units

    loc = Location(municipality_id=muni.id, name="Sentralen")
    loc.volunteers.append(users["volunteer"])
    skis = ItemType(municipality_id=muni.id, name="Ski", category="ski", size="130 cm", default_loan_days=7)
    db.session.add_all([loc, skis])
    db.session.flush()
    return loc, add_units(skis, loc, 2)


GUESS = "ABCDEFGHJ"  # a short code with a wrong check character


def test_card_guesses_through_every_door_share_one_budget(make_app, users, desk):
    from ..conftest import login

    loc, units = desk
    app = make_app(RATELIMIT_ENABLED=True, CARD_LOOKUP_RATE_LIMIT="4 per minute")
    raw = api_tokens.create_token(users["volunteer"], "desk")[1]
    db.session.flush()
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {raw}"}
    page = login(app.test_client(), users["volunteer"])
    body = {"unit_codes": [units[0].label_code], "card_code": GUESS}
    assert api.post("/api/v1/loans", json=body, headers=bearer).status_code == 404
    assert api.post("/api/v1/loans", json=body, headers=bearer).status_code == 404
    form = {"card_code": GUESS, "unit_codes": units[0].label_code, "location": loc.id}
    assert page.post("/utstyr/utlan", data=form).status_code == 422
    assert page.post("/utstyr/utlan", data=form).status_code == 422
    r = api.post("/api/v1/loans", json=body, headers=bearer)
    assert r.status_code == 429 and r.json["error"] == "rate_limited"
    assert page.post("/utstyr/utlan", data=form).status_code == 429


@pytest.mark.parametrize("door", ["api_card", "api_checkin", "scanner", "behalf"])
def test_each_card_door_is_limited(make_app, users, door, muni, zone_set):
    from opplevelseskort.partners import services as partners

    from ..conftest import login
    from ..factories import offer_values

    app = make_app(RATELIMIT_ENABLED=True, CARD_LOOKUP_RATE_LIMIT="2 per minute")
    from datetime import UTC, datetime, timedelta

    offer = partners.save_offer(users["partner"], offer_values(requires_booking=True), {})
    start = datetime.now(UTC) + timedelta(days=2)
    occ = partners.add_occasion(offer, start, start + timedelta(hours=2), 5, actor=users["partner"])
    db.session.flush()
    raw = api_tokens.create_token(users["partner"], "door")[1]
    bearer = {"Authorization": f"Bearer {raw}"}
    c = app.test_client()

    def attempt():
        if door == "api_card":
            return c.get(f"/api/v1/cards/{GUESS}", headers=bearer).status_code
        if door == "api_checkin":
            return c.post("/api/v1/checkins", json={"code": GUESS, "offer_id": offer.id}, headers=bearer).status_code
        if door == "scanner":
            login(c, users["partner"])
            return c.post("/skann", data={"offer_id": offer.id, "code": GUESS, "source": "typed"}).status_code
        login(c, users["caseworker"])
        return c.post(f"/tilbud/{offer.id}/pamelding/{occ.id}/pa-vegne", data={"card_code": GUESS}).status_code

    codes = [attempt() for _ in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]


def test_card_limit_is_per_user_not_per_shared_address(make_app, users, other_partner_org, muni, zone_set):
    """One partner's typos behind the venue's proxy do not block another partner's door."""
    other = create_staff_user("p2@test.no", PASSWORD, "partner", municipality_id=muni.id,
                              partner_id=other_partner_org.id)
    db.session.flush()
    app = make_app(RATELIMIT_ENABLED=True, CARD_LOOKUP_RATE_LIMIT="2 per minute")
    a = api_tokens.create_token(users["partner"], "a")[1]
    b = api_tokens.create_token(other, "b")[1]
    c = app.test_client()
    for _ in range(3):
        last = c.get(f"/api/v1/cards/{GUESS}", headers={"Authorization": f"Bearer {a}"}).status_code
    assert last == 429
    assert c.get(f"/api/v1/cards/{GUESS}", headers={"Authorization": f"Bearer {b}"}).status_code != 429


# --- smaller items ------------------------------------------------------------------------------

def _suspend(partner_org, users):
    from opplevelseskort.partners import services as partners

    partners.suspend_partner(partner_org, "avtale brutt", actor=users["admin"])
    db.session.flush()


def test_suspended_partner_cannot_look_up_cards_or_add_occasions(client, users, partner_org, muni, zone_set):
    from datetime import UTC, datetime, timedelta

    from opplevelseskort.partners import services as partners
    from opplevelseskort.partners.models import Occasion

    from ..factories import make_card, offer_values

    offer = partners.save_offer(users["partner"], offer_values(), {})
    card = make_card(muni, users, "Siri")
    raw = api_tokens.create_token(users["partner"], "door")[1]
    _suspend(partner_org, users)
    r = client.get(f"/api/v1/cards/{card.short_code}", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 403 and r.json["error"] == "partner_inactive"
    start = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(DomainError) as exc:
        partners.add_occasion(offer, start, start + timedelta(hours=1), 5, actor=users["partner"])
    assert exc.value.code == "partner_inactive"
    assert db.session.scalar(db.select(db.func.count(Occasion.id))) == 0


def test_age_from_zero_is_accepted_on_the_offer_form(client, login_as, users, zone_set):
    from opplevelseskort.partners.models import Offer

    login_as("partner")
    r = client.post("/mine-tilbud/ny", data={
        "title": "Babysang", "category": "culture", "age_min": "0", "age_max": "2", "start_date": "2026-01-01",
        "end_date": "2030-12-31", "status": "published", "use_limit_period": "period", "price_nok": "0",
        "companions_allowed": "1"})
    assert r.status_code == 302
    assert db.session.scalar(db.select(Offer).filter_by(title="Babysang")).age_min == 0


def test_offer_page_with_the_family_key_is_private(client, users, muni, zone_set):
    from opplevelseskort.partners import services as partners

    from ..factories import make_card, offer_values

    offer = partners.save_offer(users["partner"], offer_values(), {})
    card = make_card(muni, users, "Kari")
    r = client.get(f"/tilbud/{offer.id}?kort={card.family_token}")
    assert r.status_code == 200
    assert "noindex" in r.headers["X-Robots-Tag"] and "no-store" in r.headers["Cache-Control"]
    assert r.headers["Referrer-Policy"] == "no-referrer"
    public = client.get(f"/tilbud/{offer.id}")
    assert "X-Robots-Tag" not in public.headers


def test_an_app_without_limits_keeps_them_off_after_another_app_turned_them_on(app, make_app, users):
    """Flask-Limiter's switch lives on its one shared instance: building a limited app must not turn limits on
    for an app built earlier without them (the suite's own app, a CLI beside a worker)."""
    make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    c = app.test_client()
    assert [_login(c, "caseworker@test.no", "feil").status_code for _ in range(12)] == [200] * 12  # 10 a minute, were they on
