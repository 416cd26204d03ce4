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
A revocation names a card and "issued before": a card re-issued afterwards verifies again.
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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
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
EDDSA = -8
COSE_SIGN1_TAG = 18
ISS, SUB, EXP, IAT, AGE_BAND = 1, 2, 4, 6, -65537
RETIRING_KEPT = 2  # keys that no longer sign but still verify


class BadToken(DomainError):
    """A signed code that does not verify: malformed, altered, signed by an unknown key, or out of date."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__("card_unknown", _("Koden kan ikke bekreftes. Bruk kortnummeret i stedet."))


@dataclass(frozen=True)
class Claims:
    municipality: str
    card_number: str
    valid_until: datetime
    issued_at: datetime
    age_band: str | None
    kid: str


# --- keys -----------------------------------------------------------------------------------------------------

def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"opplevelseskort card keys", info=b"ed25519").derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


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


def sign_card(card: Card, *, age_band: str | None = None, now: datetime | None = None) -> str:
    """The card's signed code (`OK1:` + Base45), signed now with its municipality's active key."""
    municipality = db.session.get(Municipality, card.municipality_id)
    key = _active_key(municipality)
    end = datetime(card.valid_until.year, card.valid_until.month, card.valid_until.day, tzinfo=OSLO) + timedelta(days=1)
    claims = {ISS: municipality.number, SUB: card.short_code, EXP: _epoch(end), IAT: _epoch(now or utcnow())}
    if age_band:
        claims[AGE_BAND] = age_band
    protected = cbor2.dumps({1: EDDSA, 4: bytes.fromhex(key.kid)}, canonical=True)
    payload = cbor2.dumps(claims, canonical=True)
    private = Ed25519PrivateKey.from_private_bytes(_fernet().decrypt(key.private_key))
    signature = private.sign(_to_be_signed(protected, payload))
    message = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]), canonical=True)
    return PREFIX + base45.b45encode(zlib.compress(message, 9)).decode("ascii")


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    """COSE's Sig_structure for a COSE_Sign1 without external data."""
    return cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)


def decode(text: str) -> tuple[bytes, dict, bytes, bytes]:
    """The COSE_Sign1 parts of a signed code (protected header bytes and map, payload, signature), or BadToken."""
    if not text.startswith(PREFIX):
        raise BadToken("prefix")
    try:
        message = cbor2.loads(zlib.decompress(base45.b45decode(text[len(PREFIX):].strip())))
    except Exception:  # noqa: BLE001 - every way a code can be malformed is one refusal
        raise BadToken("malformed") from None
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
        found = Claims(str(claims[ISS]), str(claims[SUB]), valid_until, issued_at, claims.get(AGE_BAND), kid)
    except Exception:  # noqa: BLE001
        raise BadToken("claims") from None
    if (now or utcnow()) > found.valid_until + leeway:
        raise BadToken("expired")
    return found


def card_number_of(text: str) -> str:
    """The card number of a signed code, verified against the keys this server holds (every municipality's keys
    that still verify); a card revoked after the code was issued is the card's own business (its status)."""
    parts = decode(text)  # decoded once: the scan's hot path
    kid = parts[1][4].hex()
    key = db.session.scalar(sa.select(SigningKey).where(SigningKey.kid == kid,
                                                         SigningKey.status != SigningKeyStatus.RETIRED))
    if key is None:
        raise BadToken("key_unknown")
    return _verified(parts, {key.kid: key.public_key}).card_number


def verified_claims(text: str, *, municipality_id: int) -> tuple[Claims, int]:
    """The claims of a signed code of this municipality's cards and the id of the key that signed it, whatever its
    expiry (an offline scan is judged at its own time, by the rules), or BadToken."""
    parts = decode(text)
    key = db.session.scalar(sa.select(SigningKey).where(
        SigningKey.kid == parts[1][4].hex(), SigningKey.municipality_id == municipality_id,
        SigningKey.status != SigningKeyStatus.RETIRED))
    if key is None:
        raise BadToken("key_unknown")
    return _verified(parts, {key.kid: key.public_key}, now=datetime.min.replace(tzinfo=UTC)), key.id


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

