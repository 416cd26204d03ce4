"""Signed cards: a card's code that a scanner can check without the server (issue 39, items 1 and 3).

The token is a COSE_Sign1 message (RFC 9052) with an Ed25519 signature (EdDSA, alg -8) over a compact CBOR
payload (CWT claim keys): the municipality (iss, 1), the card number (sub, 2), the end of its validity (exp, 4),
when the token was issued (iat, 6) and the child's age band (-65537). No name. The protected header names the
signing key (kid, 4). The message is deflated (zlib) and written in Base45 (RFC 9285) after the prefix `OK1:`,
the layout of the EU Digital COVID Certificate, so it fits an alphanumeric QR code (version ≤ 11 at error
correction Q: measured in the tests).

Keys: per municipality one active signing key and at most two retiring ones (their tokens still verify),
rotated by `opplevelseskort cards rotate-key`; private keys are kept encrypted with a key derived from SECRET_KEY.
The public trust list (`trust_list`) names every key that verifies, with a revocation counter that moves each
time a card is revoked, so a scanner fetches the revocations (`revocations_since`) only when it changed.
A revocation names a card and "issued before": a card re-issued afterwards verifies again; the list names the card
by a hash (`revocation_id`), never by the number a family types.

A phone's code (issue 39, item 2; the UIC rail barcode's idea): the phone makes its own P-256 key, the server signs
the card bound to that key once (`sign_device`, the key in the CWT `cnf` claim), and the phone shows `OK2:` + Base45
of deflated CBOR [bound card, time, the phone's signature over "OK2" + bound card + time], signed again every few
seconds. A scanner checks both signatures offline; a code older than ROTATING_WINDOW is a copy.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import base45
import cbor2
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _

from ..accounts.models import User
from ..core import audit
from ..core.clock import OSLO, utcnow
from ..core.errors import DomainError, NotFound
from ..core.models import Municipality
from ..extensions import db
from .models import Card, CardRevocation, SigningKey, SigningKeyStatus

PREFIX = "OK1:"
ROTATING_PREFIX = "OK2:"  # a phone's code: its bound card and a time it signed, new every few seconds
ROTATING_WINDOW = timedelta(seconds=30)  # a rotating code older than this (or this far ahead) is a copy
EDDSA = -8
COSE_SIGN1_TAG = 18
ISS, SUB, EXP, IAT, CNF, AGE_BAND = 1, 2, 4, 6, 8, -65537
RETIRING_KEPT = 2  # keys that no longer sign but still verify


class BadToken(DomainError):
    """A signed code that does not verify: malformed, altered, signed by an unknown key, or out of date."""

    def __init__(self, reason: str):
        self.reason = reason
        if reason == "stale":
            super().__init__("code_copied", _("Koden på telefonen er gammel: et skjermbilde? Be om å se kortsiden live, "
                                              "eller bruk kortnummeret."))
        else:
            super().__init__("card_unknown", _("Koden kan ikke bekreftes. Bruk kortnummeret i stedet."))


@dataclass(frozen=True)
class Claims:
    municipality: str
    card_number: str
    valid_until: datetime
    issued_at: datetime
    age_band: str | None
    kid: str
    device_key: bytes | None = None  # the phone's P-256 point a rotating code is signed with (sign_device)


# --- keys -----------------------------------------------------------------------------------------------------

def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"opplevelseskort card keys", info=b"ed25519").derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(data: bytes) -> bytes:
    """Encrypt a secret at rest (a wallet's certificate key) with the key derived from SECRET_KEY."""
    return _fernet().encrypt(data)


def unseal(token: bytes) -> bytes:
    return _fernet().decrypt(token)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def rotate_key(municipality: Municipality, *, actor: User | None = None) -> SigningKey:
    """A new active key for the municipality; the active one retires (its tokens still verify) and retiring keys
    beyond RETIRING_KEPT are retired for good."""
    private = Ed25519PrivateKey.generate()
    public = _raw_public(private.public_key())
    raw_private = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    now = utcnow()
    for key in keys_of(municipality.id, (SigningKeyStatus.ACTIVE,)):
        key.status, key.retiring_since = SigningKeyStatus.RETIRING, now
    retiring = keys_of(municipality.id, (SigningKeyStatus.RETIRING,))
    for key in retiring[RETIRING_KEPT:]:
        key.status, key.retired_at = SigningKeyStatus.RETIRED, now
    key = SigningKey(municipality_id=municipality.id, kid=hashlib.sha256(public).hexdigest()[:16],
                     public_key=public, private_key=_fernet().encrypt(raw_private), status=SigningKeyStatus.ACTIVE,
                     created_at=now)
    db.session.add(key)
    db.session.flush()
    audit.record(actor, "card_key.rotate", "municipality", municipality.id, municipality_id=municipality.id,
                 kid=key.kid)
    return key


def keys_of(municipality_id: int, statuses: tuple[SigningKeyStatus, ...]) -> list[SigningKey]:
    """The municipality's keys in these states, newest first."""
    return list(db.session.scalars(sa.select(SigningKey).where(
        SigningKey.municipality_id == municipality_id, SigningKey.status.in_(statuses))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())))


