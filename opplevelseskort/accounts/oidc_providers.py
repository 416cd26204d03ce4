"""The municipality's identity providers as configured (OIDC_PROVIDERS): each entry checked when the app
starts (https endpoints in production, allowed algorithms, roles and the assurance levels each role needs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..core.models import Role

DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256")


SYMMETRIC = frozenset({"HS256", "HS384", "HS512"})


ROLE_ORDER = (Role.ADMIN, Role.CASEWORKER, Role.ANALYST, Role.VOLUNTEER, Role.PARTNER)  # the widest role wins


class ConfigError(ValueError):
    """OIDC_PROVIDERS or OIDC_ROLE_LEVELS says something the app cannot honour; the app does not start."""


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    municipality: str  # the number of the municipality whose accounts this entry may touch
    acr: str = ""  # the level asked for (acr_values); what a role requires is OIDC_ROLE_LEVELS
    jit: bool = False  # just-in-time accounts from the roles claim
    roles_claim: str = "roles"
    role_map: dict = field(default_factory=dict)
    allowed_roles: frozenset = frozenset()
    scopes: tuple = ("openid", "email", "profile")
    trust_email: bool = False  # the provider's e-mails are the organisation's own (Entra ID's tenant addresses)
    algorithms: tuple = DEFAULT_ALGORITHMS
    second_factor: tuple = ()  # acr or amr values by which the provider says it asked for a second factor

    def asserts_second_factor(self, claims: dict) -> bool:
        return bool(set(self.second_factor) & levels_of(claims))


def levels_of(claims: dict) -> set[str]:
    amr = claims.get("amr") or []
    values = {str(v) for v in (amr if isinstance(amr, list) else [amr])}
    if claims.get("acr"):
        values.add(str(claims["acr"]))
    return values


def endpoint_problem(url: object, *, production: bool) -> str | None:
    """An address the app may talk to (or send a browser to): https; http only for this machine in development."""
    if not isinstance(url, str) or not url:
        return "missing"
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and not production and parts.hostname in ("localhost", "127.0.0.1", "::1"):
        return None
    return f"not an allowed address: {url[:80]!r}"


def providers_from(config_text: str, env=None, *, production: bool = False,
                   default_algorithms: tuple = DEFAULT_ALGORITHMS) -> list[Provider]:
    """The providers a deployment configured (OIDC_PROVIDERS), each secret from its own environment variable.
    An entry the app could not honour safely stops the app with a message naming it."""
    env = {} if env is None else env
    if not (config_text or "").strip():
        return []
    try:
        entries = json.loads(config_text)
    except ValueError as exc:
        raise ConfigError(f"OIDC_PROVIDERS is not JSON: {exc}") from None
    out = [_provider(entry, env, production=production, default_algorithms=default_algorithms)
           for entry in (entries if isinstance(entries, list) else [None])]
    if len({p.name for p in out}) != len(out):
        raise ConfigError("OIDC_PROVIDERS: two entries have the same name")
    return out


def _provider(entry, env, *, production: bool, default_algorithms: tuple) -> Provider:
    """One OIDC_PROVIDERS entry, checked: what it requires, its issuer, its algorithms and its roles."""
    if not isinstance(entry, dict):
        raise ConfigError("OIDC_PROVIDERS must be a JSON list of objects")
    name = str(entry.get("name") or "")
    for key in ("name", "issuer", "client_id", "municipality"):
        if not entry.get(key):
            raise ConfigError(f"OIDC_PROVIDERS entry {name!r}: {key} is required")
    issuer = str(entry["issuer"]).rstrip("/")
    if problem := endpoint_problem(issuer, production=production):
        raise ConfigError(f"OIDC_PROVIDERS entry {name!r}: issuer {problem}")
    algorithms = _algorithms(entry, name, default_algorithms)
    role_map, allowed = _roles(entry)
    scopes = tuple(entry.get("scopes") or ("openid", "email", "profile"))
    if "openid" not in scopes:
        scopes = ("openid", *scopes)
    return Provider(name, str(entry.get("label") or name), issuer, str(entry["client_id"]),
                    env.get(entry.get("client_secret_env", ""), ""), str(entry["municipality"]),
                    str(entry.get("acr") or ""), bool(entry.get("jit", False)),
                    str(entry.get("roles_claim") or "roles"), role_map, frozenset(allowed), scopes,
                    bool(entry.get("trust_email", False)), algorithms,
                    tuple(str(v) for v in entry.get("second_factor") or ()))


def _algorithms(entry: dict, name: str, default_algorithms: tuple) -> tuple:
    """The ID token algorithms an entry accepts: never 'none'; HS* only where the entry names them."""
    algorithms = tuple(entry.get("algorithms") or default_algorithms)
    if "none" in {a.lower() for a in algorithms}:
        raise ConfigError(f"OIDC_PROVIDERS entry {name!r}: the algorithm 'none' is never accepted")
    if SYMMETRIC & set(algorithms) and not entry.get("algorithms"):
        raise ConfigError(f"OIDC_PROVIDERS entry {name!r}: HS* algorithms only where the entry names them")
    return algorithms


def _roles(entry: dict) -> tuple[dict, set]:
    """The provider's role names mapped to ours, and the roles it may give: admin only when named, never partner."""
    role_map = {str(k): Role(v).value for k, v in dict(entry.get("role_map") or {}).items()}
    allowed = entry.get("allowed_roles")
    allowed = ({Role(r).value for r in allowed} if allowed is not None
               else {r for r in role_map.values() if r != Role.ADMIN.value})  # admin only when named
    allowed.discard(Role.PARTNER.value)  # a partner belongs to an organisation: invited only
    return role_map, allowed


def role_levels_from(config_text: str) -> dict[str, frozenset]:
    """OIDC_ROLE_LEVELS: {"caseworker": ["idporten-loa-high", "mfa"], ...}: the acr or amr values (any one) a
    role must arrive with through any provider."""
    if not (config_text or "").strip():
        return {}
    try:
        raw = json.loads(config_text)
        return {Role(role).value: frozenset(str(v) for v in values) for role, values in raw.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise ConfigError(f"OIDC_ROLE_LEVELS: {exc}") from None

