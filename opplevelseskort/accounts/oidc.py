"""Staff sign in with the municipality's own identity provider (OpenID Connect: Entra ID, Feide, ID-porten-style
providers, any OIDC issuer): the relying party, written against the standard rather than a framework's defaults.

The authorization code flow with PKCE (S256), `state` and `nonce` kept in the session and spent once; discovery and
JWKS fetched with timeouts and size and depth limits (a provider in trouble is a page with a message, never a 500);
the ID token's algorithm from an allow-list in configuration (never `none`; HS* only where an entry names it), its
signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce` and `at_hash` checked here.

Providers come from the environment, `OIDC_PROVIDERS`, a JSON list of objects (README, "Sign-in"):
    {"name": "entra", "label": "Halden kommune", "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
     "client_id": "…", "client_secret_env": "OIDC_ENTRA_SECRET", "municipality": "3101",
     "acr": "", "trust_email": true, "scopes": ["openid", "email", "profile"], "second_factor": ["mfa"],
     "jit": true, "roles_claim": "roles", "role_map": {"Opplevelseskort.Caseworker": "caseworker"},
     "allowed_roles": ["caseworker", "analyst"]}
The secret is read from the environment variable the entry names, never from the list itself.

Who gets in (the binding rules): an account is found by (issuer, subject) only. It is bound to a subject (a) by an
invitation that names the entry, at the first sign-in through it with a verified e-mail (`email_verified` true, or
an entry that says it trusts its e-mails), once; (b) by the signed-in account holder from their account page; or
(c) by `jit` creating a new account. An e-mail claim alone never binds an existing account. An entry signs in,
binds, creates and re-roles accounts of its own municipality only, and never the admin without a municipality;
roles from claims never exceed the entry's allowed roles. The level (`acr`/`amr`) a role requires is checked on
every sign-in whatever entry is used (`OIDC_ROLE_LEVELS`); the provider's sign-in stands for the app's second factor
only when it asserts one (the entry's `second_factor` values in `acr` or `amr`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import requests
from flask import Flask, current_app, session
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from ..core import audit
from ..core.clock import utcnow
from ..core.errors import DomainError
from ..core.models import Municipality, Role
from ..extensions import db
from .models import OidcLogoutToken, User
from .oidc_providers import (
    DEFAULT_ALGORITHMS,
    ROLE_ORDER,
    SYMMETRIC,
    Provider,
    endpoint_problem,
    levels_of,
    providers_from,
    role_levels_from,
)
from .services import create_user, end_sessions, unusable_password

log = logging.getLogger(__name__)


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


MAX_ANSWER_BYTES = 256 * 1024  # a discovery document or key set is a few KB; a token answer less


MAX_JSON_DEPTH = 20


LEEWAY_SECONDS = 60


FLOW_SECONDS = 600  # a sign-in started more than ten minutes ago is not finished


CACHE_SECONDS = 3600


class Refused(DomainError):
    """A sign-in the rules say no to; `reason` and `user` are what its audit row records (`record_refusal`)."""

    code = "oidc_refused"

    def __init__(self, message: str, reason: str, user: User | None = None, **details):
        super().__init__(self.code, message, reason=reason, **details)
        self.reason, self.user = reason, user


class Trouble(DomainError):
    """The provider could not be reached or answered nonsense: the person is told, the log says what."""

    code = "oidc_unavailable"

    def __init__(self, provider: Provider, what: str):
        super().__init__(self.code, _("Innloggingen hos %(provider)s svarer ikke som den skal akkurat nå. Prøv igjen "
                                      "om litt, eller logg inn på en annen måte.", provider=provider.label))
        self.what = what


def init_app(app: Flask) -> None:
    """Read the providers once; an entry that cannot be honoured stops the app here, not at a sign-in."""
    providers = providers_from(app.config.get("OIDC_PROVIDERS", ""), app.config.get("OIDC_SECRETS", {}),
                               production=app.config.get("PRODUCTION", False),
                               default_algorithms=tuple(app.config.get("OIDC_ALGORITHMS") or DEFAULT_ALGORITHMS))
    app.extensions["opplevelseskort.oidc"] = {
        "providers": {p.name: p for p in providers},
        "levels": role_levels_from(app.config.get("OIDC_ROLE_LEVELS", "")),
        "cache": {},  # issuer -> {"discovery": (at, doc), "jwks": (at, KeySet)}
    }


def _registry() -> dict:
    return current_app.extensions["opplevelseskort.oidc"]


def providers() -> list[Provider]:
    return list(_registry()["providers"].values())


def provider(name: str) -> Provider | None:
    return _registry()["providers"].get(name)


def _check_depth(body: bytes) -> None:
    """Refuse JSON nested deeper than any provider needs before the parser recurses into it."""
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError("nested too deeply")
        elif byte in (0x5D, 0x7D):
            depth -= 1


def _call(p: Provider, url: str, *, data: dict | None = None) -> tuple[int, dict]:
    """One request to the provider: an allowed address, a timeout, a bounded answer, a JSON object back."""
    if problem := endpoint_problem(url, production=current_app.config.get("PRODUCTION", False)):
        raise Trouble(p, f"endpoint {problem}")
    timeout = current_app.config.get("OIDC_TIMEOUT_SECONDS", 5)
    try:
        with requests.request("POST" if data is not None else "GET", url, data=data, timeout=(timeout, timeout),
                              auth=(p.client_id, p.client_secret) if data is not None else None, stream=True,
                              allow_redirects=False, headers={"Accept": "application/json"}) as answer:
            body = b""
            for chunk in answer.iter_content(65536):
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise Trouble(p, f"{url}: answer larger than {MAX_ANSWER_BYTES} bytes")
            status = answer.status_code
    except requests.RequestException as exc:
        raise Trouble(p, f"{url}: {type(exc).__name__}") from None
    try:
        _check_depth(body)
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Trouble(p, f"{url}: HTTP {status}, not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise Trouble(p, f"{url}: HTTP {status}, not a JSON object")
    return status, doc


def _cached(p: Provider, what: str, fetch, *, fresh: bool = False):
    cache = _registry()["cache"].setdefault(p.issuer, {})
    hit = cache.get(what)
    if hit is not None and not fresh and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = fetch()
    cache[what] = (time.monotonic(), value)
    return value


def discovery(p: Provider) -> dict:
    """The provider's metadata: its issuer must be the configured one, each endpoint an allowed address."""
    def fetch():
        status, doc = _call(p, f"{p.issuer}/.well-known/openid-configuration")
        if status != 200:
            raise Trouble(p, f"discovery answered HTTP {status}")
        if str(doc.get("issuer", "")).rstrip("/") != p.issuer:
            raise Trouble(p, f"discovery names another issuer: {str(doc.get('issuer'))[:80]!r}")
        production = current_app.config.get("PRODUCTION", False)
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if problem := endpoint_problem(doc.get(key), production=production):
                raise Trouble(p, f"discovery {key} {problem}")
        return doc
    return _cached(p, "discovery", fetch)


