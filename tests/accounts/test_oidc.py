"""Staff sign-in through the municipality's identity provider, against a real OpenID provider (Canaille, in
tests/oidc_provider.py): the binding rules (invitation, account holder, just-in-time; never an e-mail claim alone),
a provider belongs to its municipality, tokens as the standard says, levels per role, the second factor, and
provider trouble as a page."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from opplevelseskort.accounts import services as accounts
from opplevelseskort.accounts.models import User
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db

from ..conftest import PASSWORD, login

CALLBACK = "http://localhost/logg-inn/oidc/{}/svar"


@pytest.fixture
def oidc_app(make_app, canaille, monkeypatch):
    """An app whose OIDC_PROVIDERS has the given entries (each a client registered at the provider)."""
    def build(*entries, **config):
        full, clients = [], {}
        for entry in entries or ({},):
            entry = {"name": "test", "label": "Testby ID", "municipality": "3001", **entry}
            client = canaille.client([CALLBACK.format(entry["name"])], **entry.pop("_client", {}))
            clients[entry["name"]] = client
            monkeypatch.setenv(f"OIDC_SECRET_{entry['name'].upper()}", client.client_secret)
            full.append({"issuer": canaille.issuer, "client_id": client.client_id,
                         "client_secret_env": f"OIDC_SECRET_{entry['name'].upper()}", **entry})
        app = make_app(OIDC_PROVIDERS=json.dumps(full), PREFERRED_URL_SCHEME="http", **config)
        app.clients = clients
        return app
    return build


def _sign_in(app, c=None, name="test"):
    """A browser's round trip: our redirect to the provider, the provider's answer, our callback."""
    c = c or app.test_client()
    r = c.get(f"/logg-inn/oidc/{name}")
    assert r.status_code == 302, r.text
    back = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    parts = urlsplit(back.headers["Location"])
    assert "code" in parse_qs(parts.query), back.headers["Location"]
    return c, c.get(parts.path + "?" + parts.query)


def _signed_in(c) -> bool:
    return c.get("/oversikt").status_code == 200


def _invite(email, role="caseworker", muni_id=None, provider="test"):
    user = accounts.create_user(email, accounts.unusable_password(), role, municipality_id=muni_id)
    user.oidc_invite_provider = provider
    db.session.commit()
    return user


def _refusals(reason):
    return [a for a in db.session.scalars(db.select(AuditLog).filter_by(action="user.oidc_refused"))
            if a.details.get("reason") == reason]


# --- binding ------------------------------------------------------------------------------------------------

def test_an_invited_person_is_bound_once_then_found_by_subject(oidc_app, canaille, muni):
    app = oidc_app({"trust_email": True})
    user = _invite("kari@testby.kommune.no", muni_id=muni.id)
    person = canaille.person("kari", "Kari@testby.kommune.no")
    canaille.sign_in_as(person)
    c, done = _sign_in(app)
    assert done.status_code == 302 and done.headers["Location"].endswith("/oversikt")
    assert _signed_in(c)
    db.session.refresh(user)
    assert (user.oidc_issuer, user.oidc_subject, user.oidc_invite_provider) == (canaille.issuer, "kari", None)
    bind = db.session.scalar(db.select(AuditLog).filter_by(action="user.oidc_bind", object_id=str(user.id)))
    assert bind.details == {"provider": "test", "how": "invitation"}
    canaille.set_email(person, "kari.ny@annet.no")  # from now on the subject finds the account, whatever e-mail
    _c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/oversikt")


def test_an_email_claim_never_takes_over_an_account_nobody_invited(oidc_app, canaille, users, muni):
    """A stranger at the provider puts a staff e-mail on their own profile: refused, audited, nothing bound, and
    the true owner's password still works. Also with an entry that trusts its e-mails, and for the admin."""
    app = oidc_app({"trust_email": True, "jit": True, "role_map": {"Saksbehandlere": "caseworker"},
                    "roles_claim": "groups"})
    stranger = canaille.person("mallory", "mallory@example.org", groups=["Saksbehandlere"])
    for target in ("caseworker@test.no", "admin@test.no"):
        canaille.set_email(stranger, target)
        canaille.sign_in_as(stranger)
        c, done = _sign_in(app)
        assert done.headers["Location"].endswith("/logg-inn") and not _signed_in(c)
        assert "ikke knyttet til innloggingen" in c.get("/logg-inn").text
    assert db.session.scalar(db.select(User).filter_by(oidc_subject="mallory")) is None
    assert len(_refusals("email_not_bound")) == 2
    owner = app.test_client()
    assert owner.post("/logg-inn", data={"email": "caseworker@test.no", "password": PASSWORD}).status_code == 302


