"""Passkeys (WebAuthn) as a staff user's second factor, the better option beside the authenticator app's code.

The browser's authenticator (a phone, a laptop's fingerprint reader, a security key) signs a fresh challenge
this server issued for this site; the server keeps only the credential's id, its public key and its signature
counter. The relying party is this site's host name (WEBAUTHN_RP_ID to set it behind a proxy) and the origin the
page was served from (WEBAUTHN_ORIGIN); a response signed for another site, another challenge or with a counter
that went backwards (a cloned authenticator) is refused.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import webauthn
from flask import current_app, request
from flask_babel import gettext as _
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..core import audit
from ..core.clock import utcnow
from ..core.errors import DomainError, NotFound
from ..extensions import db
from .models import Passkey, User

RP_NAME = "Opplevelseskortet"


def rp_id() -> str:
    return current_app.config.get("WEBAUTHN_RP_ID") or (request.host.split(":")[0] if request else "localhost")


def origin() -> str:
    return current_app.config.get("WEBAUTHN_ORIGIN") or request.host_url.rstrip("/")


def passkeys_of(user: User) -> list[Passkey]:
    return list(db.session.scalars(db.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)))


def has_passkey(user: User) -> bool:
    return db.session.scalar(db.select(sa.exists().where(Passkey.user_id == user.id))) or False


def _descriptor(p: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for t in p.transports or ():
        try:
            transports.append(AuthenticatorTransport(t))
        except ValueError:
            pass  # a transport this library does not know yet: the browser finds the key without the hint
    return PublicKeyCredentialDescriptor(id=p.credential_id, transports=transports or None)


def registration_options(user: User) -> tuple[str, str]:
    """The options for navigator.credentials.create() (JSON) and the challenge to keep in the session."""
    options = webauthn.generate_registration_options(
        rp_id=rp_id(), rp_name=RP_NAME, user_name=user.email, user_display_name=user.name or user.email,
        user_id=f"user:{user.id}".encode(),
        exclude_credentials=[_descriptor(p) for p in passkeys_of(user)],  # the same authenticator twice is refused
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.PREFERRED,
                                                               user_verification=UserVerificationRequirement.PREFERRED))
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


def _credential(data) -> str:
    if isinstance(data, str | bytes):
        return data.decode() if isinstance(data, bytes) else data
    return json.dumps(data)


def register(user: User, credential, challenge: str | None, name: str, *, actor: User) -> Passkey:
    """Keep a new passkey once its attestation checks out for this site and the challenge it was given."""
    if not challenge:
        raise DomainError("passkey_challenge", _("Start registreringen av passnøkkelen på nytt."))
    try:
        verified = webauthn.verify_registration_response(
            credential=_credential(credential), expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id(), expected_origin=origin())
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise DomainError("passkey_invalid", _("Passnøkkelen kunne ikke registreres: %(why)s", why=str(exc))) from None
    if db.session.scalar(db.select(Passkey.id).where(Passkey.credential_id == verified.credential_id)):
        raise DomainError("passkey_known", _("Denne passnøkkelen er allerede registrert."))
    transports = []
    if isinstance(credential, dict):
        transports = [str(t) for t in (credential.get("response") or {}).get("transports") or []][:8]
    key = Passkey(user_id=user.id, credential_id=verified.credential_id, public_key=verified.credential_public_key,
                  sign_count=verified.sign_count, name=(name or "").strip()[:100] or _("Passnøkkel"),
                  transports=transports)
    db.session.add(key)
    db.session.flush()
    audit.record(actor, "user.passkey_add", "user", user.id, municipality_id=user.municipality_id, passkey=key.id)
    return key


def authentication_options(user: User) -> tuple[str, str]:
    """The options for navigator.credentials.get(): this user's passkeys only, and the challenge to keep."""
    options = webauthn.generate_authentication_options(
        rp_id=rp_id(), allow_credentials=[_descriptor(p) for p in passkeys_of(user)],
        user_verification=UserVerificationRequirement.PREFERRED)
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


def verify(user: User, credential, challenge: str | None) -> bool:
    """Whether the assertion was made by one of this user's passkeys, for this site and this challenge; the
    counter is kept (a counter that goes backwards means a cloned authenticator: refused)."""
    if not challenge:
        return False
    try:
        data = json.loads(_credential(credential))
        key = db.session.scalar(db.select(Passkey).where(Passkey.user_id == user.id,
                                                         Passkey.credential_id == base64url_to_bytes(data["rawId"])))
        if key is None:
            return False
        verified = webauthn.verify_authentication_response(
            credential=data, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id(),
            expected_origin=origin(), credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return False
    key.sign_count, key.last_used_at = verified.new_sign_count, utcnow()
    return True


def remove(user: User, passkey_id: int, *, actor: User) -> None:
    key = db.session.get(Passkey, passkey_id)
    if key is None or key.user_id != user.id:
        raise NotFound("passkey_not_found", _("Fant ikke passnøkkelen."))
    db.session.delete(key)
    audit.record(actor, "user.passkey_remove", "user", user.id, municipality_id=user.municipality_id,
                 passkey=passkey_id)


def remove_all(user: User) -> None:
    db.session.execute(sa.delete(Passkey).where(Passkey.user_id == user.id))
