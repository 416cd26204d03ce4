"""Staff sign in with the municipality's own identity (OpenID Connect), against a small provider run here on a
real socket: discovery, JWKS (and a rotated key), the code flow with PKCE S256, state and nonce, the ID token's
issuer, audience, expiry and nonce, a required `acr`, binding by subject, just-in-time accounts from app roles,
and back-channel logout."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.jose import JsonWebKey, jwt
from flask import Flask, jsonify, redirect, request
from markupsafe import escape
from werkzeug.serving import make_server

from opplevelseskort.core import services as core
from opplevelseskort.core.models import AuditLog, User
from opplevelseskort.extensions import db

CLIENT_ID, CLIENT_SECRET = "opplevelseskort", "hemmelig-klient"


class FakeProvider:
    """An OpenID provider for the tests: what a real one does, and the faults a real one may show."""

    def __init__(self):
        self.keys = [JsonWebKey.generate_key("RSA", 2048, {"kid": "k1"}, is_private=True)]
        self.codes: dict[str, dict] = {}
        self.claims: dict = {}  # what the next ID token says about the person
        self.faults: dict = {}  # "nonce", "aud", "exp", "iss": make the next ID token wrong in that way
        self.interactive = False  # show a sign-in page (the browser test) rather than answer at once
        self.app = Flask("fake-idp")
        self._routes()
        self._more_routes()
        self.server = make_server("127.0.0.1", 0, self.app)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rotate(self):
        self.keys.insert(0, JsonWebKey.generate_key("RSA", 2048, {"kid": f"k{len(self.keys) + 1}"}, is_private=True))

    def sign(self, payload: dict) -> str:
        key = self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": key.as_dict()["kid"]}, payload, key).decode()

    def _routes(self):
        app = self.app

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({"issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                            "token_endpoint": self.issuer + "/token", "jwks_uri": self.issuer + "/jwks",
                            "response_types_supported": ["code"], "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "code_challenge_methods_supported": ["S256"]})

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [k.as_dict(is_private=False) for k in self.keys]})

        @app.get("/authorize")
        def authorize():
            a = request.args
            if self.interactive:  # the provider's own page: the person says who they are
                hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in a.items())
                return (f'<!doctype html><html lang="nb"><head><title>Testby ID</title></head><body><main>'
                        f'<h1>Testby kommune</h1><form method="post" action="/authorize">{hidden}'
                        f'<label for="u">Brukernavn</label><input id="u" name="username">'
                        f'<button type="submit">Fortsett</button></form></main></body></html>')
            return self._grant(a)

        @app.post("/authorize")
        def authorize_form():
            self.claims = {"sub": "sub-" + request.form["username"], "email": request.form["username"],
                           "email_verified": True}
            return self._grant(request.form)

    def _grant(self, a):
        """A code for what the request asked (its PKCE challenge, nonce, level), back to the client."""
        code = secrets.token_urlsafe(12)
        self.codes[code] = {"nonce": a.get("nonce"), "challenge": a.get("code_challenge"),
                            "method": a.get("code_challenge_method"), "redirect_uri": a["redirect_uri"],
                            "acr_values": a.get("acr_values"), "state": a.get("state")}
        return redirect(a["redirect_uri"] + "?" + urlencode({"code": code, "state": a["state"]}))

    def _more_routes(self):
        app = self.app

        @app.post("/token")
        def token():
            grant = self.codes.pop(request.form["code"], None)
            verifier = request.form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant is None or grant["method"] != "S256" or digest != grant["challenge"]:
                return jsonify({"error": "invalid_grant"}), 400
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                      **self.claims}
            if "nonce" in self.faults:
                claims["nonce"] = "another"
            if "aud" in self.faults:
                claims["aud"] = "another-client"
            if "exp" in self.faults:
                claims["exp"] = now - 3600
            if "iss" in self.faults:
                claims["iss"] = "https://evil.example"
            self.faults = {}
            return jsonify({"access_token": "at", "token_type": "Bearer", "expires_in": 300,
                            "id_token": self.sign(claims)})


@pytest.fixture(scope="module")
def idp():
    provider = FakeProvider()
    yield provider
    provider.server.shutdown()


@pytest.fixture
def oidc_app(make_app, idp, monkeypatch):
    def build(**provider):
        monkeypatch.setenv("OIDC_TEST_SECRET", CLIENT_SECRET)
        entry = {"name": "test", "label": "Testby kommune", "issuer": idp.issuer, "client_id": CLIENT_ID,
                 "client_secret_env": "OIDC_TEST_SECRET", "municipality": "3001", **provider}
        return make_app(OIDC_PROVIDERS=json.dumps([entry]), PREFERRED_URL_SCHEME="http")
    return build


def _sign_in(app, idp, claims: dict, **faults):
    """A browser's round trip: our redirect to the provider, the provider's back, our callback."""
    idp.claims, idp.faults = claims, faults
    c = app.test_client()
    r = c.get("/logg-inn/oidc/test")
    assert r.status_code == 302
    to_provider = r.headers["Location"]
    query = parse_qs(urlsplit(to_provider).query)
    back = requests.get(to_provider, allow_redirects=False, timeout=10).headers["Location"]
    parts = urlsplit(back)
    done = c.get(parts.path + "?" + parts.query)
    return c, done, query


def _invite(email, role="caseworker", muni_id=None):
    user = core.create_user(email, core.unusable_password(), role, municipality_id=muni_id)
    db.session.commit()
    return user


def test_an_invited_user_signs_in_and_is_bound_to_the_subject(oidc_app, idp, muni):
    app = oidc_app()
    user = _invite("kari@testby.kommune.no", muni_id=muni.id)
    c, done, query = _sign_in(app, idp, {"sub": "entra-123", "email": "Kari@testby.kommune.no",
                                         "email_verified": True})
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0] and query["nonce"][0]
    assert query["state"][0] and query["scope"] == ["openid email profile"]
    assert done.status_code == 302 and done.headers["Location"].endswith("/oversikt")
    assert c.get("/barn").status_code == 200
    db.session.refresh(user)
    assert (user.oidc_issuer, user.oidc_subject) == (idp.issuer, "entra-123")
    assert db.session.scalar(db.select(AuditLog).filter_by(action="user.oidc_bind", object_id=str(user.id)))
    # from now on the subject finds the account, whatever e-mail the provider sends
    c2, done2, _q = _sign_in(app, idp, {"sub": "entra-123", "email": "kari.nordmann@annet.no"})
    assert done2.headers["Location"].endswith("/oversikt")
    # and another subject with the bound e-mail is not let in
    _c3, done3, _q = _sign_in(app, idp, {"sub": "someone-else", "email": "kari@testby.kommune.no"})
    assert done3.headers["Location"].endswith("/logg-inn")
    assert "allerede knyttet" in _c3.get("/logg-inn").text


@pytest.mark.parametrize("fault", ["nonce", "aud", "exp", "iss"])
def test_an_id_token_that_does_not_hold_is_refused(oidc_app, idp, muni, fault):
    app = oidc_app()
    _invite("ola@testby.kommune.no", muni_id=muni.id)
    c, done, _q = _sign_in(app, idp, {"sub": "s-ola", "email": "ola@testby.kommune.no"}, **{fault: True})
    assert done.headers["Location"].endswith("/logg-inn")
    assert c.get("/barn").status_code == 302
    assert db.session.scalar(db.select(User).filter_by(oidc_subject="s-ola")) is None


def test_a_tampered_pkce_verifier_is_refused(oidc_app, idp, muni):
    """The verifier kept in the session is changed before the code is redeemed: the provider refuses the code
    (its S256 challenge does not match), and nobody is signed in."""
    app = oidc_app()
    _invite("liv@testby.kommune.no", muni_id=muni.id)
    idp.claims = {"sub": "s-liv", "email": "liv@testby.kommune.no"}
    c = app.test_client()
    to_provider = c.get("/logg-inn/oidc/test").headers["Location"]
    with c.session_transaction() as sess:
        kept = [k for k in sess if k.startswith("_state_test_")]
        assert kept, list(sess)
        for k in kept:
            data = dict(sess[k])
            data["data"] = {**data["data"], "code_verifier": secrets.token_urlsafe(48)}
            sess[k] = data
    back = urlsplit(requests.get(to_provider, allow_redirects=False, timeout=10).headers["Location"])
    done = c.get(back.path + "?" + back.query)
    assert done.headers["Location"].endswith("/logg-inn")
    assert c.get("/barn").status_code == 302
    assert db.session.scalar(db.select(User).filter_by(oidc_subject="s-liv")) is None


def test_a_replayed_state_is_refused(oidc_app, idp, muni):
    """The provider's answer (code and state) used a second time, by the same browser or by someone who copied
    the URL, signs nobody in: the state was spent with the first use."""
    app = oidc_app()
    _invite("jon@testby.kommune.no", muni_id=muni.id)
    idp.claims = {"sub": "s-jon", "email": "jon@testby.kommune.no"}
    c = app.test_client()
    to_provider = c.get("/logg-inn/oidc/test").headers["Location"]
    back = urlsplit(requests.get(to_provider, allow_redirects=False, timeout=10).headers["Location"])
    assert c.get(back.path + "?" + back.query).headers["Location"].endswith("/oversikt")
    c.post("/logg-ut")
    again = c.get(back.path + "?" + back.query)
    assert again.headers["Location"].endswith("/logg-inn") and c.get("/barn").status_code == 302
    copied = app.test_client()
    replay = copied.get(back.path + "?" + back.query)
    assert replay.headers["Location"].endswith("/logg-inn") and copied.get("/barn").status_code == 302


def test_nobody_invited_gets_in_and_a_disabled_account_is_refused(oidc_app, idp, muni):
    app = oidc_app()
    c, done, _q = _sign_in(app, idp, {"sub": "stranger", "email": "fremmed@testby.kommune.no"})
    assert done.headers["Location"].endswith("/logg-inn") and "ingen konto" in c.get("/logg-inn").text
    user = _invite("per@testby.kommune.no", muni_id=muni.id)
    user.active = False
    db.session.commit()
    c, done, _q = _sign_in(app, idp, {"sub": "s-per", "email": "per@testby.kommune.no"})
    assert done.headers["Location"].endswith("/logg-inn") and "deaktivert" in c.get("/logg-inn").text


def test_the_required_level_is_asked_for_and_checked(oidc_app, idp, muni):
    app = oidc_app(acr="idporten-loa-substantial")
    _invite("lise@testby.kommune.no", muni_id=muni.id)
    c, done, query = _sign_in(app, idp, {"sub": "s-lise", "email": "lise@testby.kommune.no",
                                         "acr": "idporten-loa-low"})
    assert query["acr_values"] == ["idporten-loa-substantial"]
    assert done.headers["Location"].endswith("/logg-inn") and "nivået" in c.get("/logg-inn").text
    _c, done, _q = _sign_in(app, idp, {"sub": "s-lise", "email": "lise@testby.kommune.no",
                                       "acr": "idporten-loa-substantial"})
    assert done.headers["Location"].endswith("/oversikt")


def test_a_rotated_signing_key_is_fetched(oidc_app, idp, muni):
    app = oidc_app()
    _invite("rot@testby.kommune.no", muni_id=muni.id)
    _c, done, _q = _sign_in(app, idp, {"sub": "s-rot", "email": "rot@testby.kommune.no"})
    assert done.headers["Location"].endswith("/oversikt")
    idp.rotate()  # the provider signs with a new key from now on
    _c, done, _q = _sign_in(app, idp, {"sub": "s-rot", "email": "rot@testby.kommune.no"})
    assert done.headers["Location"].endswith("/oversikt")


def test_just_in_time_accounts_take_their_role_from_app_roles(oidc_app, idp, muni):
    app = oidc_app(jit=True, role_map={"Opplevelseskort.Saksbehandler": "caseworker",
                                       "Opplevelseskort.Analytiker": "analyst"})
    c, done, _q = _sign_in(app, idp, {"sub": "jit-1", "email": "ny@testby.kommune.no", "name": "Ny Ansatt",
                                      "roles": ["Opplevelseskort.Analytiker"]})
    assert done.headers["Location"].endswith("/oversikt")
    user = db.session.scalar(db.select(User).filter_by(oidc_subject="jit-1"))
    assert user.role == "analyst" and user.municipality_id == muni.id
    _c, done, _q = _sign_in(app, idp, {"sub": "jit-1", "email": "ny@testby.kommune.no",
                                       "roles": ["Opplevelseskort.Saksbehandler"]})
    db.session.refresh(user)
    assert user.role == "caseworker"  # the provider's roles decide at every sign-in
    _c, done, _q = _sign_in(app, idp, {"sub": "jit-1", "email": "ny@testby.kommune.no", "roles": []})
    assert done.headers["Location"].endswith("/logg-inn")  # no role left: no way in


def test_back_channel_logout_ends_every_session(oidc_app, idp, muni):
    app = oidc_app()
    _invite("bo@testby.kommune.no", muni_id=muni.id)
    c, done, _q = _sign_in(app, idp, {"sub": "s-bo", "email": "bo@testby.kommune.no"})
    assert c.get("/barn").status_code == 200
    now = int(time.time())
    forged = jwt.encode({"alg": "RS256", "kid": "x"}, {"iss": idp.issuer, "aud": CLIENT_ID, "iat": now,
                                                       "sub": "s-bo", "events": {
                                                           "http://schemas.openid.net/event/backchannel-logout": {}}},
                        JsonWebKey.generate_key("RSA", 2048, {"kid": "x"}, is_private=True)).decode()
    assert app.test_client().post("/logg-inn/oidc/test/utlogging", data={"logout_token": forged}).status_code == 400
    assert c.get("/barn").status_code == 200
    token = idp.sign({"iss": idp.issuer, "aud": CLIENT_ID, "iat": now, "jti": "j1", "sub": "s-bo",
                      "events": {"http://schemas.openid.net/event/backchannel-logout": {}}})
    assert app.test_client().post("/logg-inn/oidc/test/utlogging", data={"logout_token": token}).status_code == 200
    assert c.get("/barn").status_code == 302


def test_login_page_offers_the_provider_first_and_local_login_when_allowed(oidc_app, make_app):
    page = oidc_app().test_client().get("/logg-inn").text
    assert page.index("Logg inn med Testby kommune") < page.index('name="password"')
    only = oidc_app()
    only.config["OIDC_LOCAL_LOGIN"] = False
    c = only.test_client()
    assert 'name="password"' not in c.get("/logg-inn").text
    assert c.post("/logg-inn", data={"email": "a@b.no", "password": "x"}).status_code == 404


def test_each_host_offers_its_own_municipalitys_provider(oidc_app, other_muni, muni):
    app = oidc_app()
    app.config["MUNICIPALITY_HOSTS"] = {"kort.testby.no": muni.number, "kort.annen.no": other_muni.number}
    c = app.test_client()
    assert "Logg inn med Testby kommune" in c.get("/logg-inn", base_url="http://kort.testby.no").text
    assert "Logg inn med Testby kommune" not in c.get("/logg-inn", base_url="http://kort.annen.no").text


def test_secrets_come_from_the_environment_only():
    from opplevelseskort.core.oidc import providers_from

    entry = [{"name": "x", "issuer": "https://idp.example/", "client_id": "c", "client_secret_env": "X_SECRET",
              "client_secret": "in-the-list"}]
    assert providers_from(json.dumps(entry), env={"X_SECRET": "from-env"})[0].client_secret == "from-env"
    assert providers_from(json.dumps(entry), env={})[0].client_secret == ""