def test_an_unconfirmed_email_does_not_redeem_an_invitation(oidc_app, canaille, muni):
    """Canaille sends no `email_verified`; an entry that does not trust its e-mails binds nobody by e-mail."""
    app = oidc_app()
    user = _invite("liv@testby.kommune.no", muni_id=muni.id)
    stranger = canaille.person("eve", "liv@testby.kommune.no")
    canaille.sign_in_as(stranger)
    c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/logg-inn") and not _signed_in(c)
    db.session.refresh(user)
    assert user.oidc_subject is None and user.oidc_invite_provider == "test"
    assert _refusals("email_unverified")


def test_an_invitation_for_another_entry_is_not_redeemed(oidc_app, canaille, muni):
    app = oidc_app({"name": "test", "trust_email": True}, {"name": "annen", "trust_email": True})
    user = _invite("per@testby.kommune.no", muni_id=muni.id, provider="annen")
    canaille.sign_in_as(canaille.person("per", "per@testby.kommune.no"))
    _c, done = _sign_in(app, name="test")
    assert done.headers["Location"].endswith("/logg-inn")
    _c, done = _sign_in(app, name="annen")
    assert done.headers["Location"].endswith("/oversikt")
    db.session.refresh(user)
    assert user.oidc_subject == "per"


def test_the_account_holder_binds_from_their_account_page_and_an_admin_unbinds(oidc_app, canaille, users, muni):
    app = oidc_app()
    c = app.test_client()
    login(c, users["caseworker"])
    assert "Knytt til Testby ID" in c.get("/konto").text
    r = c.post("/konto/innlogging/test")
    assert r.status_code == 302
    canaille.sign_in_as(canaille.person("cw", "helt.annen@example.org"))
    back = urlsplit(requests.get(r.headers["Location"], allow_redirects=False, timeout=10).headers["Location"])
    done = c.get(back.path + "?" + back.query)
    assert done.headers["Location"].endswith("/konto")
    user = users["caseworker"]
    db.session.refresh(user)
    assert user.oidc_subject == "cw"
    fresh, done = _sign_in(app)
    assert done.headers["Location"].endswith("/oversikt")
    admin = app.test_client()
    login(admin, users["admin"])
    assert admin.post(f"/admin/brukere/{user.id}/innlogging", data={"handling": "fjern"}).status_code == 302
    db.session.refresh(user)
    assert user.oidc_subject is None
    assert db.session.scalar(db.select(AuditLog).filter_by(action="user.oidc_unbind", object_id=str(user.id)))
    assert not _signed_in(fresh)  # unbinding ends the sessions


def test_an_admin_invites_for_a_provider_of_the_users_municipality_only(oidc_app, users, muni, canaille):
    app = oidc_app({"municipality": "3001"})
    admin = app.test_client()
    login(admin, users["admin"])
    analyst = users["analyst"]
    assert "Inviter til innlogging via" in admin.get(f"/admin/brukere/{analyst.id}").text
    assert admin.post(f"/admin/brukere/{analyst.id}/innlogging", data={"provider": "test"}).status_code == 302
    db.session.refresh(analyst)
    assert analyst.oidc_invite_provider == "test"
    assert admin.post(f"/admin/brukere/{analyst.id}/innlogging", data={"provider": "finnes-ikke"}).status_code == 302
    db.session.refresh(analyst)
    assert analyst.oidc_invite_provider == "test"
    assert db.session.scalar(db.select(AuditLog).filter_by(action="user.oidc_invite", object_id=str(analyst.id)))


# --- a provider belongs to a municipality -----------------------------------------------------------------------