def _active_key(municipality: Municipality) -> SigningKey:
    found = keys_of(municipality.id, (SigningKeyStatus.ACTIVE,))
    return found[0] if found else rotate_key(municipality)  # the first card signed makes the first key


# --- signing and verifying --------------------------------------------------------------------------------------

def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _card_claims(card: Card, municipality: Municipality, age_band: str | None, now: datetime | None) -> dict:
    end = datetime(card.valid_until.year, card.valid_until.month, card.valid_until.day, tzinfo=OSLO) + timedelta(days=1)
    claims = {ISS: municipality.number, SUB: card.short_code, EXP: _epoch(end), IAT: _epoch(now or utcnow())}
    if age_band:
        claims[AGE_BAND] = age_band
    return claims


def _sign1(municipality: Municipality, claims: dict) -> bytes:
    """A COSE_Sign1 message (tagged CBOR) of these claims, signed with the municipality's active key."""
    key = _active_key(municipality)
    protected = cbor2.dumps({1: EDDSA, 4: bytes.fromhex(key.kid)}, canonical=True)
    payload = cbor2.dumps(claims, canonical=True)
    private = Ed25519PrivateKey.from_private_bytes(_fernet().decrypt(key.private_key))
    signature = private.sign(_to_be_signed(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]), canonical=True)


def sign_card(card: Card, *, age_band: str | None = None, now: datetime | None = None) -> str:
    """The card's signed code (`OK1:` + Base45), signed now with its municipality's active key."""
    municipality = db.session.get(Municipality, card.municipality_id)
    message = _sign1(municipality, _card_claims(card, municipality, age_band, now))
    return PREFIX + base45.b45encode(zlib.compress(message, 9)).decode("ascii")


def sign_device(card: Card, device_key: bytes, *, age_band: str | None = None, now: datetime | None = None) -> bytes:
    """The card bound to a phone's own key (a P-256 point, 65 bytes): a COSE_Sign1 with the card's claims and the
    key as its confirmation claim (CWT `cnf`, a COSE_Key). The phone signs a fresh time with that key for each code
    it shows (`cards.devices`)."""
    municipality = db.session.get(Municipality, card.municipality_id)
    claims = _card_claims(card, municipality, age_band, now)
    claims[CNF] = {1: {1: 2, -1: 1, -2: device_key[1:33], -3: device_key[33:65]}}  # EC2, P-256, x, y
    return _sign1(municipality, claims)


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    """COSE's Sig_structure for a COSE_Sign1 without external data."""
    return cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)