def _keys(p: Provider, kid: str | None) -> KeySet:
    """The provider's signing keys; fetched again once when a token names a key not yet seen (rotation)."""
    def fetch():
        status, doc = _call(p, discovery(p)["jwks_uri"])
        if status != 200:
            raise Trouble(p, f"jwks answered HTTP {status}")
        try:
            return KeySet.import_key_set(doc)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise Trouble(p, f"jwks unreadable: {exc}") from None
    keys = _cached(p, "jwks", fetch)
    if kid and all(k.kid != kid for k in keys.keys):
        keys = _cached(p, "jwks", fetch, fresh=True)
    return keys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def begin(p: Provider, redirect_uri: str, *, next_url: str | None = None, link_user: User | None = None) -> str:
    """Where to send the browser: the provider's authorization endpoint with PKCE, state, nonce and the scopes and
    level the entry asks for. The flow's secrets stay in the session, spent once by `finish`."""
    endpoint = discovery(p)["authorization_endpoint"]
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    flows = {k: v for k, v in (session.get("oidc_flows") or {}).items()
             if time.time() - v.get("at", 0) < FLOW_SECONDS}
    flows = dict(sorted(flows.items(), key=lambda kv: kv[1]["at"])[-2:])  # at most three sign-ins under way
    flows[state] = {"provider": p.name, "nonce": nonce, "verifier": verifier, "at": time.time(),
                    "next": next_url, "link": link_user.get_id() if link_user is not None else None}
    session["oidc_flows"] = flows
    query = {"response_type": "code", "client_id": p.client_id, "redirect_uri": redirect_uri,
             "scope": " ".join(p.scopes), "state": state, "nonce": nonce, "code_challenge_method": "S256",
             "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest())}
    if p.acr:
        query["acr_values"] = p.acr
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)


