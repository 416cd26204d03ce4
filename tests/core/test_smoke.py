from opplevelseskort.core.models import User
from opplevelseskort.extensions import db


def test_users_fixture_creates_one_user_per_role(users):
    assert db.session.scalar(db.select(db.func.count(User.id))) == 5


def test_transaction_is_rolled_back_between_tests():
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_dashboard_for_logged_in_user(client, login_as):
    login_as("admin")
    r = client.get("/oversikt")
    assert r.status_code == 200
    assert "admin@test.no" in r.text