def _cose_parts(message) -> tuple[bytes, dict, bytes, bytes]:
    if isinstance(message, cbor2.CBORTag):
        if message.tag != COSE_SIGN1_TAG:
            raise BadToken("malformed")
        message = message.value
    if not (isinstance(message, list | tuple) and len(message) == 4
            and all(isinstance(message[i], bytes) for i in (0, 2, 3))):
        raise BadToken("malformed")
    protected, _unprotected, payload, signature = message
    try:
        header = cbor2.loads(protected)
    except Exception:  # noqa: BLE001
        raise BadToken("malformed") from None
    if not isinstance(header, Mapping) or header.get(1) != EDDSA or not isinstance(header.get(4), bytes):
        raise BadToken("algorithm")
    return protected, header, payload, signature


def _unpack(text: str, prefix: str):
    try:
        return cbor2.loads(zlib.decompress(base45.b45decode(text[len(prefix):].strip())))
    except Exception:  # noqa: BLE001 - every way a code can be malformed is one refusal
        raise BadToken("malformed") from None


def decode(text: str) -> tuple[bytes, dict, bytes, bytes]:
    """The COSE_Sign1 parts of a signed code (protected header bytes and map, payload, signature), or BadToken."""
    if not text.startswith(PREFIX):
        raise BadToken("prefix")
    return _cose_parts(_unpack(text, PREFIX))


@dataclass(frozen=True)
class Rotating:
    """What a phone adds to its bound card for each code it shows: the time, signed with the phone's own key."""

    certificate: bytes  # the card bound to the phone's key (sign_device), as signed
    shown_at: datetime
    signature: bytes  # ECDSA P-256 with SHA-256, r || s (WebCrypto's form)

    def signed_bytes(self) -> bytes:
        return ROTATING_PREFIX.encode() + self.certificate + int(self.shown_at.timestamp()).to_bytes(8, "big")


def decode_any(text: str) -> tuple[tuple[bytes, dict, bytes, bytes], Rotating | None]:
    """A printed card's code (OK1) or a phone's rotating code (OK2: [bound card, time, signature]), or BadToken."""
    text = (text or "").strip()
    if not text.startswith(ROTATING_PREFIX):
        return decode(text), None
    outer = _unpack(text, ROTATING_PREFIX)
    if not (isinstance(outer, list | tuple) and len(outer) == 3 and isinstance(outer[0], bytes)
            and isinstance(outer[1], int) and isinstance(outer[2], bytes) and 0 < outer[1] < 2**33):
        raise BadToken("malformed")
    try:
        certificate = cbor2.loads(outer[0])
    except Exception:  # noqa: BLE001
        raise BadToken("malformed") from None
    return _cose_parts(certificate), Rotating(outer[0], datetime.fromtimestamp(outer[1], UTC), outer[2])