def test_another_municipalitys_entry_neither_signs_in_nor_re_roles(oidc_app, canaille, users, muni, other_muni):
    app = oidc_app({"municipality": other_muni.number, "jit": True, "trust_email": True, "roles_claim": "groups",
                    "role_map": {"Admins": "admin"}, "allowed_roles": ["admin"]})
    analyst = users["analyst"]
    analyst.oidc_issuer, analyst.oidc_subject = canaille.issuer, "ana"  # bound before, through 3001's entry
    db.session.commit()
    canaille.sign_in_as(canaille.person("ana", "analyst@test.no", groups=["Admins"]))
    c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/logg-inn") and not _signed_in(c)
    db.session.refresh(analyst)
    assert analyst.role == "analyst"
    assert _refusals("other_municipality")


def test_the_admin_without_a_municipality_never_signs_in_through_a_provider(oidc_app, canaille, users):
    app = oidc_app()
    admin = users["admin"]
    admin.oidc_issuer, admin.oidc_subject = canaille.issuer, "root"
    db.session.commit()
    canaille.sign_in_as(canaille.person("root", "admin@test.no"))
    c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/logg-inn") and not _signed_in(c)
    assert _refusals("global_admin")


# --- just-in-time accounts, scopes and claims --------------------------------------------------------------------

def test_jit_takes_the_role_from_groups_within_the_allowed_roles(oidc_app, canaille, muni):
    app = oidc_app({"jit": True, "trust_email": True, "scopes": ["openid", "email", "profile", "groups"],
                    "roles_claim": "groups", "role_map": {"Analytikere": "analyst", "Saksbehandlere": "caseworker",
                                                          "IT-admin": "admin"}})
    person = canaille.person("nyansatt", "ny@testby.kommune.no", groups=["Analytikere"])
    canaille.sign_in_as(person)
    c, done = _sign_in(app)
    query = parse_qs(urlsplit(c.get("/logg-inn/oidc/test").headers["Location"]).query)
    assert query["scope"] == ["openid email profile groups"] and query["code_challenge_method"] == ["S256"]
    assert done.headers["Location"].endswith("/oversikt")
    user = db.session.scalar(db.select(User).filter_by(oidc_subject="nyansatt"))
    assert user.role == "analyst" and user.municipality_id == muni.id
    # admin is not among the entry's allowed roles (admin only when named): the group gives nothing
    admin_only = canaille.person("itsjef", "it@testby.kommune.no", groups=["IT-admin"])
    canaille.sign_in_as(admin_only)
    _c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/logg-inn")
    assert db.session.scalar(db.select(User).filter_by(email="it@testby.kommune.no")) is None


def test_jit_does_not_create_from_an_unverified_email(oidc_app, canaille, muni):
    app = oidc_app({"jit": True, "roles_claim": "groups", "role_map": {"Analytikere": "analyst"}})
    canaille.sign_in_as(canaille.person("uverifisert", "u@testby.kommune.no", groups=["Analytikere"]))
    _c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/logg-inn")
    assert db.session.scalar(db.select(User).filter_by(oidc_subject="uverifisert")) is None


# --- levels per role and the second factor -------------------------------------------------------------------

def test_the_level_belongs_to_the_role_whatever_entry_is_used(oidc_app, canaille, muni):
    app = oidc_app({"name": "test", "trust_email": True, "acr": "high"}, {"name": "lav", "trust_email": True},
                   OIDC_ROLE_LEVELS=json.dumps({"caseworker": ["mfa"]}))
    user = _invite("sara@testby.kommune.no", muni_id=muni.id, provider="lav")
    person = canaille.person("sara", "sara@testby.kommune.no")
    canaille.sign_in_as(person, methods=["password"])
    c, done = _sign_in(app, name="lav")
    assert done.headers["Location"].endswith("/logg-inn") and "nivået" in c.get("/logg-inn").text
    db.session.refresh(user)
    assert user.oidc_subject is None  # refused before anything was written
    canaille.sign_in_as(person, methods=["password", "otp"])  # Canaille says amr = pwd, otp, mfa
    c, done = _sign_in(app, name="lav")
    assert done.headers["Location"].endswith("/oversikt")


