"""The card in the phone's wallet (issue 39, item 6), where a municipality has configured what it obtained; off
otherwise.

- **Apple Wallet**: a `.pkpass` (a zip of pass.json, images, manifest.json with each file's SHA-1, and `signature`:
  a detached PKCS#7 signature of the manifest made with the Pass Type ID certificate, Apple's WWDR intermediate
  included). pass.json carries the card's signed code in its QR, the validity and the companions, never the child's
  name. The update web service (Apple's five endpoints: register, list changed passes, unregister, fetch the latest
  pass, log) lets a device that registered fetch the pass again when the card changes (revoked: the pass is voided).
  The pass authenticates the device by a token derived from the serial (HMAC with SECRET_KEY): nothing to store.
  Push notifications to APNs need the same certificate and are left to the operations of a real deployment.
- **Google Wallet**: a "Save" link carrying an RS256-signed JWT (the service account's key) with a generic pass
  object; kept under 1,800 characters (measured in the tests).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from flask import current_app
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.jwk import RSAKey

from ..core import audit
from ..core.clock import OSLO, utcnow
from ..core.errors import DomainError, NotFound
from ..core.models import Municipality
from ..extensions import db
from . import codes, services, signing
from .models import Card, WalletCredential, WalletKind, WalletPass, WalletRegistration

SAVE_URL = "https://pay.google.com/gp/v/save/"
SAVE_LINK_LIMIT = 1800  # characters; Google's advice for a link that carries the whole object
APPLE_SETTINGS = ("pass_type_id", "team_id")
APPLE_SECRETS = ("certificate", "key", "wwdr")
GOOGLE_SETTINGS = ("issuer_id", "service_account_email")


# --- credentials --------------------------------------------------------------------------------------------------

def _load_certificate(pem: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise DomainError("wallet_invalid", _("%(what)s er ikke et PEM-sertifikat.", what=what)) from None


def configure_apple(municipality: Municipality, *, pass_type_id: str, team_id: str, certificate: bytes, key: bytes,
                    wwdr: bytes, actor=None) -> WalletCredential:
    """Store Apple's Pass Type ID certificate, its private key and the WWDR intermediate for the municipality, after
    checking that the key is the certificate's and the certificate is valid now."""
    cert = _load_certificate(certificate, "Pass Type ID-sertifikatet")
    _load_certificate(wwdr, "WWDR-sertifikatet")
    try:
        private = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        raise DomainError("wallet_invalid", _("Nøkkelen er ikke en PEM-nøkkel uten passord.")) from None
    if private.public_key().public_numbers() != cert.public_key().public_numbers():
        raise DomainError("wallet_invalid", _("Nøkkelen hører ikke til sertifikatet."))
    if cert.not_valid_after_utc < utcnow():
        raise DomainError("wallet_invalid", _("Sertifikatet gikk ut %(date)s.", date=cert.not_valid_after_utc.date()))
    secret = {"certificate": certificate.decode(), "key": key.decode(), "wwdr": wwdr.decode()}
    return _store(municipality, WalletKind.APPLE, {"pass_type_id": pass_type_id.strip(), "team_id": team_id.strip(),
                                                    "certificate_expires": cert.not_valid_after_utc.isoformat()},
                  secret, actor)


def configure_google(municipality: Municipality, *, issuer_id: str, service_account: bytes, actor=None) -> WalletCredential:
    """Store a Google Wallet issuer id and the service account key file (JSON, as Google's console gives it)."""
    try:
        account = json.loads(service_account)
        RSAKey.import_key(account["private_key"])
        email, key_id = account["client_email"], account.get("private_key_id", "")
    except (ValueError, KeyError, TypeError):
        raise DomainError("wallet_invalid", _("Tjenestekontoens nøkkelfil kunne ikke leses.")) from None
    return _store(municipality, WalletKind.GOOGLE, {"issuer_id": issuer_id.strip(), "service_account_email": email,
                                                     "key_id": key_id}, {"private_key": account["private_key"]}, actor)


def _store(municipality, kind: WalletKind, settings: dict, secret: dict, actor) -> WalletCredential:
    row = _credential(municipality.id, kind) or WalletCredential(municipality_id=municipality.id, kind=kind)
    row.settings, row.sealed, row.updated_at = settings, signing.seal(json.dumps(secret).encode()), utcnow()
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "wallet.configure", "municipality", municipality.id, municipality_id=municipality.id,
                 kind=str(kind))
    return row


def _credential(municipality_id: int, kind: WalletKind) -> WalletCredential | None:
    return db.session.scalar(sa.select(WalletCredential).where(WalletCredential.municipality_id == municipality_id,
                                                               WalletCredential.kind == kind))