def check_device(claims: Claims, rotating: Rotating) -> None:
    """The phone's signature over the time it showed, with the key its bound card names, or BadToken."""
    if claims.device_key is None or len(rotating.signature) != 64:
        raise BadToken("device_signature")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), claims.device_key)
        der = encode_dss_signature(int.from_bytes(rotating.signature[:32], "big"),
                                   int.from_bytes(rotating.signature[32:], "big"))
        key.verify(der, rotating.signed_bytes(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise BadToken("device_signature") from None


def fresh(rotating: Rotating | None, at: datetime) -> bool:
    """Whether a rotating code was shown within ROTATING_WINDOW of `at` (a printed card's code always is): an older
    one is a copy (a screenshot, a photo of the screen)."""
    return rotating is None or abs(at - rotating.shown_at) <= ROTATING_WINDOW


def verify(text: str, public_keys: dict[str, bytes], *, now: datetime | None = None,
           leeway: timedelta = timedelta(seconds=60)) -> Claims:
    """The claims of a signed code whose signature one of `public_keys` (kid -> raw Ed25519 key) makes, which is
    not expired (with `leeway`, stated rather than a library's default), or BadToken naming why."""
    return _verified(decode(text), public_keys, now=now, leeway=leeway)


def _verified(parts: tuple[bytes, dict, bytes, bytes], public_keys: dict[str, bytes], *, now: datetime | None = None,
              leeway: timedelta = timedelta(seconds=60)) -> Claims:
    protected, header, payload, signature = parts
    kid = header[4].hex()
    raw = public_keys.get(kid)
    if raw is None:
        raise BadToken("key_unknown")
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, _to_be_signed(protected, payload))
    except InvalidSignature:
        raise BadToken("signature") from None
    try:
        claims = cbor2.loads(payload)
        valid_until = datetime.fromtimestamp(claims[EXP], UTC)
        issued_at = datetime.fromtimestamp(claims[IAT], UTC)
        found = Claims(str(claims[ISS]), str(claims[SUB]), valid_until, issued_at, claims.get(AGE_BAND), kid,
                       _device_point(claims.get(CNF)))
    except Exception:  # noqa: BLE001
        raise BadToken("claims") from None
    if (now or utcnow()) > found.valid_until + leeway:
        raise BadToken("expired")
    return found


def _device_point(cnf) -> bytes | None:
    """The uncompressed P-256 point of a `cnf` claim's COSE_Key, or None."""
    if cnf is None:
        return None
    key = cnf[1]
    if key[1] != 2 or key[-1] != 1 or len(key[-2]) != 32 or len(key[-3]) != 32:
        raise ValueError("not a P-256 key")
    return b"\x04" + bytes(key[-2]) + bytes(key[-3])


def card_number_of(text: str) -> str:
    """The card number of a signed code (printed, or a phone's rotating code shown just now), verified against the
    keys this server holds (every municipality's keys that still verify); a card revoked after the code was issued
    is the card's own business (its status)."""
    parts, rotating = decode_any(text)  # decoded once: the scan's hot path
    kid = parts[1][4].hex()
    key = db.session.scalar(sa.select(SigningKey).where(SigningKey.kid == kid,
                                                         SigningKey.status != SigningKeyStatus.RETIRED))
    if key is None:
        raise BadToken("key_unknown")
    claims = _verified(parts, {key.kid: key.public_key})
    if rotating is not None:
        check_device(claims, rotating)
        if not fresh(rotating, utcnow()):
            raise BadToken("stale")
    return claims.card_number


def verified_claims(text: str, *, municipality_id: int) -> tuple[Claims, int, Rotating | None]:
    """The claims of a signed code of this municipality's cards, the id of the key that signed it and, for a phone's
    rotating code, its signed time (its device signature checked), whatever its expiry (an offline scan is judged at
    its own time, by the rules), or BadToken."""
    parts, rotating = decode_any(text)
    key = db.session.scalar(sa.select(SigningKey).where(
        SigningKey.kid == parts[1][4].hex(), SigningKey.municipality_id == municipality_id,
        SigningKey.status != SigningKeyStatus.RETIRED))
    if key is None:
        raise BadToken("key_unknown")
    claims = _verified(parts, {key.kid: key.public_key}, now=datetime.min.replace(tzinfo=UTC))
    if rotating is not None:
        check_device(claims, rotating)
    return claims, key.id, rotating


# --- trust list and revocations ---------------------------------------------------------------------------------

def revoke(card: Card) -> int:
    """Revoke a card's signed codes issued before now, on every key of its municipality that verifies; each key's
    counter moves on. Returns the number of entries written."""
    now = utcnow()
    keys = keys_of(card.municipality_id, (SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRING))
    for key in keys:
        key.revocation_counter += 1
        db.session.add(CardRevocation(key_id=key.id, card_number=card.short_code, issued_before=now,
                                      seq=key.revocation_counter))
    db.session.flush()
    return len(keys)


def trust_list(municipality: Municipality) -> dict:
    """The keys a scanner trusts for the municipality's cards, with each key's revocation counter."""
    keys = keys_of(municipality.id, (SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRING))
    return {"municipality": municipality.number, "issued_at": utcnow().isoformat(timespec="seconds"),
            "keys": [{"kid": k.kid, "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
                      "x": base64.urlsafe_b64encode(k.public_key).rstrip(b"=").decode(),
                      "status": str(k.status), "created_at": k.created_at.isoformat(timespec="seconds"),
                      "revocations": k.revocation_counter} for k in keys]}


def trust_list_with_revocations(municipality_id: int) -> dict:
    """The trust list with each key's whole revocation list (an offline scanner's first fetch). Read only: a
    municipality that has signed no card yet has no key to trust."""
    municipality = db.session.get(Municipality, municipality_id)
    out = trust_list(municipality)
    keys = {k.kid: k for k in keys_of(municipality.id, (SigningKeyStatus.ACTIVE, SigningKeyStatus.RETIRING))}
    for entry in out["keys"]:
        entry["revoked"] = revocations_since(keys[entry["kid"]])["entries"]
    return out


def revocations_since(key: SigningKey, since: int = 0) -> dict:
    """A key's revocations after counter `since` (the delta a scanner that holds `since` needs)."""
    rows = db.session.scalars(sa.select(CardRevocation).where(CardRevocation.key_id == key.id,
                                                               CardRevocation.seq > since)
                              .order_by(CardRevocation.seq))
    return {"kid": key.kid, "since": since, "counter": key.revocation_counter,
            "entries": [{"id": revocation_id(key.kid, r.card_number),
                         "issued_before": r.issued_before.isoformat(timespec="seconds"), "seq": r.seq} for r in rows]}


def is_revoked(key_id: int, card_number: str, issued_at: datetime) -> bool:
    """Whether a code of this card signed by this key at `issued_at` was revoked after it was issued."""
    return bool(db.session.scalar(sa.select(sa.exists().where(
        CardRevocation.key_id == key_id, CardRevocation.card_number == card_number,
        CardRevocation.issued_before > issued_at))))


def revoked_before(key_id: int, card_number: str, issued_at: datetime, at: datetime) -> bool:
    """Whether a code issued at `issued_at` was revoked by `at` (a revocation written at or before it)."""
    return bool(db.session.scalar(sa.select(sa.exists().where(
        CardRevocation.key_id == key_id, CardRevocation.card_number == card_number,
        CardRevocation.issued_before > issued_at, CardRevocation.issued_before <= at))))


def revocation_id(kid: str, card_number: str) -> str:
    """How a revoked card is named in a public revocation list: not its number (the code a family types), but a
    hash a scanner holding the card's signed code can compute (SHA-256 of the key id's bytes and the number)."""
    digest = hashlib.sha256(bytes.fromhex(kid) + card_number.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def private_key_readable(key: SigningKey) -> bool:
    """Whether this server's SECRET_KEY opens the key (a changed SECRET_KEY needs a rotation)."""
    try:
        _fernet().decrypt(key.private_key)
    except InvalidToken:
        return False
    return True


def trust_list_of(number: str) -> dict:
    """The trust list of the municipality with this number, or NotFound."""
    municipality = db.session.scalar(sa.select(Municipality).where(Municipality.number == number))
    if municipality is None:
        raise NotFound("municipality_unknown", _("Fant ikke kommunen."))
    return trust_list(municipality)


def revocations_of(number: str, kid: str, since: int) -> dict:
    """The revocations after `since` of a key of the municipality with this number that still verifies, or
    NotFound."""
    key = db.session.scalar(sa.select(SigningKey).join(Municipality, Municipality.id == SigningKey.municipality_id)
                            .where(Municipality.number == number, SigningKey.kid == kid,
                                   SigningKey.status != SigningKeyStatus.RETIRED))
    if key is None:
        raise NotFound("key_unknown", _("Fant ikke nøkkelen."))
    return revocations_since(key, since)

