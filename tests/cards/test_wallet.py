"""The card in the phone's wallet (issue 39, item 6): off until a municipality configures what it obtained; an Apple
Wallet pass whose signature openssl verifies against a certificate authority made here (root, a stand-in for
Apple's WWDR intermediate, a Pass Type ID certificate), its manifest's hashes, no name in it, Apple's update web
service; a Google Wallet save link whose JWT PyJWT decodes and verifies. Nothing needs an Apple or Google account."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import jwt as pyjwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from opplevelseskort.cards import services as cards
from opplevelseskort.cards import signing, wallet
from opplevelseskort.cards.models import WalletPass
from opplevelseskort.extensions import db

from ..factories import make_card

PASS_TYPE = "pass.no.testby.opplevelseskort"


def _cert(subject: str, key, issuer_cert=None, issuer_key=None, *, ca: bool, days: int = 365):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name)
            .issuer_name(issuer_cert.subject if issuer_cert else name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key or key, hashes.SHA256()))


def _pem(obj) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def authority(tmp_path):
    """A root, an intermediate in the place of Apple's WWDR, and a Pass Type ID certificate with its key."""
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
    root = _cert("Test Root CA", keys[0], ca=True)
    wwdr = _cert("Test WWDR Intermediate", keys[1], root, keys[0], ca=True)
    leaf = _cert(f"Pass Type ID: {PASS_TYPE}", keys[2], wwdr, keys[1], ca=False)
    files = {"root.pem": _pem(root), "wwdr.pem": _pem(wwdr), "pass.pem": _pem(leaf), "pass.key": _pem(keys[2]),
             "other.key": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


@pytest.fixture
def card(muni, users, zone_set):
    return make_card(muni, users, "Sara", birth_year=2014)


def _apple(app, muni, folder, key="pass.key"):
    return app.test_cli_runner().invoke(args=[
        "cards", "wallet-apple", "--municipality", muni.number, "--pass-type-id", PASS_TYPE, "--team-id", "TEAM123456",
        "--certificate", str(folder / "pass.pem"), "--key", str(folder / key), "--wwdr", str(folder / "wwdr.pem")])


def _family(card, tail=""):
    return urlparse(cards.family_url(card)).path + tail


def test_both_wallets_are_off_until_configured_and_the_admin_page_says_what_is_missing(client, card, muni, login_as):
    page = client.get(_family(card)).get_data(as_text=True)
    assert "Wallet" not in page
    assert client.get(_family(card, "/lommebok/apple.pkpass")).status_code == 404
    assert client.get(_family(card, "/lommebok/google")).status_code == 404
    login_as("admin")
    status = client.get("/admin/lommebok").get_data(as_text=True)
    assert "Pass Type ID" in status and "WWDR" in status and "Issuer ID" in status


def test_a_key_that_is_not_the_certificates_is_refused(app, muni, authority):
    result = _apple(app, muni, authority, key="other.key")
    assert result.exit_code == 1 and "hører ikke til sertifikatet" in result.output
    assert wallet.missing(muni.id)["apple"]


def test_the_apple_pass_is_signed_hashed_and_nameless(app, client, card, muni, authority, login_as):
    assert _apple(app, muni, authority).exit_code == 0
    assert "Legg kortet i Apple Wallet" in client.get(_family(card)).get_data(as_text=True)
    answer = client.get(_family(card, "/lommebok/apple.pkpass"))
    assert answer.status_code == 200 and answer.mimetype == "application/vnd.apple.pkpass"
    z = zipfile.ZipFile(io.BytesIO(answer.data))
    files = {name: z.read(name) for name in z.namelist()}
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"} and "icon.png" in manifest
    assert all(hashlib.sha1(files[name]).hexdigest() == digest for name, digest in manifest.items())  # noqa: S324
    body = json.loads(files["pass.json"])
    assert body["passTypeIdentifier"] == PASS_TYPE and body["teamIdentifier"] == "TEAM123456"
    assert "Sara" not in files["pass.json"].decode() and not body["voided"]
    assert signing.card_number_of(body["barcodes"][0]["message"]) == card.short_code
    for name in ("manifest.json", "signature"):
        (authority / name).write_bytes(files[name])
    verified = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "signature",
                               "-content", "manifest.json", "-CAfile", "root.pem", "-purpose", "any",
                               "-out", "/dev/null"], cwd=authority, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    (authority / "manifest.json").write_bytes(files["manifest.json"].replace(b'"', b"'", 1))
    tampered = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "signature",
                               "-content", "manifest.json", "-CAfile", "root.pem", "-purpose", "any",
                               "-out", "/dev/null"], cwd=authority, capture_output=True, text=True)
    assert tampered.returncode != 0
    login_as("admin")
    assert "Apple Wallet" in client.get("/admin/lommebok").get_data(as_text=True)
    assert wallet.missing(muni.id)["apple"] == []