def missing(municipality_id: int) -> dict[str, list[str]]:
    """What each wallet still lacks for the municipality (empty: ready), in words for the admin page."""
    words = {"pass_type_id": _("Pass Type ID"), "team_id": _("Team ID"), "certificate": _("Pass Type ID-sertifikat"),
             "key": _("sertifikatets private nøkkel"), "wwdr": _("Apples WWDR-mellomsertifikat"),
             "issuer_id": _("utsteder-ID (Issuer ID)"), "service_account_email": _("tjenestekonto med nøkkel")}
    out = {}
    for kind, needed in ((WalletKind.APPLE, APPLE_SETTINGS + APPLE_SECRETS), (WalletKind.GOOGLE, GOOGLE_SETTINGS)):
        row = _credential(municipality_id, kind)
        have = set(k for k, v in (row.settings if row else {}).items() if v) | (set(APPLE_SECRETS) if row else set())
        lacking = [words[k] for k in needed if k not in have]
        if row is not None and kind == WalletKind.APPLE and \
                datetime.fromisoformat(row.settings["certificate_expires"]) < utcnow():
            lacking.append(_("et gyldig sertifikat (det gikk ut)"))
        out[str(kind)] = lacking
    return out


def enabled(municipality_id: int) -> dict[str, bool]:
    return {kind: not lacking for kind, lacking in missing(municipality_id).items()}


def _secret(row: WalletCredential) -> dict:
    return json.loads(signing.unseal(row.sealed))


# --- passes -------------------------------------------------------------------------------------------------------

def _pass_of(card: Card, kind: WalletKind) -> WalletPass:
    found = db.session.scalar(sa.select(WalletPass).where(WalletPass.card_id == card.id, WalletPass.kind == kind))
    if found is None:
        found = WalletPass(card_id=card.id, kind=kind, serial=secrets.token_urlsafe(18), updated_at=utcnow())
        db.session.add(found)
        db.session.flush()
    return found


def auth_token(serial: str) -> str:
    """The token a device shows for a pass (Apple's `authenticationToken`): derived, so nothing is stored."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"apple-pass:" + serial.encode(), hashlib.sha256).hexdigest()[:32]


def _pass_json(card: Card, row: WalletCredential, wallet_pass: WalletPass) -> dict:
    municipality = db.session.get(Municipality, card.municipality_id)
    code = services.signed_code(card) if card.revoked_at is None else ""
    end = datetime(card.valid_until.year, card.valid_until.month, card.valid_until.day, tzinfo=OSLO) + timedelta(days=1)
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    body = {"formatVersion": 1, "passTypeIdentifier": row.settings["pass_type_id"],
            "teamIdentifier": row.settings["team_id"], "serialNumber": wallet_pass.serial,
            "organizationName": municipality.name, "description": _("Opplevelseskortet"),
            "logoText": _("Opplevelseskortet"), "backgroundColor": "rgb(0,80,158)", "foregroundColor": "rgb(255,255,255)",
            "labelColor": "rgb(230,238,248)", "expirationDate": end.astimezone(UTC).isoformat(),
            "voided": card.revoked_at is not None,
            "generic": {"primaryFields": [{"key": "card", "label": municipality.name, "value": _("Opplevelseskortet")}],
                        "secondaryFields": [{"key": "valid", "label": _("Gyldig til"),
                                             "value": card.valid_until.strftime("%d.%m.%Y")}],
                        "auxiliaryFields": [{"key": "companions", "label": _("Ledsagere"), "value": card.companions}]}}
    if code:
        barcode = {"format": "PKBarcodeFormatQR", "message": code, "messageEncoding": "iso-8859-1",
                   "altText": codes.format_short_code(card.short_code)}
        body.update({"barcodes": [barcode], "barcode": barcode})
    if base.startswith("https://"):  # Apple calls the update service over HTTPS only
        body.update({"webServiceURL": base + "/lommebok/apple/", "authenticationToken": auth_token(wallet_pass.serial)})
    return body


def _images() -> dict[str, bytes]:
    folder = Path(current_app.static_folder) / "wallet"
    return {name: (folder / name).read_bytes() for name in ("icon.png", "icon@2x.png", "logo.png", "logo@2x.png")}


def _sign_manifest(manifest: bytes, secret: dict) -> bytes:
    cert = x509.load_pem_x509_certificate(secret["certificate"].encode())
    key = serialization.load_pem_private_key(secret["key"].encode(), password=None)
    wwdr = x509.load_pem_x509_certificate(secret["wwdr"].encode())
    return (pkcs7.PKCS7SignatureBuilder().set_data(manifest).add_signer(cert, key, hashes.SHA256())
            .add_certificate(wwdr)
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def apple_pass(card: Card) -> tuple[bytes, WalletPass]:
    """The card's .pkpass, signed; NotFound where the municipality has not configured Apple Wallet."""
    row = _credential(card.municipality_id, WalletKind.APPLE)
    if row is None or missing(card.municipality_id)[str(WalletKind.APPLE)]:
        raise NotFound("wallet_off", _("Kommunen tilbyr ikke kortet i Apple Wallet."))
    wallet_pass = _pass_of(card, WalletKind.APPLE)
    files = {"pass.json": json.dumps(_pass_json(card, row, wallet_pass), ensure_ascii=False).encode(), **_images()}
    manifest = json.dumps({name: hashlib.sha1(data).hexdigest() for name, data in files.items()},  # noqa: S324
                          sort_keys=True).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in {**files, "manifest.json": manifest,
                           "signature": _sign_manifest(manifest, _secret(row))}.items():
            z.writestr(name, data)
    return out.getvalue(), wallet_pass