def test_a_provider_sign_in_asks_for_the_apps_second_factor_unless_the_provider_asserts_one(oidc_app, canaille,
                                                                                          users, muni):
    app = oidc_app({"second_factor": ["mfa", "hwk"]})
    user = users["caseworker"]
    user.totp_secret, user.totp_enabled_at = accounts.new_totp_secret(), accounts.utcnow()
    user.oidc_issuer, user.oidc_subject = canaille.issuer, "cw2"
    db.session.commit()
    person = canaille.person("cw2", "caseworker@test.no")
    canaille.sign_in_as(person, methods=["password"])
    c, done = _sign_in(app)
    assert "/logg-inn/kode" in done.headers["Location"] and not _signed_in(c)
    canaille.sign_in_as(person, methods=["password", "otp"])
    c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/oversikt") and _signed_in(c)


def test_a_required_second_factor_is_set_up_after_a_provider_sign_in_without_one(oidc_app, canaille, users):
    app = oidc_app(SECOND_FACTOR_ROLES=["caseworker"])
    user = users["caseworker"]
    user.oidc_issuer, user.oidc_subject = canaille.issuer, "cw3"
    db.session.commit()
    canaille.sign_in_as(canaille.person("cw3", "caseworker@test.no"), methods=["password"])
    c, _done = _sign_in(app)
    assert c.get("/barn").headers["Location"].endswith("/konto/tofaktor")


# --- tokens as the standard says ------------------------------------------------------------------------------

def _unsigned(answer: dict) -> dict:
    head, payload, _sig = answer["id_token"].split(".")
    none = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return {**answer, "id_token": f"{none}.{payload}."}


def test_an_unsigned_id_token_is_refused(oidc_app, canaille, muni):
    app = oidc_app({"trust_email": True})
    _invite("nils@testby.kommune.no", muni_id=muni.id)
    canaille.sign_in_as(canaille.person("nils", "nils@testby.kommune.no"))
    canaille.rewrite = _unsigned
    c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/logg-inn") and not _signed_in(c)
    assert _refusals("algorithm:none")


def test_the_algorithm_list_never_admits_none_or_a_symmetric_key_unasked():
    from opplevelseskort.accounts.oidc_providers import ConfigError, providers_from

    base = {"name": "x", "issuer": "https://idp.example", "client_id": "c", "municipality": "3001"}
    with pytest.raises(ConfigError, match="none"):
        providers_from(json.dumps([{**base, "algorithms": ["RS256", "none"]}]))
    with pytest.raises(ConfigError, match="HS"):
        providers_from(json.dumps([base]), default_algorithms=("RS256", "HS256"))
    assert providers_from(json.dumps([{**base, "algorithms": ["HS256"]}]))[0].algorithms == ("HS256",)
    with pytest.raises(ConfigError, match="municipality"):
        providers_from(json.dumps([{k: v for k, v in base.items() if k != "municipality"}]))
    with pytest.raises(ConfigError, match="issuer"):
        providers_from(json.dumps([{**base, "issuer": "http://idp.example"}]))
    with pytest.raises(ConfigError, match="issuer"):
        providers_from(json.dumps([{**base, "issuer": "http://localhost:8080"}]), production=True)


@pytest.mark.parametrize("field,reason", [("verifier", "token_refused:invalid_grant"), ("nonce", "id_token:nonce")])
def test_a_tampered_pkce_verifier_or_nonce_is_refused(oidc_app, canaille, muni, field, reason):
    """The verifier or nonce kept in the session is changed before the answer comes back: the provider refuses
    the code (its S256 challenge does not match), or the ID token's nonce is not ours."""
    app = oidc_app({"trust_email": True})
    _invite("jon@testby.kommune.no", muni_id=muni.id)
    canaille.sign_in_as(canaille.person(f"jon-{field}", "jon@testby.kommune.no"))
    c = app.test_client()
    to_provider = c.get("/logg-inn/oidc/test").headers["Location"]
    with c.session_transaction() as sess:
        flows = dict(sess["oidc_flows"])
        for state in flows:
            flows[state] = {**flows[state], field: "x" * 64}
        sess["oidc_flows"] = flows
    back = urlsplit(requests.get(to_provider, allow_redirects=False, timeout=10).headers["Location"])
    done = c.get(back.path + "?" + back.query)
    assert done.headers["Location"].endswith("/logg-inn") and not _signed_in(c)
    assert _refusals(reason)
    assert db.session.scalar(db.select(User).filter_by(oidc_subject=f"jon-{field}")) is None


