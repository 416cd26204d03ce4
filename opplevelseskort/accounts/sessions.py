"""Staff sessions: who a request is (the session cookie, or an API token), when a session ends, and the
second factor a role must set up first. Wired into every request by `init_app`."""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import (
    Flask,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..core.clock import utcnow
from ..extensions import login_manager
from . import services as accounts
from . import tokens
from .models import User

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Every request: the session's time limits first, then the second factor a role must set up."""
    app.before_request(_session_timeouts)
    app.before_request(_second_factor_required)


@login_manager.user_loader
def _load_user(session_id: str):
    return accounts.load_user_from_session(session_id)


@login_manager.request_loader
def _load_user_from_token(req):
    # Bearer tokens authenticate the JSON API only; pages always use the session.
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = tokens.token_for(header[7:].strip())
    user = token.user if token is not None else None
    if user is not None:
        g.token_auth = True
        g.api_token_id = token.id
        g.api_token_scopes = token.scopes
    return user


def sign_in(user: User, how: str) -> None:
    """Start a new session for the user (whatever came before in this browser is cleared) and stamp it: when it
    began, when it was last used, when the password was last given. The browser is remembered as one this
    account signed in from (OWASP's device cookie), so strangers' failures never lock its holder out."""
    session.clear()
    login_user(user)
    now = utcnow().timestamp()
    session["signed_in_at"] = session["seen_at"] = session["auth_at"] = now
    _remember_device(user.email)
    log.info("user %s logged in %s", user.id, how)


DEVICE_COOKIE = "kjent_enhet"


DEVICE_DAYS = 180


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="staff-device")


def account_key(email: str) -> str:
    """A keyed digest of the account's e-mail: what the device cookie and the account-wide limit are kept by."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, accounts.normalise_email(email).encode(), hashlib.sha256).hexdigest()[:24]


def known_accounts() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        known = _devices().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    return [k for k in known if isinstance(k, str)] if isinstance(known, list) else []


def _remember_device(email: str) -> None:
    key = account_key(email)
    known = [k for k in known_accounts() if k != key][-4:] + [key]

    @after_this_request
    def _set(response):
        response.set_cookie(DEVICE_COOKIE, _devices().dumps(known), max_age=DEVICE_DAYS * 86400, httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")
        return response


def _session_timeouts():
    """A staff session ends after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after sign-in."""
    if request.endpoint == "static" or not current_user.is_authenticated or g.get("token_auth"):
        return None  # a stylesheet or script neither loads the user nor counts as activity
    now = utcnow().timestamp()
    signed_in = session.setdefault("signed_in_at", now)
    seen = session.get("seen_at", now)
    idle = now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60
    if idle or now - signed_in > current_app.config["SESSION_MAX_HOURS"] * 3600:
        logout_user()
        session.clear()
        flash(_("Du ble logget ut etter %(n)d minutter uten aktivitet.", n=current_app.config["SESSION_IDLE_MINUTES"])
              if idle else _("Du ble logget ut: en innlogging varer høyst %(n)d timer.",
                              n=current_app.config["SESSION_MAX_HOURS"]), "info")
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None))
    if now - seen > 30:  # the cookie is rewritten at most twice a minute
        session["seen_at"] = now
    return None


SECOND_FACTOR_FREE = {"accounts.totp_setup", "accounts.logout", "core.set_language", "static", "accounts.login_code",
                      "accounts.passkey_options", "accounts.passkey_add"}


def _second_factor_required():
    """A role that must sign in with a second factor (SECOND_FACTOR_ROLES) sets it up before anything else."""
    if (request.endpoint in SECOND_FACTOR_FREE or not current_user.is_authenticated or g.get("token_auth")
            or session.get("signed_in_with")):
        return None
    if accounts.second_factor_required(current_user) and not accounts.has_second_factor(current_user):
        return redirect(url_for("accounts.totp_setup"))
    return None

