"""Signed card codes (issue 39, items 1 and 3): a COSE_Sign1 message with an Ed25519 signature over CBOR claims
(no name), deflated and written in Base45 after `OK1:`; it fits a QR of version ≤ 11 at error correction Q; any
byte changed fails; keys rotate with retiring keys still verifying; a public trust list with revocation counters
and revocation deltas; a revoked card's codes issued before the revocation are named there; a scanner's code
lookup accepts a signed code."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from datetime import timedelta

import base45
import cbor2
import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from opplevelseskort.cards import services as cards
from opplevelseskort.cards import signing
from opplevelseskort.cards.models import SigningKeyStatus
from opplevelseskort.core.clock import utcnow

from ..factories import make_card


@pytest.fixture
def card(muni, users, zone_set):
    return make_card(muni, users, "Sara", birth_year=2014)


def _keys(muni) -> dict[str, bytes]:
    return {k.kid: k.public_key for k in signing.keys_of(muni.id, (SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRING))}


def test_a_signed_code_carries_the_card_and_no_name_and_verifies_with_the_published_key(app, card, muni):
    code = signing.sign_card(card, age_band="10-12")
    assert code.startswith("OK1:") and "Sara" not in code
    message = cbor2.loads(zlib.decompress(base45.b45decode(code[4:])))  # read with the reference libraries
    assert message.tag == 18 and len(message.value) == 4
    protected, _unprotected, payload, signature = message.value
    assert cbor2.loads(protected) == {1: -8, 4: bytes.fromhex(signing.keys_of(muni.id, (SigningKeyStatus.ACTIVE,))[0].kid)}
    claims = cbor2.loads(payload)
    assert claims[1] == muni.number and claims[2] == card.short_code and claims[-65537] == "10-12"
    assert "Sara" not in repr(claims)
    published = signing.trust_list(muni)["keys"][0]
    raw = base64.urlsafe_b64decode(published["x"] + "==")
    Ed25519PublicKey.from_public_bytes(raw).verify(signature, cbor2.dumps(["Signature1", protected, b"", payload]))
    found = signing.verify(code, _keys(muni))
    assert (found.municipality, found.card_number, found.age_band) == (muni.number, card.short_code, "10-12")


def test_the_code_fits_a_qr_of_version_11_or_less_at_error_correction_q(app, card):
    code = signing.sign_card(card, age_band="16+")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    qr.add_data(code)
    qr.make(fit=True)
    assert qr.version <= 11, (qr.version, len(code))


def test_any_byte_changed_fails_and_so_do_an_unknown_key_and_an_expired_card(app, card, muni):
    code = signing.sign_card(card)
    message = zlib.decompress(base45.b45decode(code[4:]))
    for i in range(len(message)):
        flipped = bytearray(message)
        flipped[i] ^= 0x01
        altered = "OK1:" + base45.b45encode(zlib.compress(bytes(flipped))).decode()
        with pytest.raises(signing.BadToken):
            signing.verify(altered, _keys(muni))
    with pytest.raises(signing.BadToken) as exc:
        signing.verify(code, {})
    assert exc.value.reason == "key_unknown"
    later = utcnow() + timedelta(days=3650)
    with pytest.raises(signing.BadToken) as exc:
        signing.verify(code, _keys(muni), now=later)
    assert exc.value.reason == "expired"
    for junk in ("OK1:", "OK1:%%%", "HC1:ABC", "OK1:" + base45.b45encode(b"not deflated").decode()):
        with pytest.raises(signing.BadToken):
            signing.verify(junk, _keys(muni))


def test_keys_rotate_retiring_keys_still_verify_and_only_two_are_kept(app, card, muni):
    first = signing.sign_card(card)
    for _ in range(3):
        signing.rotate_key(muni)
    statuses = [k.status for k in signing.keys_of(muni.id, tuple(SigningKeyStatus))]
    assert statuses.count(SigningKeyStatus.ACTIVE) == 1 and statuses.count(SigningKeyStatus.RETIRING) == 2
    assert statuses.count(SigningKeyStatus.RETIRED) == 1
    with pytest.raises(signing.BadToken):  # signed by the key now retired for good
        signing.card_number_of(first)
    fresh = signing.sign_card(card)
    assert signing.card_number_of(fresh) == card.short_code


def test_the_database_keeps_one_active_key_per_municipality(app, muni):
    import sqlalchemy as sa

    from opplevelseskort.extensions import db

    key = signing.rotate_key(muni)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.text("INSERT INTO card_signing_key (municipality_id, kid, public_key, private_key, "
                                   "status, created_at, revocation_counter) VALUES (:m, 'ffffffffffffffff', :p, :p, "
                                   "'active', CURRENT_TIMESTAMP, 0)"), {"m": muni.id, "p": key.public_key})


def test_a_revoked_card_is_in_the_delta_and_its_new_code_is_not_covered(app, client, card, muni, users):
    old_code = signing.sign_card(card)
    listed = client.get(f"/tillit/{muni.number}.json").json
    kid, counter = listed["keys"][0]["kid"], listed["keys"][0]["revocations"]
    assert counter == 0 and client.get(f"/tillit/{muni.number}/{kid}.json?siden=0").json["entries"] == []
    cards.revoke_card(card, "lost", actor=users["caseworker"])
    now = client.get(f"/tillit/{muni.number}.json").json["keys"][0]
    assert now["revocations"] == 1  # the counter moved: a scanner refetches this key's list
    delta = client.get(f"/tillit/{muni.number}/{kid}.json?siden=0").json
    # the list names the card by a hash a scanner computes from the code it holds, never by the number a family types
    digest = hashlib.sha256(bytes.fromhex(kid) + card.short_code.encode()).digest()[:16]
    assert [e["id"] for e in delta["entries"]] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    assert card.short_code not in json.dumps(delta) and delta["counter"] == 1
    assert client.get(f"/tillit/{muni.number}/{kid}.json?siden=1").json["entries"] == []  # nothing new after 1
    claims = signing.verify(old_code, _keys(muni))
    key = signing.keys_of(muni.id, (SigningKeyStatus.ACTIVE,))[0]
    assert signing.is_revoked(key.id, claims.card_number, claims.issued_at)
    assert not signing.is_revoked(key.id, claims.card_number, utcnow() + timedelta(seconds=5))  # issued after
    assert client.get(f"/tillit/{muni.number}/{kid}.json?siden=x").status_code == 400
    assert client.get("/tillit/9999.json").status_code == 404


def test_the_scanner_accepts_a_signed_code_as_it_accepts_the_card_number(app, client, card, muni, users, login_as):
    from opplevelseskort.partners import services as partners

    from ..factories import offer_values

    offer = partners.save_offer(users["partner"], offer_values(), {})
    login_as("partner")
    r = client.post("/skann", data={"offer_id": offer.id, "code": signing.sign_card(card), "source": "camera"})
    assert r.status_code == 302
    assert "Sara" in client.get(r.headers["Location"]).text
    altered = signing.sign_card(card)[:-3] + "AAA"
    assert client.post("/skann", data={"offer_id": offer.id, "code": altered, "source": "camera"}).status_code == 422


def test_the_rotate_key_command_makes_a_new_active_key(app, muni, committing):
    before = {k.kid for k in signing.keys_of(muni.id, tuple(SigningKeyStatus))}
    out = app.test_cli_runner().invoke(args=["cards", "rotate-key", "--municipality", muni.number])
    assert out.exit_code == 0 and "New signing key" in out.output
    active = signing.keys_of(muni.id, (SigningKeyStatus.ACTIVE,))
    assert len(active) == 1 and active[0].kid not in before and active[0].kid in out.output
    assert app.test_cli_runner().invoke(args=["cards", "rotate-key", "--municipality", "9999"]).exit_code != 0