def test_a_replayed_state_is_refused(oidc_app, canaille, muni):
    app = oidc_app({"trust_email": True})
    _invite("ask@testby.kommune.no", muni_id=muni.id)
    canaille.sign_in_as(canaille.person("ask", "ask@testby.kommune.no"))
    c = app.test_client()
    to_provider = c.get("/logg-inn/oidc/test").headers["Location"]
    back = urlsplit(requests.get(to_provider, allow_redirects=False, timeout=10).headers["Location"])
    assert c.get(back.path + "?" + back.query).headers["Location"].endswith("/oversikt")
    c.post("/logg-ut")
    assert c.get(back.path + "?" + back.query).headers["Location"].endswith("/logg-inn") and not _signed_in(c)
    copied = app.test_client()
    assert copied.get(back.path + "?" + back.query).headers["Location"].endswith("/logg-inn")


def test_a_token_for_another_client_is_refused(oidc_app, canaille, muni):
    """The provider issues the token for another audience (a client that is not ours): `aud` fails."""
    app = oidc_app({"trust_email": True})
    other = canaille.client(["http://elsewhere.example/cb"])
    ours = app.clients["test"]
    with canaille.server.app.app_context():
        ours.audience = [other]
        canaille.server.backend.save(ours)
    _invite("aud@testby.kommune.no", muni_id=muni.id)
    canaille.sign_in_as(canaille.person("aud", "aud@testby.kommune.no"))
    c, done = _sign_in(app)
    assert done.headers["Location"].endswith("/logg-inn") and not _signed_in(c)
    assert _refusals("id_token:aud")


