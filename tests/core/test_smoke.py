from opplevelseskort.accounts.models import User
from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db


def test_users_fixture_creates_one_user_per_role(users):
    assert db.session.scalar(db.select(db.func.count(User.id))) == len(Role) == 6


def test_transaction_is_rolled_back_between_tests():
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_dashboard_for_logged_in_user(client, login_as):
    login_as("admin")
    r = client.get("/oversikt")
    assert r.status_code == 200
    assert "admin@test.no" in r.text


def test_dashboards_show_todays_counts(client, users, muni, zone_set):
    from opplevelseskort.checkin import services as checkin
    from opplevelseskort.partners import services as partners

    from ..conftest import login
    from ..factories import make_card, offer_values

    offer = partners.save_offer(users["partner"], offer_values(), {})
    for name in ("Ada", "Bo"):
        checkin.record_checkin(make_card(muni, users, name).short_code, offer, actor=users["partner"])
    login(client, users["partner"])
    page = client.get("/oversikt").text
    assert '<span class="count">2</span> besøk registrert i dag' in page
    login(client, users["caseworker"])
    page = client.get("/oversikt").text
    assert '<span class="count">0</span> søknader venter' in page and "besøk registrert" not in page
    login(client, users["volunteer"])
    assert "utlån skal leveres" in client.get("/oversikt").text
