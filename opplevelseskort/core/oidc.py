"""Staff sign in with the municipality's own identity provider (OpenID Connect: Entra ID, Feide, ID-porten-style
providers, any OIDC issuer), through Authlib.

The authorization code flow with PKCE (S256), `state` and `nonce` (Authlib keeps them in the session and checks
them), discovery and JWKS (a key the provider rotated in is fetched when an ID token names it); the ID token's
issuer, audience, expiry and nonce are checked by Authlib, and the `acr` here when the provider is configured with
a required level.

Providers come from the environment, `OIDC_PROVIDERS`, a JSON list of objects:
    {"name": "entra", "label": "Halden kommune", "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
     "client_id": "…", "client_secret_env": "OIDC_ENTRA_SECRET", "municipality": "3101",
     "acr": "idporten-loa-substantial", "jit": false, "roles_claim": "roles",
     "role_map": {"Opplevelseskort.Caseworker": "caseworker"}}
The secret is read from the environment variable the entry names, never from the list itself.

Who gets in: an invited user (an admin created the account with that e-mail) is bound to the provider's subject
at the first sign-in (by a verified e-mail), and from then on found by the subject alone, never by e-mail. With
`jit` a user the provider vouches for gets an account with the role its app-role claim maps to. A provider's
back-channel logout ends every session of the user it names.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..extensions import db
from . import audit
from .errors import DomainError
from .models import Municipality, Role, User
from .services import create_user, end_sessions, unusable_password

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    municipality: str = ""  # the municipality's number its users belong to
    acr: str = ""  # a required authentication level ("" when the provider is not asked for one)
    jit: bool = False  # just-in-time accounts from the roles claim
    roles_claim: str = "roles"
    role_map: dict = field(default_factory=dict)


def providers_from(config_text: str, env=os.environ) -> list[Provider]:
    """The providers a deployment configured (OIDC_PROVIDERS), each secret from its own environment variable."""
    if not (config_text or "").strip():
        return []
    out = []
    for entry in json.loads(config_text):
        secret = env.get(entry.get("client_secret_env", ""), "")
        out.append(Provider(entry["name"], entry.get("label", entry["name"]), entry["issuer"].rstrip("/"),
                            entry["client_id"], secret, str(entry.get("municipality", "")), entry.get("acr", ""),
                            bool(entry.get("jit", False)), entry.get("roles_claim", "roles"),
                            dict(entry.get("role_map", {}))))
    return out


def init_app(app: Flask) -> None:
    """Register each configured provider with Authlib (discovery from the issuer's well-known document)."""
    oauth = OAuth(app)
    providers = providers_from(app.config.get("OIDC_PROVIDERS", ""))
    for p in providers:
        oauth.register(p.name, client_id=p.client_id, client_secret=p.client_secret,
                       server_metadata_url=f"{p.issuer}/.well-known/openid-configuration",
                       client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"})
    app.extensions["opplevelseskort.oidc"] = (oauth, {p.name: p for p in providers})


def providers() -> list[Provider]:
    return list(current_app.extensions["opplevelseskort.oidc"][1].values())


def provider(name: str) -> Provider | None:
    return current_app.extensions["opplevelseskort.oidc"][1].get(name)


def client(name: str):
    return getattr(current_app.extensions["opplevelseskort.oidc"][0], name)


def _refused(why: str) -> DomainError:
    return DomainError("oidc_refused", why)


def user_for_claims(p: Provider, claims: dict) -> User:
    """The account an ID token's claims sign in to: the one bound to (issuer, subject); else an invited account
    with the provider's verified e-mail, bound now; else, with `jit`, a new account in the mapped role. Refused
    when the required level was not met, the account is disabled, or nobody invited the person."""
    if p.acr and claims.get("acr") != p.acr:
        raise _refused(_("Innloggingen var ikke på det nivået kommunen krever. Prøv igjen."))
    subject = str(claims.get("sub") or "")
    if not subject:
        raise _refused(_("Identitetsleverandøren sendte ingen brukeridentitet."))
    user = db.session.scalar(db.select(User).filter_by(oidc_issuer=p.issuer, oidc_subject=subject))
    if user is None:
        email = (claims.get("email") or "").strip().lower()
        verified = claims.get("email_verified", True)  # Entra ID sends no email_verified: its e-mail is the tenant's
        if email and verified:
            user = db.session.scalar(db.select(User).filter_by(email=email))
            if user is not None and user.oidc_subject is not None:
                raise _refused(_("Kontoen er allerede knyttet til en annen innlogging."))
        if user is None and p.jit:
            user = _jit_user(p, claims, email)
        if user is None:
            raise _refused(_("Du har ingen konto her. Be en administrator i kommunen om å invitere deg."))
        user.oidc_issuer, user.oidc_subject = p.issuer, subject
        audit.record(user, "user.oidc_bind", "user", user.id, municipality_id=user.municipality_id,
                     provider=p.name)
    if not user.active:
        raise _refused(_("Kontoen er deaktivert."))
    if p.jit and p.role_map:  # the provider's app roles decide the role at every sign-in
        role = _mapped_role(p, claims)
        if role is None:
            raise _refused(_("Du har ingen rolle i opplevelseskortet hos kommunen din."))
        if user.role != role:
            user.role = role
            audit.record(user, "user.oidc_role", "user", user.id, municipality_id=user.municipality_id,
                         role=str(role))
    return user


def _mapped_role(p: Provider, claims: dict) -> Role | None:
    values = claims.get(p.roles_claim) or []
    values = [values] if isinstance(values, str) else list(values)
    mapped = [Role(p.role_map[v]) for v in values if v in p.role_map]
    order = [Role.ADMIN, Role.CASEWORKER, Role.ANALYST, Role.VOLUNTEER, Role.PARTNER]  # the widest role wins
    return next((r for r in order if r in mapped), None)


def _jit_user(p: Provider, claims: dict, email: str) -> User | None:
    role = _mapped_role(p, claims)
    if role is None or not email or role == Role.PARTNER:  # a partner belongs to an organisation: invited only
        return None
    muni = db.session.scalar(db.select(Municipality).filter_by(number=p.municipality)) if p.municipality else None
    if muni is None:
        return None
    user = create_user(email, unusable_password(), role, name=claims.get("name") or "", municipality_id=muni.id)
    audit.record(user, "user.oidc_jit", "user", user.id, municipality_id=muni.id, provider=p.name)
    return user


def backchannel_logout(p: Provider, logout_token: str) -> User | None:
    """A provider says a user's session there ended: verify its logout token (signature from the provider's
    JWKS, issuer, audience, the back-channel event, no nonce) and end every session of that user here."""
    try:
        keys = KeySet.import_key_set(client(p.name).fetch_jwk_set(force=True))
        claims = jwt.decode(logout_token, keys, algorithms=["RS256", "PS256", "ES256"]).claims
        jwt.JWTClaimsRegistry(leeway=120, iss={"essential": True, "value": p.issuer},
                              aud={"essential": True, "value": p.client_id},
                              iat={"essential": True}).validate(claims)
    except (JoseError, ValueError) as exc:
        raise DomainError("logout_token_invalid", str(exc)) from None
    if BACKCHANNEL_EVENT not in (claims.get("events") or {}) or "nonce" in claims or not claims.get("sub"):
        raise DomainError("logout_token_invalid", "not a back-channel logout token")
    user = db.session.scalar(db.select(User).filter_by(oidc_issuer=p.issuer, oidc_subject=str(claims["sub"])))
    if user is not None:
        end_sessions(user)
        audit.record(None, "user.oidc_logout", "user", user.id, municipality_id=user.municipality_id,
                     provider=p.name)
    return user