def google_save_link(card: Card) -> str:
    """The "Save to Google Wallet" link: an RS256 JWT with the card as a generic pass object; NotFound where the
    municipality has not configured Google Wallet, DomainError if it would pass SAVE_LINK_LIMIT characters."""
    row = _credential(card.municipality_id, WalletKind.GOOGLE)
    if row is None or missing(card.municipality_id)[str(WalletKind.GOOGLE)]:
        raise NotFound("wallet_off", _("Kommunen tilbyr ikke kortet i Google Wallet."))
    municipality = db.session.get(Municipality, card.municipality_id)
    wallet_pass = _pass_of(card, WalletKind.GOOGLE)
    issuer = row.settings["issuer_id"]
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    generic = {"id": f"{issuer}.{wallet_pass.serial}", "classId": f"{issuer}.opplevelseskort",
               "cardTitle": {"defaultValue": {"language": "nb", "value": municipality.name}},
               "header": {"defaultValue": {"language": "nb", "value": _("Opplevelseskortet")}},
               "barcode": {"type": "QR_CODE", "value": services.signed_code(card),
                           "alternateText": codes.format_short_code(card.short_code)},
               "validTimeInterval": {"end": {"date": datetime(card.valid_until.year, card.valid_until.month,
                                                              card.valid_until.day, 23, 59, tzinfo=OSLO).isoformat()}},
               "state": "ACTIVE", "hexBackgroundColor": "#00509e"}
    claims = {"iss": row.settings["service_account_email"], "aud": "google", "typ": "savetowallet",
              "iat": int(utcnow().timestamp()), "origins": [base] if base else [],
              "payload": {"genericObjects": [generic]}}
    header = {"alg": "RS256", "typ": "JWT", **({"kid": row.settings["key_id"]} if row.settings.get("key_id") else {})}
    token = jwt.encode(header, claims, RSAKey.import_key(_secret(row)["private_key"]))
    link = SAVE_URL + token
    if len(link) > SAVE_LINK_LIMIT:
        raise DomainError("wallet_link_too_long", _("Lenken til Google Wallet ble for lang."))
    return link


# --- Apple's update web service ----------------------------------------------------------------------------------

def device_pass(pass_type_id: str, serial: str, authorization: str | None) -> WalletPass:
    """The pass a device asks about, if its `Authorization: ApplePass <token>` is the pass's; else NotFound (an
    unknown pass) or PermissionError (a wrong token: 401)."""
    found = db.session.scalar(sa.select(WalletPass).where(WalletPass.serial == serial,
                                                          WalletPass.kind == WalletKind.APPLE))
    if found is None:
        raise NotFound("not_found", "")
    card = db.session.get(Card, found.card_id)
    row = _credential(card.municipality_id, WalletKind.APPLE)
    token = (authorization or "").removeprefix("ApplePass ").strip()
    if row is None or row.settings.get("pass_type_id") != pass_type_id or \
            not hmac.compare_digest(token, auth_token(serial)):
        raise PermissionError
    return found


def register(device_id: str, wallet_pass: WalletPass, push_token: str) -> bool:
    """A device asks to hear of the pass's changes; True when new (201), False when it had already (200)."""
    known = db.session.scalar(sa.select(WalletRegistration).where(WalletRegistration.device_id == device_id[:64],
                                                                  WalletRegistration.pass_id == wallet_pass.id))
    if known is not None:
        known.push_token = push_token[:200]
        return False
    db.session.add(WalletRegistration(device_id=device_id[:64], pass_id=wallet_pass.id, push_token=push_token[:200]))
    db.session.flush()
    return True


def unregister(device_id: str, wallet_pass: WalletPass) -> None:
    db.session.execute(sa.delete(WalletRegistration).where(WalletRegistration.device_id == device_id,
                                                           WalletRegistration.pass_id == wallet_pass.id))


def changed_serials(device_id: str, pass_type_id: str, since: str | None) -> tuple[list[str], str]:
    """The serials of the device's passes of this type changed after the tag `since` (all without one), and the
    new tag (`lastUpdated`: a string, as Apple's spec has it)."""
    rows = db.session.execute(sa.select(WalletPass.serial, WalletPass.updated_at, WalletPass.card_id)
                              .join(WalletRegistration, WalletRegistration.pass_id == WalletPass.id)
                              .where(WalletRegistration.device_id == device_id)).all()
    after = int(since) if (since or "").isdigit() else -1
    stamps = {serial: int(updated.timestamp()) for serial, updated, card_id in rows
              if _pass_type_of(card_id) == pass_type_id}
    changed = sorted(serial for serial, stamp in stamps.items() if stamp > after)
    return changed, str(max(stamps.values(), default=max(after, 0)))


def _pass_type_of(card_id: int) -> str | None:
    card = db.session.get(Card, card_id)
    row = _credential(card.municipality_id, WalletKind.APPLE) if card else None
    return row.settings.get("pass_type_id") if row else None


def card_of(wallet_pass: WalletPass) -> Card:
    return db.session.get(Card, wallet_pass.card_id)