def test_apples_update_web_service(app, client, card, muni, authority, users):
    assert _apple(app, muni, authority).exit_code == 0
    app.config["PUBLIC_BASE_URL"] = "https://kort.testby.no"
    try:
        body = json.loads(zipfile.ZipFile(io.BytesIO(client.get(_family(card, "/lommebok/apple.pkpass")).data))
                          .read("pass.json"))
        serial, token = body["serialNumber"], body["authenticationToken"]
        assert body["webServiceURL"] == "https://kort.testby.no/lommebok/apple/" and card.short_code not in serial
        auth = {"Authorization": f"ApplePass {token}"}
        base = "/lommebok/apple/v1"
        register = f"{base}/devices/dev-1/registrations/{PASS_TYPE}/{serial}"
        assert client.post(register, json={"pushToken": "p1"}, headers=auth).status_code == 201
        assert client.post(register, json={"pushToken": "p1"}, headers=auth).status_code == 200  # idempotent
        assert client.post(register, json={}, headers={"Authorization": "ApplePass wrong"}).status_code == 401
        assert client.post(f"{base}/devices/dev-1/registrations/{PASS_TYPE}/nope", headers=auth).status_code == 404
        listed = client.get(f"{base}/devices/dev-1/registrations/{PASS_TYPE}")
        assert listed.json["serialNumbers"] == [serial] and isinstance(listed.json["lastUpdated"], str)
        tag = listed.json["lastUpdated"]
        assert client.get(f"{base}/devices/dev-1/registrations/{PASS_TYPE}?passesUpdatedSince={tag}").status_code == 204
        latest = client.get(f"{base}/passes/{PASS_TYPE}/{serial}", headers=auth)
        assert latest.status_code == 200 and latest.mimetype == "application/vnd.apple.pkpass"
        same = client.get(f"{base}/passes/{PASS_TYPE}/{serial}",
                          headers={**auth, "If-Modified-Since": latest.headers["Last-Modified"]})
        assert same.status_code == 304
        row = db.session.scalar(db.select(WalletPass).filter_by(serial=serial))
        row.updated_at -= timedelta(seconds=10)  # the pass was made a while before the card changed
        db.session.flush()
        cards.revoke_card(card, "lost", actor=users["caseworker"])
        changed = client.get(f"{base}/devices/dev-1/registrations/{PASS_TYPE}?passesUpdatedSince={int(tag) - 10}")
        assert changed.json["serialNumbers"] == [serial]
        voided = json.loads(zipfile.ZipFile(io.BytesIO(client.get(f"{base}/passes/{PASS_TYPE}/{serial}",
                                                                  headers=auth).data)).read("pass.json"))
        assert voided["voided"] and "barcodes" not in voided  # a revoked card's pass shows no code
        assert client.delete(register, headers=auth).status_code == 200
        assert client.get(f"{base}/devices/dev-1/registrations/{PASS_TYPE}").status_code == 204
        assert client.post(f"{base}/log", json={"logs": ["a problem"]}).status_code == 200
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://localhost"


def test_the_google_save_link_is_a_short_jwt_that_pyjwt_verifies(app, client, card, muni, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account = {"type": "service_account", "client_email": "kort@testby.iam.gserviceaccount.com",
               "private_key_id": "abc123", "private_key": _pem(key).decode()}
    (tmp_path / "sa.json").write_text(json.dumps(account))
    result = app.test_cli_runner().invoke(args=["cards", "wallet-google", "--municipality", muni.number,
                                                "--issuer-id", "3388000000012345678",
                                                "--service-account", str(tmp_path / "sa.json")])
    assert result.exit_code == 0, result.output
    assert "Legg kortet i Google Wallet" in client.get(_family(card)).get_data(as_text=True)
    answer = client.get(_family(card, "/lommebok/google"))
    assert answer.status_code == 302
    link = answer.headers["Location"]
    assert link.startswith(wallet.SAVE_URL) and len(link) <= 1800, len(link)
    token = link.removeprefix(wallet.SAVE_URL)
    claims = pyjwt.decode(token, key.public_key(), algorithms=["RS256"], audience="google")
    assert claims["iss"] == account["client_email"] and claims["typ"] == "savetowallet"
    assert pyjwt.get_unverified_header(token)["kid"] == "abc123"
    generic = claims["payload"]["genericObjects"][0]
    assert generic["classId"] == "3388000000012345678.opplevelseskort"
    assert signing.card_number_of(generic["barcode"]["value"]) == card.short_code
    assert "Sara" not in json.dumps(claims)
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
                     algorithms=["RS256"], audience="google")
