"""API tokens: made with a scope and a lifetime, shown once, kept as a hash, revocable."""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, make_transient_to_detached

from ..core import audit
from ..core.clock import utcnow
from ..core.errors import DomainError
from ..core.models import Role
from ..extensions import db
from .models import ROLE_SCOPES, TOKEN_SCOPES, ApiToken, User

TOKEN_PREFIX = "okt_"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


TOKEN_DAYS = (30, 90, 365)  # the lifetimes a token may be given


SCOPE_LABELS = {"checkin": _l("Sjekke inn kort"), "cards:read": _l("Se om et kort gjelder"),
                "loans": _l("Låne ut og ta imot utstyr"), "reports": _l("Hente rapporter")}


def scopes_for_role(role: Role) -> tuple[str, ...]:
    return ROLE_SCOPES.get(Role(role), ())


def create_token(user: User, name: str = "", *, actor: User | None = None, scopes: list[str] | None = None,
                 days: int = 90) -> tuple[ApiToken, str]:
    """Issue an API token for some of what the user's role may do (all of it when `scopes` is None), for `days`
    days; only its hash is kept, the raw value is returned once."""
    if not user.active:
        raise DomainError("user_inactive", _("Brukeren er deaktivert."))
    allowed = scopes_for_role(user.role)
    chosen = list(allowed) if scopes is None else [s for s in TOKEN_SCOPES if s in set(scopes)]
    problems = {}
    if not chosen or any(s not in allowed for s in scopes or []):
        problems["scopes"] = _("Velg minst én tilgang som rollen din har.")
    if days not in TOKEN_DAYS:
        problems["days"] = _("Velg hvor lenge nøkkelen skal virke.")
    if problems:
        raise DomainError("token_invalid", " ".join(problems.values()), fields=problems)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip(), prefix=raw[:10], token_hash=_hash_token(raw), role=user.role,
                     scopes=chosen, expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record(actor or user, "token.create", "api_token", token.id, municipality_id=user.municipality_id,
                 user_id=user.id, scopes=chosen, days=days)
    return token, raw


def revoke_token(token: ApiToken, *, actor: User) -> None:
    """Revoke a token: it stops working at once in this process, and within API_TOKEN_CACHE_SECONDS on the others."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        _TOKENS.pop(token.token_hash, None)
        audit.record(actor, "token.revoke", "api_token", token.id, user_id=token.user_id)


def user_for_token(raw: str | None) -> User | None:
    """The user behind a valid bearer token: not revoked, user active, and the user's role unchanged."""
    token = token_for(raw)
    return token.user if token is not None else None


@functools.cache
def _token_query():
    """Built once: every API call runs it, and building a statement costs more CPU than running a cached one."""
    return db.select(ApiToken).options(joinedload(ApiToken.user)).where(
        ApiToken.token_hash == db.bindparam("token_hash"))


@dataclass(frozen=True)
class TokenUse:
    """A valid bearer token as a request uses it: its id, its user (in this request's session), its scopes."""

    id: int
    user: User
    scopes: tuple[str, ...] = ()


@dataclass
class _Known:
    token_id: int
    user: User  # a detached copy, merged into each request's session without a statement
    last_used_at: datetime | None
    until: float  # time.monotonic() after which the token is read from the database again
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None


def _detached_copy(user: User) -> User:
    copy = User(**{attr.key: getattr(user, attr.key) for attr in sa.inspect(User).column_attrs})
    make_transient_to_detached(copy)
    return copy


_TOKENS: dict[str, _Known] = {}  # token hash -> what this process knows of it (API_TOKEN_CACHE_SECONDS)


def token_for(raw: str | None) -> TokenUse | None:
    """A valid bearer token (not revoked, its user active and still in the token's role), its use stamped.

    What a token's row says is remembered by this process for API_TOKEN_CACHE_SECONDS (a scanner's every request
    would otherwise read it again): a token revoked, or a user disabled or moved to another role, stops working
    within that many seconds on every node (at once on the node that revoked it).

    It commits the last-use stamp on its own, before the request's work, so the token's row is never held locked
    while the request runs (two scanners on one token would queue on it)."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token_hash = _hash_token(raw)
    ttl = current_app.config.get("API_TOKEN_CACHE_SECONDS", 0)
    known = _TOKENS.get(token_hash) if ttl else None
    now = utcnow()
    if known is not None and known.until > time.monotonic() and known.expires_at > now:
        present = db.session.identity_map.get(sa.inspect(known.user).identity_key)  # never overwritten by the copy
        user = present if present is not None else db.session.merge(known.user, load=False)
    else:
        token = db.session.scalar(_token_query(), {"token_hash": token_hash})
        if (token is None or token.revoked_at is not None or not token.user.active or token.user.role != token.role
                or token.expires_at <= now):
            _TOKENS.pop(token_hash, None)
            return None
        user = token.user
        known = _Known(token.id, _detached_copy(user) if ttl else user, token.last_used_at, time.monotonic() + ttl,
                       tuple(token.scopes or ()), token.expires_at)
        if ttl:
            if len(_TOKENS) > 10_000:
                _TOKENS.clear()
            _TOKENS[token_hash] = known
    # Record use at most once a minute: a write per API call would cost every check-in a round-trip.
    if known.last_used_at is None or (now - known.last_used_at).total_seconds() > 60:
        db.session.execute(db.update(ApiToken).where(ApiToken.id == known.token_id).values(last_used_at=now))
        known.last_used_at = now
        # The last-use stamp is its own small unit of work, committed at once (before the request's own work):
        # the token row must not stay locked for the whole request, which would serialise every request
        # made with one token.
        db.session.commit()
    return TokenUse(known.token_id, user, known.scopes)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id).order_by(ApiToken.id.desc())))

