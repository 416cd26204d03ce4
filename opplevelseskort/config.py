"""Settings from environment variables. Nothing else in the code base reads os.environ."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - a marker the factory refuses in production

SUPPORTED_LOCALES = ["nb", "nn", "en", "sv", "ar", "so", "pl", "uk", "ti"]
STAFF_LOCALES = ["nb", "nn", "en", "sv"]
RTL_LOCALES = {"ar"}


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _host_map(value: str | None) -> dict[str, str]:
    """"kort.asker.kommune.no=3203,kort.baerum.kommune.no=3201" -> {host: municipality number}."""
    out = {}
    for part in (value or "").split(","):
        host, _sep, number = part.partition("=")
        if host.strip() and number.strip():
            out[host.strip().lower()] = number.strip()
    return out


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the app's configuration from the environment, then apply explicit overrides."""
    env = os.environ
    production = env.get("OPPLEVELSESKORT_ENV", "development").lower() == "production"
    default_db = "sqlite:///" + str(Path(instance_path) / "opplevelseskort.sqlite")
    cfg: dict = {
        "ENV_NAME": "production" if production else env.get("OPPLEVELSESKORT_ENV", "development").lower(),
        "PRODUCTION": production,
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(env.get("DATABASE_URL") or default_db),
        # hide_parameters: a failed statement's values (a child's name, a phone) never reach an error log.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "FORCE_HTTPS": _bool(env.get("FORCE_HTTPS"), production),
        "BABEL_DEFAULT_LOCALE": "nb",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Oslo",
        "SUPPORTED_LOCALES": SUPPORTED_LOCALES,
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "LOGIN_ADDRESS_RATE_LIMIT": env.get("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute;300 per hour"),
        # One account, from every address together: guessing is slowed, the holder is told, nobody is locked out.
        "LOGIN_ACCOUNT_RATE_LIMIT": env.get("LOGIN_ACCOUNT_RATE_LIMIT", "20 per hour"),
        # How many proxies in front of the app set X-Forwarded-For/-Proto (0: trust none, use the peer address).
        "PROXY_FIX_X_FOR": _int(env.get("PROXY_FIX_X_FOR"), 0),
        "MUNICIPALITY_HOSTS": _host_map(env.get("MUNICIPALITY_HOSTS")),
        "DEFAULT_MUNICIPALITY": env.get("DEFAULT_MUNICIPALITY", ""),
        "CARD_LOOKUP_RATE_LIMIT": env.get("CARD_LOOKUP_RATE_LIMIT", "60 per minute"),
        # staff sessions end after this many idle minutes, and this many hours after sign-in at the latest; exporting
        # or deleting a household's data asks for the password again unless it was given this many minutes ago
        "SESSION_IDLE_MINUTES": _int(env.get("SESSION_IDLE_MINUTES"), 30),
        # the municipality's identity providers (accounts/oidc.py) and whether the local password login is offered
        "OIDC_PROVIDERS": env.get("OIDC_PROVIDERS", ""),
        "OIDC_LOCAL_LOGIN": _bool(env.get("OIDC_LOCAL_LOGIN"), True),
        # ID token algorithms accepted from every provider unless an entry names its own (never 'none')
        "OIDC_ALGORITHMS": [a.strip() for a in env.get("OIDC_ALGORITHMS", "RS256,PS256,ES256").split(",")
                            if a.strip()],
        # the acr or amr values (any one) a role must arrive with through any provider: {"caseworker": ["mfa"]}
        "OIDC_ROLE_LEVELS": env.get("OIDC_ROLE_LEVELS", ""),
        "OIDC_TIMEOUT_SECONDS": _int(env.get("OIDC_TIMEOUT_SECONDS"), 5),
        # roles that must sign in with a second factor (the roles that see children); offered to every role
        "SECOND_FACTOR_ROLES": [r.strip() for r in env.get(
            "SECOND_FACTOR_ROLES", "admin,caseworker,finance" if production else "").split(",") if r.strip()],
        "SECOND_FACTOR_RATE_LIMIT": env.get("SECOND_FACTOR_RATE_LIMIT", "5 per minute;20 per hour"),
        # passkeys: the site's name (relying party id) and origin, when a proxy hides them (default: the request's)
        "WEBAUTHN_RP_ID": env.get("WEBAUTHN_RP_ID", ""),
        "WEBAUTHN_ORIGIN": env.get("WEBAUTHN_ORIGIN", ""),
        "SESSION_MAX_HOURS": _int(env.get("SESSION_MAX_HOURS"), 12),
        "FRESH_LOGIN_MINUTES": _int(env.get("FRESH_LOGIN_MINUTES"), 5),
        # how long a process trusts what it read of an API token (a revoked token stops within this many seconds)
        "API_TOKEN_CACHE_SECONDS": _int(env.get("API_TOKEN_CACHE_SECONDS"), 5),
        # a new user's set-password link works once, for this many hours
        "PASSWORD_LINK_HOURS": _int(env.get("PASSWORD_LINK_HOURS"), 72),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", ""),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int(env.get("MAIL_PORT"), 25),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_SENDER": env.get("MAIL_SENDER", "opplevelseskort@localhost"),
        "SMS_BACKEND": env.get("SMS_BACKEND", "console"),
        "ADDRESS_API_URL": env.get("ADDRESS_API_URL", "https://ws.geonorge.no/adresser/v1"),
        "ADDRESS_API_TIMEOUT": float(env.get("ADDRESS_API_TIMEOUT", "3")),
        "RETENTION_MONTHS": _int(env.get("RETENTION_MONTHS"), 24),
        "CHECKIN_REPEAT_WINDOW_MINUTES": _int(env.get("CHECKIN_REPEAT_WINDOW_MINUTES"), 180),
        "SUPPRESS_MIN_COUNT": _int(env.get("SUPPRESS_MIN_COUNT"), 5),
        "SUPPRESS_MIN_DENOMINATOR": _int(env.get("SUPPRESS_MIN_DENOMINATOR"), 10),
        # a zone level is published when at least half its zones with cards have this many (0: always; the plan)
        "REPORT_ZONE_MIN_CARDS": _int(env.get("REPORT_ZONE_MIN_CARDS"), 10),
        # a stored publication is rebuilt when its data changed, at most this often (the debounce) ...
        "REPORT_REFRESH_SECONDS": _int(env.get("REPORT_REFRESH_SECONDS"), 300),
        # ... and whatever its data version says once it is this old (a change the fingerprint cannot see)
        "REPORT_MAX_AGE_SECONDS": _int(env.get("REPORT_MAX_AGE_SECONDS"), 3600),
        "MAP_TILE_URL": env.get("MAP_TILE_URL", ""),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "LOG_FORMAT": env.get("LOG_FORMAT", "json" if production else "plain"),
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "PASSWORD_HASH_METHOD": env.get("PASSWORD_HASH_METHOD", "scrypt"),
        # The largest request body (an uploaded file): larger is a 413 with the limit named, before it is read.
        "MAX_CONTENT_LENGTH": _int(env.get("UPLOAD_MAX_BYTES"), 50 * 1024 * 1024),
        # The job queue: empty runs jobs from an SQLite file in the instance folder (the embedded default);
        # redis://... in production, where `opplevelseskort worker` runs on any number of nodes.
        "JOBS_URL": env.get("JOBS_URL", ""),
        "JOBS_IMMEDIATE": _bool(env.get("JOBS_IMMEDIATE"), False),  # run each job inside the request (tests)
        # a worker says every this many seconds that its running jobs are alive; a run not heard of for
        # JOBS_STALE_SECONDS belongs to a worker that died (it is queued again once, or failed)
        "JOBS_HEARTBEAT_SECONDS": _int(env.get("JOBS_HEARTBEAT_SECONDS"), 10),
        # fair lanes: a job whose upload is this large is big; a person runs one big job at a time, a municipality
        # this many, and a worker never gives all its threads to big jobs
        "JOBS_BIG_UPLOAD_BYTES": _int(env.get("JOBS_BIG_UPLOAD_BYTES"), 2 * 1024 * 1024),
        "JOBS_BIG_PER_MUNICIPALITY": _int(env.get("JOBS_BIG_PER_MUNICIPALITY"), 2),
        # uploads kept on the server for their jobs: per user (files, bytes) and per municipality (bytes)
        "UPLOAD_QUOTA_FILES": _int(env.get("UPLOAD_QUOTA_FILES"), 4),
        "UPLOAD_QUOTA_BYTES": _int(env.get("UPLOAD_QUOTA_BYTES"), 160 * 1024 * 1024),
        "UPLOAD_QUOTA_MUNICIPALITY_BYTES": _int(env.get("UPLOAD_QUOTA_MUNICIPALITY_BYTES"), 1024 * 1024 * 1024),
        "JOBS_STALE_SECONDS": _int(env.get("JOBS_STALE_SECONDS"), 60),
        # a worker thread inside the web process (the two-command demo); production runs `opplevelseskort worker`
        "JOBS_EMBEDDED_WORKER": _bool(env.get("JOBS_EMBEDDED_WORKER"), not production and not env.get("JOBS_URL")),
    }
    if overrides:
        cfg.update(overrides)
        if "SQLALCHEMY_DATABASE_URI" in overrides:
            cfg["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(overrides["SQLALCHEMY_DATABASE_URI"])
    cfg.setdefault("OIDC_SECRETS", _oidc_secrets(cfg.get("OIDC_PROVIDERS", ""), env))
    return cfg


def _oidc_secrets(providers_json: str, env) -> dict[str, str]:
    """Each provider entry's client secret, from the environment variable the entry names (never from the list)."""
    try:
        entries = json.loads(providers_json or "[]")
    except ValueError:
        return {}  # the factory refuses the list with a message naming the problem
    names = [e.get("client_secret_env") for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    return {n: env[n] for n in names if isinstance(n, str) and n in env}


def _normalise_db_url(url: str) -> str:
    # Heroku-style and bare postgresql:// URLs would pick psycopg2; we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