def _logout_token(canaille, app, sub, jti, key=None):
    now = int(time.time())
    key = key or canaille.key
    return jwt.encode({"alg": "RS256", "kid": key.kid}, {
        "iss": canaille.issuer, "aud": app.clients["test"].client_id, "iat": now, "exp": now + 120, "jti": jti,
        "sub": sub, "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}, key)


def test_back_channel_logout_ends_every_session_once_per_token(oidc_app, canaille, muni):
    app = oidc_app({"trust_email": True})
    _invite("bo@testby.kommune.no", muni_id=muni.id)
    person = canaille.person("bo", "bo@testby.kommune.no")
    canaille.sign_in_as(person)
    c, _done = _sign_in(app)
    assert _signed_in(c)
    forged = RSAKey.generate_key(2048, parameters={"kid": "x"})
    bad = _logout_token(canaille, app, "bo", "j0", key=forged)
    assert app.test_client().post("/logg-inn/oidc/test/utlogging", data={"logout_token": bad}).status_code == 400
    assert _signed_in(c)
    token = _logout_token(canaille, app, "bo", "j1")
    assert app.test_client().post("/logg-inn/oidc/test/utlogging", data={"logout_token": token}).status_code == 200
    assert not _signed_in(c)
    c, _done = _sign_in(app)  # signed in again; the same token replayed ends nothing
    replay = app.test_client().post("/logg-inn/oidc/test/utlogging", data={"logout_token": token})
    assert replay.status_code == 400 and _signed_in(c)


# --- trouble is a page ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile():
    """A provider in trouble (what no real provider should send, so it is ours): each path a fault."""
    import threading

    from flask import Flask, jsonify
    from werkzeug.serving import make_server

    app = Flask("hostile")
    state = {}

    @app.get("/<fault>/.well-known/openid-configuration")
    def discovery(fault):
        issuer = state["base"] + "/" + fault
        doc = {"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
               "jwks_uri": issuer + "/jwks"}
        if fault == "missing":
            return "no", 404
        if fault == "html":
            return "<html>not json</html>", 200
        if fault == "deep":
            return "[" * 100000 + "]" * 100000, 200, {"Content-Type": "application/json"}
        if fault == "huge":
            return json.dumps({"x": "a" * 2_000_000}), 200, {"Content-Type": "application/json"}
        if fault == "javascript":
            doc["authorization_endpoint"] = "javascript:alert(1)"
        if fault == "tokendown":
            doc["token_endpoint"] = "http://127.0.0.1:9/token"
        if fault == "token500":
            doc["token_endpoint"] = issuer + "/token500"
        return jsonify(doc)

    @app.get("/<fault>/authorize")
    def authorize(fault):
        from flask import redirect, request
        return redirect(request.args["redirect_uri"] + "?code=c&state=" + request.args["state"])

    @app.post("/<fault>/token500")
    def token500(fault):
        return "boom", 500

    server = make_server("127.0.0.1", 0, app, threaded=True)
    state["base"] = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state["base"]
    server.shutdown()


@pytest.mark.parametrize("fault", ["down", "missing", "html", "deep", "huge", "javascript"])
def test_a_provider_in_trouble_at_the_start_is_a_page(make_app, hostile, fault, caplog):
    issuer = "http://127.0.0.1:9" if fault == "down" else f"{hostile}/{fault}"
    app = make_app(OIDC_PROVIDERS=json.dumps([{"name": "t", "label": "Testby ID", "issuer": issuer,
                                               "client_id": "c", "municipality": "3001"}]), OIDC_TIMEOUT_SECONDS=2)
    c = app.test_client()
    r = c.get("/logg-inn/oidc/t")
    assert r.status_code == 302 and r.headers["Location"].endswith("/logg-inn")
    assert "svarer ikke som den skal" in c.get("/logg-inn").text
    assert any("unavailable" in rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize("fault", ["tokendown", "token500"])
def test_a_token_endpoint_in_trouble_is_a_page(make_app, hostile, fault):
    app = make_app(OIDC_PROVIDERS=json.dumps([{"name": "t", "label": "Testby ID", "issuer": f"{hostile}/{fault}",
                                               "client_id": "c", "municipality": "3001"}]), OIDC_TIMEOUT_SECONDS=2)
    c = app.test_client()
    to_provider = c.get("/logg-inn/oidc/t").headers["Location"]
    back = urlsplit(requests.get(to_provider, allow_redirects=False, timeout=10).headers["Location"])
    done = c.get(back.path + "?" + back.query)
    assert done.status_code == 302 and done.headers["Location"].endswith("/logg-inn")
    assert "svarer ikke som den skal" in c.get("/logg-inn").text


# --- the login page -------------------------------------------------------------------------------------------

def test_login_page_offers_the_provider_first_and_local_login_when_allowed(oidc_app):
    page = oidc_app().test_client().get("/logg-inn").text
    assert page.index("Logg inn med Testby ID") < page.index('name="password"')
    only = oidc_app()
    only.config["OIDC_LOCAL_LOGIN"] = False
    c = only.test_client()
    assert 'name="password"' not in c.get("/logg-inn").text
    assert c.post("/logg-inn", data={"email": "a@b.no", "password": "x"}).status_code == 404


def test_each_host_offers_its_own_municipalitys_provider(oidc_app, other_muni, muni):
    app = oidc_app()
    app.config["MUNICIPALITY_HOSTS"] = {"kort.testby.no": muni.number, "kort.annen.no": other_muni.number}
    c = app.test_client()
    assert "Logg inn med Testby ID" in c.get("/logg-inn", base_url="http://kort.testby.no").text
    assert "Logg inn med Testby ID" not in c.get("/logg-inn", base_url="http://kort.annen.no").text


def test_secrets_come_from_the_environment_only():
    from opplevelseskort.config import load_config

    entry = [{"name": "x", "issuer": "https://idp.example/", "client_id": "c", "client_secret_env": "X_SECRET",
              "client_secret": "in-the-list", "municipality": "3001"}]
    import os
    os.environ["X_SECRET"] = "from-env"
    try:
        cfg = load_config("/tmp", {"OIDC_PROVIDERS": json.dumps(entry)})
    finally:
        del os.environ["X_SECRET"]
    from opplevelseskort.accounts.oidc_providers import providers_from
    assert providers_from(cfg["OIDC_PROVIDERS"], cfg["OIDC_SECRETS"])[0].client_secret == "from-env"
    assert providers_from(cfg["OIDC_PROVIDERS"], {})[0].client_secret == ""
