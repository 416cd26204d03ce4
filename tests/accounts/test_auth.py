"""Login, logout, passwords, sessions, rate limits, CSRF and user administration."""

import pytest

from opplevelseskort.accounts import services
from opplevelseskort.accounts.models import User
from opplevelseskort.core.errors import Conflict, DomainError
from opplevelseskort.core.models import AuditLog, Role
from opplevelseskort.extensions import db
from opplevelseskort.partners.services import create_staff_user

from ..conftest import PASSWORD, csrf_from, login


def _login(client, email, password):
    return client.post("/logg-inn", data={"email": email, "password": password})


def test_password_is_hashed_never_stored_plain(users):
    u = users["caseworker"]
    assert PASSWORD not in u.password_hash
    assert u.password_hash.startswith("pbkdf2:")


def test_login_with_right_password_goes_to_dashboard(client, users):
    r = _login(client, "caseworker@test.no", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/oversikt")
    assert client.get("/oversikt").status_code == 200


def test_email_is_case_insensitive(client, users):
    assert _login(client, "CaseWorker@Test.no ", PASSWORD).status_code == 302


@pytest.mark.parametrize("email, password", [("caseworker@test.no", "wrong"), ("nobody@test.no", PASSWORD)])
def test_failed_login_gives_the_same_generic_message(client, users, email, password):
    r = _login(client, email, password)
    assert r.status_code == 200
    assert "Feil e-post eller passord." in r.text
    assert client.get("/oversikt").status_code == 302


def test_disabled_user_cannot_log_in_and_loses_session(client, users):
    _login(client, "caseworker@test.no", PASSWORD)
    services.update_user(users["caseworker"], actor=users["admin"], active=False)
    db.session.flush()
    assert client.get("/oversikt").status_code == 302  # old session no longer valid
    r = _login(client, "caseworker@test.no", PASSWORD)
    assert "Feil e-post eller passord." in r.text


def test_open_redirect_after_login_is_refused(client, users):
    r = client.post("/logg-inn?next=https://evil.example/", data={"email": "admin@test.no", "password": PASSWORD})
    assert r.headers["Location"].endswith("/oversikt")


def test_logout_needs_post(client, login_as):
    login_as("analyst")
    assert client.get("/logg-ut").status_code == 405
    assert client.post("/logg-ut").status_code == 302
    assert client.get("/oversikt").status_code == 302


def test_change_password_requires_current_and_ends_other_sessions(app, client, users):
    other = app.test_client()
    login(other, users["analyst"])
    login(client, users["analyst"])
    r = client.post("/passord", data={"current": "nope", "new": "blaatt-hav-2099", "confirm": "blaatt-hav-2099"})
    assert r.status_code == 422 and "Nåværende passord er feil." in r.text
    r = client.post("/passord", data={"current": PASSWORD, "new": "blaatt-hav-2099", "confirm": "blaatt-hav-2099"})
    assert r.status_code == 302
    assert client.get("/oversikt").status_code == 200  # this session continues
    assert other.get("/oversikt").status_code == 302  # the other one ended
    assert services.authenticate("analyst@test.no", "blaatt-hav-2099") is not None


def test_short_password_refused(users):
    with pytest.raises(DomainError) as exc:
        services.set_password(users["analyst"], "kort", actor=users["admin"])
    assert exc.value.code == "password_too_short"


def test_duplicate_email_refused(users):
    with pytest.raises(Conflict):
        services.create_user("ADMIN@test.no", PASSWORD, Role.ADMIN)


def test_partner_user_needs_partner_org(muni):
    with pytest.raises(DomainError) as exc:
        create_staff_user("p@test.no", PASSWORD, Role.PARTNER, municipality_id=muni.id)
    assert exc.value.code == "partner_required"


def test_login_is_rate_limited(make_app, users):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    c = app.test_client()
    codes = [c.post("/logg-inn", data={"email": "ratelimit@test.no", "password": "x"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "For mange forsøk" in c.post("/logg-inn", data={"email": "ratelimit@test.no", "password": "x"}).text
    # per account and address: the same address may still try another account
    assert c.post("/logg-inn", data={"email": "a@b.no", "password": "x"}).status_code == 200


def test_forms_require_csrf_token_when_enabled(make_app, users):
    app = make_app(WTF_CSRF_ENABLED=True)
    c = app.test_client()
    r = c.post("/logg-inn", data={"email": "admin@test.no", "password": PASSWORD})
    assert r.status_code == 400
    page = c.get("/logg-inn")
    token = csrf_from(page.text)
    r = c.post("/logg-inn", data={"email": "admin@test.no", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302


def test_admin_creates_user_with_role_and_it_is_audited(client, login_as, muni):
    login_as("admin")
    r = client.post("/admin/brukere/ny", data={"email": "ny@test.no", "name": "Ny", "password": "langt og trygt 9",
                                                "role": "analyst", "municipality_id": muni.id, "partner_id": 0})
    assert r.status_code == 302
    u = db.session.scalar(db.select(User).filter_by(email="ny@test.no"))
    assert u.role == Role.ANALYST and u.municipality_id == muni.id
    assert db.session.scalar(db.select(AuditLog).filter_by(action="user.create", object_id=str(u.id)))


def test_admin_form_error_writes_nothing(client, login_as, muni):
    login_as("admin")
    before = db.session.scalar(db.select(db.func.count(User.id)))
    r = client.post("/admin/brukere/ny", data={"email": "not-an-email", "password": "langt og trygt 9", "role": "analyst",
                                                "municipality_id": muni.id, "partner_id": 0})
    assert r.status_code == 422
    assert db.session.scalar(db.select(db.func.count(User.id))) == before


def test_admin_changes_role_and_disables(client, login_as, users, muni):
    login_as("admin")
    target = users["analyst"]
    r = client.post(f"/admin/brukere/{target.id}", data={"name": "X", "role": "caseworker", "municipality_id": muni.id,
                                                          "partner_id": 0})  # active unchecked
    assert r.status_code == 302
    db.session.refresh(target)
    assert target.role == Role.CASEWORKER and target.active is False


def test_admin_cannot_disable_self(users):
    with pytest.raises(DomainError) as exc:
        services.update_user(users["admin"], actor=users["admin"], active=False)
    assert exc.value.code == "cannot_disable_self"


def test_municipality_admin_sees_only_own_users(client, users, other_muni):
    limited = services.create_user("lim@test.no", PASSWORD, Role.ADMIN, municipality_id=other_muni.id)
    outsider = services.create_user("out@test.no", PASSWORD, Role.ANALYST, municipality_id=other_muni.id)
    login(client, limited)
    page = client.get("/admin/brukere").text
    assert "out@test.no" in page and "caseworker@test.no" not in page
    assert client.get(f"/admin/brukere/{users['caseworker'].id}").status_code == 404
    assert client.get(f"/admin/brukere/{outsider.id}").status_code == 200


def test_a_refused_password_stands_under_the_password_field(client, login_as, muni):
    """Every error under its own field: the password rule's refusal under «Passord», not under «E-post»."""
    import re

    login_as("admin")
    r = client.post("/admin/brukere/ny", data={"email": "ny@test.no", "password": "weakpwweakpw", "role": "analyst",
                                                "municipality_id": muni.id, "partner_id": 0})
    assert r.status_code == 422
    password_field = re.search(r'<div class="field[^"]*">\s*<label for="password".*?</div>', r.text, re.S).group(0)
    email_field = re.search(r'<div class="field[^"]*">\s*<label for="email".*?</div>', r.text, re.S).group(0)
    assert 'class="error"' in password_field and 'class="error"' not in email_field


def test_a_new_user_without_a_typed_password_gets_a_link_to_choose_one(client, login_as, muni):
    """No password is sent or stored in a message: the new user gets a single-use link to choose their own."""
    import re

    from opplevelseskort.core.models import OutboxMessage

    login_as("admin")
    r = client.post("/admin/brukere/ny", data={"email": "lenke@test.no", "name": "Lenke", "password": "",
                                                "role": "analyst", "municipality_id": muni.id, "partner_id": 0})
    assert r.status_code == 302
    msg = db.session.scalar(db.select(OutboxMessage).filter_by(kind="user_invite", recipient="lenke@test.no"))
    path = re.search(r"(/passord/ny/\S+)", msg.body).group(1)
    assert db.session.scalar(db.select(AuditLog).filter_by(action="user.invite"))
    client.post("/logg-ut")
    r = client.post(path, data={"new": "mitt eget passord 5", "confirm": "mitt eget passord 5"})
    assert r.status_code == 302
    from opplevelseskort.accounts import services as accounts

    assert accounts.authenticate("lenke@test.no", "mitt eget passord 5") is not None