def finish(p: Provider, args, redirect_uri: str) -> tuple[dict, dict]:
    """The provider's answer: the state spent, the code redeemed with the PKCE verifier, the ID token checked.
    Returns the ID token's claims and the flow (its `next` and whether an account holder is linking)."""
    flows = dict(session.get("oidc_flows") or {})
    flow = flows.pop(str(args.get("state") or ""), None)
    session["oidc_flows"] = flows
    if flow is None or flow["provider"] != p.name or time.time() - flow["at"] > FLOW_SECONDS:
        raise Refused(_("Innloggingen ble ikke godkjent. Start på nytt fra innloggingssiden."), "state")
    if args.get("error"):
        raise Refused(_("Innloggingen hos %(provider)s ble avbrutt eller avvist.", provider=p.label),
                      f"provider_error:{str(args.get('error'))[:40]}")
    if args.get("iss") and str(args["iss"]).rstrip("/") != p.issuer:  # RFC 9207: an answer from another issuer
        raise Refused(_("Innloggingen ble ikke godkjent. Start på nytt fra innloggingssiden."), "issuer_mixup")
    status, tokens = _call(p, discovery(p)["token_endpoint"], data={
        "grant_type": "authorization_code", "code": str(args.get("code") or ""), "redirect_uri": redirect_uri,
        "code_verifier": flow["verifier"], "client_id": p.client_id})
    if status >= 500:
        raise Trouble(p, f"token endpoint answered HTTP {status}")
    if status != 200 or not isinstance(tokens.get("id_token"), str):
        raise Refused(_("Innloggingen hos %(provider)s ble ikke godkjent. Prøv igjen.", provider=p.label),
                      f"token_refused:{str(tokens.get('error'))[:40]}")
    return validate_id_token(p, tokens["id_token"], nonce=flow["nonce"], access_token=tokens.get("access_token")), \
        flow


def _header(token: str) -> dict:
    try:
        head = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    except (ValueError, IndexError):
        return {}
    return head if isinstance(head, dict) else {}


def _verified_claims(p: Provider, token: str) -> dict:
    """The token's claims once its signature holds under an allowed algorithm and the provider's key."""
    head = _header(token)
    alg = head.get("alg")
    if alg not in p.algorithms:  # never 'none'; HS* only where the entry names it
        raise Refused(_("Innloggingen ble ikke godkjent. Prøv igjen."), f"algorithm:{str(alg)[:20]}")
    key = OctKey.import_key(p.client_secret) if alg in SYMMETRIC else _keys(p, head.get("kid"))
    try:
        claims = jwt.decode(token, key, algorithms=[alg]).claims
    except (JoseError, ValueError, TypeError) as exc:
        raise Refused(_("Innloggingen ble ikke godkjent. Prøv igjen."), f"signature:{type(exc).__name__}") from None
    return claims


def _audiences(claims: dict) -> list:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []


