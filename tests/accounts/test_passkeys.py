"""Passkeys (WebAuthn, the `webauthn` package) as the better second factor: registered on the account page, asked
for after the password, refused when signed for another site, another challenge, by another user's key or with a
counter that went backwards; an admin's reset removes them. A software authenticator (EC P-256, "none"
attestation) makes real credentials here; the browser test does the same with chromium's virtual authenticator."""

import base64
import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from opplevelseskort.accounts import services as accounts
from opplevelseskort.accounts.models import Passkey
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db

PASSWORD = "demo-passord-123"
ORIGIN, RP_ID = "http://localhost", "localhost"  # the test client's host


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftAuthenticator:
    """An authenticator in software: what a phone or security key does, by the WebAuthn spec."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.count = 0

    def _cose(self) -> bytes:
        n = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")})

    def create(self, options: dict, origin: str = ORIGIN, rp_id: str = RP_ID) -> dict:
        client = json.dumps({"type": "webauthn.create", "challenge": options["challenge"], "origin": origin,
                             "crossOrigin": False}).encode()
        auth = (hashlib.sha256(rp_id.encode()).digest() + bytes([0x45]) + self.count.to_bytes(4, "big")
                + bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth})
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client), "attestationObject": b64(attestation),
                             "transports": ["internal"]}, "clientExtensionResults": {}}

    def get(self, options: dict, origin: str = ORIGIN, rp_id: str = RP_ID, count: int | None = None) -> dict:
        self.count = self.count + 1 if count is None else count
        client = json.dumps({"type": "webauthn.get", "challenge": options["challenge"], "origin": origin}).encode()
        auth = hashlib.sha256(rp_id.encode()).digest() + bytes([0x05]) + self.count.to_bytes(4, "big")
        signature = self.key.sign(auth + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client), "authenticatorData": b64(auth),
                             "signature": b64(signature)}, "clientExtensionResults": {}}


def _signed_in(client, user):
    accounts.set_password(user, PASSWORD, actor=None)
    db.session.commit()
    assert client.post("/logg-inn", data={"email": user.email, "password": PASSWORD}).status_code == 302


def _register(client, authenticator=None, **kwargs) -> tuple[SoftAuthenticator, object]:
    authenticator = authenticator or SoftAuthenticator()
    options = client.post("/konto/passnokkel/valg").get_json()
    assert options["rp"]["id"] == RP_ID and options["authenticatorSelection"]["residentKey"] == "preferred"
    r = client.post("/konto/passnokkel", json={"credential": authenticator.create(options, **kwargs),
                                               "name": "Jobbtelefon"})
    return authenticator, r


def _second_step(client, user):
    client.post("/logg-ut")
    r = client.post("/logg-inn", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302 and "/logg-inn/kode" in r.headers["Location"]
    return client.post("/logg-inn/passnokkel/valg").get_json()


def test_a_passkey_is_registered_and_then_asked_for_after_the_password(client, users):
    user = users["caseworker"]
    _signed_in(client, user)
    key, r = _register(client)
    assert r.status_code == 201, r.text
    stored = db.session.scalars(db.select(Passkey).where(Passkey.user_id == user.id)).all()
    assert [(p.name, p.credential_id) for p in stored] == [("Jobbtelefon", key.credential_id)]
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "user.passkey_add"))
    page = client.get("/konto/tofaktor").text
    assert "Jobbtelefon" in page and "Legg til passnøkkel" in page

    options = _second_step(client, user)
    assert [c["id"] for c in options["allowCredentials"]] == [b64(key.credential_id)]
    assert "Bruk passnøkkel" in client.get("/logg-inn/kode").text
    assert client.get("/barn").status_code == 302  # the password alone is not enough
    r = client.post("/logg-inn/passnokkel", json={"credential": key.get(options)})
    assert r.status_code == 200 and r.get_json()["next"] == "/oversikt"
    assert client.get("/barn").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(db.select(Passkey.sign_count)) == 1


def test_a_passkey_made_for_another_site_is_not_registered(client, users):
    _signed_in(client, users["caseworker"])
    _key, r = _register(client, origin="https://phishing.example")
    assert r.status_code == 422 and r.get_json()["error"] == "passkey_invalid"
    _key, r = _register(client, rp_id="phishing.example")
    assert r.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Passkey.id))) == 0


def test_wrong_assertions_are_refused(client, users):
    user = users["caseworker"]
    _signed_in(client, user)
    key, _r = _register(client)
    stale = _second_step(client, user)
    fresh = client.post("/logg-inn/passnokkel/valg").get_json()  # a new challenge replaces the old one
    assert client.post("/logg-inn/passnokkel", json={"credential": key.get(stale)}).status_code == 422
    # the challenge was used up by the refused try: the next answer needs a new one
    assert client.post("/logg-inn/passnokkel", json={"credential": key.get(fresh)}).status_code == 422
    other = SoftAuthenticator()  # a key this account never registered
    options = client.post("/logg-inn/passnokkel/valg").get_json()
    assert client.post("/logg-inn/passnokkel", json={"credential": other.get(options)}).status_code == 422
    options = client.post("/logg-inn/passnokkel/valg").get_json()
    assert client.post("/logg-inn/passnokkel",
                       json={"credential": key.get(options, origin="https://phishing.example")}).status_code == 422
    options = client.post("/logg-inn/passnokkel/valg").get_json()
    assert client.post("/logg-inn/passnokkel", json={"credential": "not json"}).status_code == 422
    assert client.get("/barn").status_code == 302
    options = client.post("/logg-inn/passnokkel/valg").get_json()
    assert client.post("/logg-inn/passnokkel", json={"credential": key.get(options)}).status_code == 200
    client.post("/logg-ut")
    client.post("/logg-inn", data={"email": user.email, "password": PASSWORD})
    options = client.post("/logg-inn/passnokkel/valg").get_json()
    cloned = key.get(options, count=1)  # a counter that went backwards: a copy of the key
    assert client.post("/logg-inn/passnokkel", json={"credential": cloned}).status_code == 422


def test_another_users_passkey_does_not_sign_this_user_in(client, users, make_app):
    user, other = users["caseworker"], users["analyst"]
    _signed_in(client, other)
    theirs, r = _register(client)
    assert r.status_code == 201
    client.post("/logg-ut")
    _signed_in(client, user)
    _mine, r = _register(client)
    options = _second_step(client, user)
    assert client.post("/logg-inn/passnokkel", json={"credential": theirs.get(options)}).status_code == 422


def test_no_passkey_step_without_the_password_first(client, users):
    assert client.post("/logg-inn/passnokkel/valg").status_code == 401
    assert client.post("/logg-inn/passnokkel", json={"credential": {}}).status_code == 401


def test_a_passkey_counts_as_the_second_factor_a_role_must_have(make_app, users):
    app = make_app(SECOND_FACTOR_ROLES=["caseworker"])
    client = app.test_client()
    user = users["caseworker"]
    _signed_in(client, user)
    assert client.get("/barn").headers["Location"].endswith("/konto/tofaktor")  # set one up first
    _key, r = _register(client)
    assert r.status_code == 201
    assert client.get("/barn").status_code == 200  # a passkey is enough; no app code needed


def test_the_same_authenticator_is_not_registered_twice_and_one_can_be_removed(client, users):
    user = users["caseworker"]
    _signed_in(client, user)
    key, _r = _register(client)
    _again, r = _register(client, authenticator=key)
    assert r.status_code == 422 and r.get_json()["error"] == "passkey_known"
    stored = db.session.scalar(db.select(Passkey))
    assert client.post(f"/konto/passnokkel/{stored.id}/slett").status_code == 302
    assert db.session.scalar(db.select(db.func.count(Passkey.id))) == 0
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "user.passkey_remove"))


def test_an_admins_reset_removes_the_passkeys(client, users):
    user = users["caseworker"]
    _signed_in(client, user)
    _register(client)
    accounts.reset_second_factor(user, actor=users["admin"])
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Passkey.id))) == 0
    assert not accounts.has_second_factor(user)