def _at_hash(access_token: str, alg: str) -> str:
    digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}.get(alg[-3:], hashlib.sha256)
    full = digest(access_token.encode()).digest()
    return _b64(full[:len(full) // 2])


def validate_id_token(p: Provider, token: str, *, nonce: str, access_token: str | None = None) -> dict:
    """An ID token as OpenID Connect Core 3.1.3.7 says: signature, iss, aud (and azp), exp, iat, nonce, at_hash."""
    claims = _verified_claims(p, token)
    now = time.time()
    audiences = _audiences(claims)
    problem = None
    if claims.get("iss") != p.issuer:
        problem = "iss"
    elif p.client_id not in audiences:
        problem = "aud"
    elif (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != p.client_id:
        problem = "azp"
    elif not isinstance(claims.get("exp"), int | float) or claims["exp"] < now - LEEWAY_SECONDS:
        problem = "exp"
    elif not isinstance(claims.get("iat"), int | float) or claims["iat"] > now + LEEWAY_SECONDS:
        problem = "iat"
    elif not nonce or claims.get("nonce") != nonce:
        problem = "nonce"
    elif claims.get("at_hash") and access_token and claims["at_hash"] != _at_hash(access_token,
                                                                                   _header(token)["alg"]):
        problem = "at_hash"
    elif not isinstance(claims.get("sub"), str) or not claims["sub"]:
        problem = "sub"
    if problem:
        raise Refused(_("Innloggingen ble ikke godkjent. Prøv igjen."), f"id_token:{problem}")
    return claims


def _municipality(p: Provider) -> Municipality:
    muni = db.session.scalar(db.select(Municipality).filter_by(number=p.municipality))
    if muni is None:
        raise Refused(_("Innloggingen hos %(provider)s er ikke satt opp for noen kommune her.", provider=p.label),
                      "municipality_unknown")
    return muni


def _email_of(p: Provider, claims: dict) -> tuple[str, bool]:
    """The e-mail claim and whether it may be believed: `email_verified` true, or an entry that trusts its
    e-mails (the organisation's own addresses)."""
    email = str(claims.get("email") or "").strip().lower()
    verified = str(claims.get("email_verified")).lower() == "true"  # true, or the string some providers send
    return email, bool(email) and (verified or p.trust_email)


def _mapped_role(p: Provider, claims: dict) -> Role | None:
    values = claims.get(p.roles_claim) or []
    values = [values] if isinstance(values, str) else list(values) if isinstance(values, list) else []
    mapped = {p.role_map[str(v)] for v in values if str(v) in p.role_map} & p.allowed_roles
    return next((r for r in ROLE_ORDER if r.value in mapped), None)


def _check_belongs(p: Provider, muni: Municipality, user: User) -> None:
    if user.municipality_id is None:
        raise Refused(_("Denne kontoen kan ikke logge inn gjennom en identitetsleverandør. Bruk passordet."),
                      "global_admin", user)
    if user.municipality_id != muni.id:
        raise Refused(_("Kontoen hører til en annen kommune enn innloggingen hos %(provider)s.", provider=p.label),
                      "other_municipality", user)


def _check_level(role: Role, claims: dict) -> None:
    required = _registry()["levels"].get(Role(role).value)
    if required and not required & levels_of(claims):
        raise Refused(_("Innloggingen var ikke på det nivået kommunen krever for rollen din. Prøv igjen med et "
                        "sterkere innloggingsmiddel."), "level")


def user_for_claims(p: Provider, claims: dict) -> User:
    """The account the checked claims sign in to, by the binding rules (module docstring). Every check comes
    before any write, so a refusal has changed nothing."""
    muni = _municipality(p)
    subject = str(claims["sub"])
    user = db.session.scalar(db.select(User).filter_by(oidc_issuer=p.issuer, oidc_subject=subject))
    email, email_ok = _email_of(p, claims)
    mapped = _mapped_role(p, claims) if p.jit and p.role_map else None
    bind = create = False
    if user is None:
        same_email = db.session.scalar(db.select(User).filter_by(email=email)) if email else None
        if same_email is not None and same_email.oidc_invite_provider == p.name and same_email.oidc_subject is None:
            if not email_ok:
                raise Refused(_("Identitetsleverandøren har ikke bekreftet e-postadressen din. Bekreft den der, "
                                "eller be en administrator om hjelp."), "email_unverified", same_email)
            user, bind = same_email, True
        elif same_email is not None:  # an e-mail claim alone never binds an existing account
            raise Refused(_("Kontoen med denne e-postadressen er ikke knyttet til innloggingen hos %(provider)s. "
                            "Logg inn på vanlig måte og knytt den til fra kontosiden, eller be en administrator om "
                            "en invitasjon.", provider=p.label), "email_not_bound", same_email)
        elif mapped is not None and email_ok:
            create = True
        else:
            raise Refused(_("Du har ingen konto her. Be en administrator i kommunen om å invitere deg."), "no_account")
    if user is not None:
        _check_belongs(p, muni, user)
        if not user.active:
            raise Refused(_("Kontoen er deaktivert."), "disabled", user)
    role = mapped if p.jit and p.role_map else (user.role if user is not None else None)
    if role is None:
        raise Refused(_("Du har ingen rolle i opplevelseskortet hos kommunen din."), "no_role", user)
    _check_level(role, claims)
    if create:
        user = create_user(email, unusable_password(), role, name=str(claims.get("name") or ""),
                           municipality_id=muni.id)
        audit.record(user, "user.oidc_jit", "user", user.id, municipality_id=muni.id, provider=p.name)
        bind = True
    if bind:
        _bind(user, p, subject, how="invitation" if not create else "jit")
    if user.role != role:
        user.role = role
        end_sessions(user)
        audit.record(user, "user.oidc_role", "user", user.id, municipality_id=user.municipality_id, role=str(role),
                     provider=p.name)
    return user


def _bind(user: User, p: Provider, subject: str, *, how: str, actor: User | None = None) -> None:
    user.oidc_issuer, user.oidc_subject, user.oidc_invite_provider = p.issuer, subject, None
    audit.record(actor or user, "user.oidc_bind", "user", user.id, municipality_id=user.municipality_id,
                 provider=p.name, how=how)
    log.info("user %s bound to a subject of %s (%s)", user.id, p.name, how)


def link_account(user: User, p: Provider, claims: dict) -> None:
    """The signed-in account holder connects their municipal login: the entry must be their municipality's and
    the subject not another account's."""
    _check_belongs(p, _municipality(p), user)
    subject = str(claims["sub"])
    other = db.session.scalar(db.select(User).filter_by(oidc_issuer=p.issuer, oidc_subject=subject))
    if other is not None and other.id != user.id:
        raise Refused(_("Denne innloggingen er allerede knyttet til en annen konto."), "subject_taken", user)
    if user.oidc_subject and (user.oidc_issuer, user.oidc_subject) != (p.issuer, subject):
        raise Refused(_("Kontoen er allerede knyttet til en annen innlogging. Be en administrator fjerne den først."),
                      "already_bound", user)
    _bind(user, p, subject, how="account_holder")


def invite(user: User, provider_name: str | None, *, actor: User) -> None:
    """The admin invites the person to sign in through an entry of their municipality (None: no invitation)."""
    if provider_name:
        p = provider(provider_name)
        if p is None or user.municipality is None or p.municipality != user.municipality.number:
            raise DomainError("oidc_provider_unknown", _("Innloggingen finnes ikke for brukerens kommune."))
    if (user.oidc_invite_provider or None) == (provider_name or None):
        return
    user.oidc_invite_provider = provider_name or None
    audit.record(actor, "user.oidc_invite", "user", user.id, municipality_id=user.municipality_id,
                 provider=provider_name or "")


def unbind(user: User, *, actor: User) -> None:
    """An admin removes the account's tie to a provider subject (the person is bound again by invitation)."""
    if not user.oidc_subject:
        return
    audit.record(actor, "user.oidc_unbind", "user", user.id, municipality_id=user.municipality_id,
                 issuer=user.oidc_issuer)
    user.oidc_issuer = user.oidc_subject = None
    end_sessions(user)


def providers_for(user: User) -> list[Provider]:
    """The entries that may touch this account: its own municipality's."""
    if user.municipality is None:
        return []
    return [p for p in providers() if p.municipality == user.municipality.number]


def record_refusal(p: Provider, exc: Refused) -> None:
    """The audit row of a refused sign-in (added after the refusal, which wrote nothing)."""
    user = exc.user
    audit.record(None, "user.oidc_refused", "user", user.id if user is not None else None,
                 municipality_id=user.municipality_id if user is not None else None, provider=p.name,
                 reason=exc.reason)


def backchannel_logout(p: Provider, logout_token: str) -> User | None:
    """A provider says a user's session there ended: its logout token verified (allowed algorithm, the
    provider's key, issuer, audience, iat, the back-channel event, a jti not seen before, no nonce), then every
    session of that user here ends."""
    try:
        claims = _verified_claims(p, logout_token)
    except Refused as exc:
        raise DomainError("logout_token_invalid", exc.reason) from None
    now = time.time()
    if (claims.get("iss") != p.issuer or p.client_id not in _audiences(claims)
            or not isinstance(claims.get("iat"), int | float) or abs(now - claims["iat"]) > 600
            or BACKCHANNEL_EVENT not in (claims.get("events") or {}) or "nonce" in claims
            or not claims.get("sub") or not isinstance(claims.get("jti"), str) or not claims["jti"]
            or (isinstance(claims.get("exp"), int | float) and claims["exp"] < now - LEEWAY_SECONDS)):
        raise DomainError("logout_token_invalid", "not a valid back-channel logout token")
    expires = max(float(claims.get("exp") or 0), float(claims["iat"]) + 600) + LEEWAY_SECONDS
    db.session.execute(db.delete(OidcLogoutToken).where(OidcLogoutToken.expires_at < utcnow()))
    if db.session.scalar(db.select(OidcLogoutToken.id).filter_by(issuer=p.issuer, jti=claims["jti"][:255])):
        raise DomainError("logout_token_replayed", "this logout token was used before")
    db.session.add(OidcLogoutToken(issuer=p.issuer, jti=claims["jti"][:255],
                                   expires_at=datetime.fromtimestamp(expires, UTC)))
    db.session.flush()  # the unique (issuer, jti) refuses a concurrent replay
    user = db.session.scalar(db.select(User).filter_by(oidc_issuer=p.issuer, oidc_subject=str(claims["sub"])))
    if user is not None:
        end_sessions(user)
        audit.record(None, "user.oidc_logout", "user", user.id, municipality_id=user.municipality_id,
                     provider=p.name)
    return user

