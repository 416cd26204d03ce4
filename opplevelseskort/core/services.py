"""Users, roles, API tokens and municipalities: every rule and every write
(flushed; the request's boundary, core.uow, or the CLI commits)."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pyotp
import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload, make_transient_to_detached
from werkzeug.security import check_password_hash, generate_password_hash

from ..config import SUPPORTED_LOCALES
from ..extensions import db
from . import audit, outbox, passkeys
from .clock import today, utcnow
from .errors import Conflict, DomainError, NotFound
from .models import ROLE_SCOPES, TOKEN_SCOPES, ApiToken, Municipality, OutboxChannel, OutboxMessage, Role, User
from .permissions import can_manage_user

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "okt_"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A hash that never matches, checked on unknown e-mails so timing does not reveal which users exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-x")


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


# --- municipalities -------------------------------------------------------------------------

def get_or_create_municipality(number: str, name: str) -> Municipality:
    """Find a municipality by its 4-digit number, creating it if new."""
    number = (number or "").strip()
    if not re.fullmatch(r"\d{4}", number):
        raise DomainError("municipality_number_invalid",
                          _("Kommunenummer må være fire sifre, ikke «%(value)s».", value=number))
    found = db.session.scalar(db.select(Municipality).filter_by(number=number))
    if found:
        return found
    m = Municipality(number=number, name=name.strip() or number)
    db.session.add(m)
    db.session.flush()
    return m


def municipalities_for(user: User) -> list[Municipality]:
    """The municipalities a staff user may work in (all for an unrestricted admin)."""
    q = db.select(Municipality).order_by(Municipality.name)
    if user.municipality_id is not None:
        q = q.where(Municipality.id == user.municipality_id)
    return list(db.session.scalars(q))


# --- users -----------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


MAX_PASSWORD_LENGTH = 200


@functools.cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common_passwords.txt"
    return frozenset(line.strip().casefold() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    """One repeated character, or a run up or down the alphabet or the digits ("abcdefgh", "98765432")."""
    if len(set(text)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def password_problem(password: str, email: str = "") -> DomainError | None:
    """NIST SP 800-63B: at least 8 characters, any characters allowed, nothing common or trivially guessed (a
    common word, a sequence, the e-mail's name, a string repeated: «weakpwweakpw», or three characters or fewer)."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return DomainError("password_too_short", _("Passordet må ha minst %(n)d tegn.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        return DomainError("password_too_long", _("Passordet kan ha høyst %(n)d tegn.", n=MAX_PASSWORD_LENGTH))
    folded = password.casefold()
    stem = re.sub(r"[\d\W_]+$", "", folded)
    local = normalise_email(email).split("@")[0]
    repeated = re.fullmatch(r"(.+?)\1+", re.sub(r"\s+", "", folded)) is not None or len(set(folded)) < 4
    if repeated or folded in _common_passwords() or stem in _common_passwords() or _is_sequence(folded) \
            or (len(local) >= 4 and local in folded) or (stem and _is_sequence(stem) and len(stem) < 8):
        return DomainError("password_common", _("Passordet er for vanlig eller lett å gjette. Velg et lengre passord, "
                                                "gjerne flere ord."))
    return None


def _check_password(password: str, email: str = "") -> None:
    problem = password_problem(password, email)
    if problem is not None:
        raise problem


def create_user(email: str, password: str, role: Role | str, *, name: str = "",
                municipality_id: int | None = None, actor: User | None = None) -> User:
    """Create a staff user with a hashed password; e-mails are unique, case-insensitively. (A partner user's tie
    to their organisation is the partners part's: `partners.services.create_staff_user`.)"""
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        raise DomainError("email_invalid", _("«%(value)s» er ikke en gyldig e-postadresse.", value=email))
    try:
        role = Role(role)
    except ValueError:
        raise DomainError("role_invalid", _("Ukjent rolle: %(value)s.", value=role)) from None
    _check_password(password, email)
    if db.session.scalar(db.select(User.id).filter_by(email=email)):
        raise Conflict("email_taken", _("Det finnes allerede en bruker med e-postadressen %(email)s.", email=email))
    _check_role_ties(role, municipality_id)
    user = User(email=email, name=name.strip(), password_hash=_hash(password), role=role,
                municipality_id=municipality_id, active=True, session_version=0)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, municipality_id=municipality_id, role=str(role))
    log.info("user %s created with role %s", user.id, role)
    return user


def _check_role_ties(role: Role, municipality_id: int | None) -> None:
    if role in (Role.CASEWORKER, Role.ANALYST, Role.VOLUNTEER) and municipality_id is None:
        raise DomainError("municipality_required", _("Denne rollen må høre til en kommune."))


def user_to_manage(actor: User, user_id: int) -> User:
    """A user an admin may change: their own municipality's (any for an unrestricted admin)."""
    user = db.session.get(User, user_id)
    if user is None or not can_manage_user(actor, user):
        raise NotFound("user_not_found", _("Fant ikke brukeren."))
    return user


def notify_login_limited(email: str) -> None:
    """Many failed sign-ins to one account: tell its holder by e-mail, at most once an hour, in its own transaction
    (the request itself is refused and rolls back). An unknown address gets nothing."""
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        return
    since = utcnow() - timedelta(hours=1)
    if db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.recipient == user.email,
                                                          OutboxMessage.kind == "login_limited",
                                                          OutboxMessage.created_at >= since).limit(1)):
        return
    outbox.enqueue(OutboxChannel.EMAIL, user.email, _("Mange forsøk på å logge inn på kontoen din"),
                   _("Noen har prøvd å logge inn på kontoen din mange ganger med feil passord. Innloggingen er satt på "
                     "pause en stund. Var det ikke deg, bør du bytte passord og si fra til kommunens IT."),
                   kind="login_limited")
    audit.record(None, "user.login_limited", "user", user.id, municipality_id=user.municipality_id)
    db.session.commit()


# --- the second factor (TOTP, RFC 6238) -----------------------------------------------------------------

RECOVERY_CODES = 10


def second_factor_required(user: User) -> bool:
    """The roles that see children (admin, caseworker in production: SECOND_FACTOR_ROLES) sign in with a code."""
    return str(user.role) in current_app.config.get("SECOND_FACTOR_ROLES", [])


def has_totp(user: User) -> bool:
    return bool(user.totp_secret and user.totp_enabled_at)


def has_second_factor(user: User) -> bool:
    """An authenticator app's codes or a passkey (either is enough)."""
    return has_totp(user) or passkeys.has_passkey(user)


def account_with_second_factor(email: str) -> User | None:
    """The active account with this e-mail when it has a second factor (the way in when its limit is spent)."""
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    return user if user is not None and user.active and has_second_factor(user) else None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """What an authenticator app scans: the account's e-mail under the product's name."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Opplevelseskortet")


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(("recovery:" + code.replace("-", "").strip().lower()).encode()).hexdigest()


def enable_second_factor(user: User, secret: str, code: str, *, actor: User) -> list[str]:
    """Turn the second factor on once the user's app shows a right code; returns the recovery codes (shown once,
    stored hashed)."""
    step = _totp_step(secret, code)
    if step is None:
        raise DomainError("code_wrong", _("Koden stemmer ikke. Skriv koden appen viser nå."), fields={
            "code": _("Koden stemmer ikke. Skriv koden appen viser nå.")})
    codes = ["-".join(secrets.token_hex(4)[i:i + 4] for i in (0, 4)) for _n in range(RECOVERY_CODES)]
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), step
    user.recovery_codes = [_recovery_hash(c) for c in codes]
    audit.record(actor, "user.2fa_enable", "user", user.id, municipality_id=user.municipality_id)
    return codes


def _totp_step(secret: str, code: str) -> int | None:
    """The time step a six-digit code belongs to (now, or one step either side for a slow clock), or None."""
    code = (code or "").replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(utcnow().timestamp())
    for offset in (0, -1, 1):
        at = now + 30 * offset
        if secrets.compare_digest(totp.at(at), code):
            return at // 30
    return None


def verify_second_factor(user: User, code: str) -> bool:
    """A code from the app (each time step once: a code seen cannot be used again) or an unused recovery code
    (then gone). Audited when a recovery code is used."""
    if not has_totp(user):
        return _recovery_code_used(user, code)
    step = _totp_step(user.totp_secret, code)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False  # replayed
        user.totp_last_step = step
        return True
    return _recovery_code_used(user, code)


def _recovery_code_used(user: User, code: str) -> bool:
    wanted = _recovery_hash(code or "")
    if wanted in (user.recovery_codes or []):
        user.recovery_codes = [h for h in user.recovery_codes if h != wanted]
        audit.record(user, "user.2fa_recovery_code", "user", user.id, municipality_id=user.municipality_id,
                     left=len(user.recovery_codes))
        return True
    return False


def reset_second_factor(user: User, *, actor: User) -> None:
    """An admin turns a user's second factor off (a lost phone): the user sets it up again at the next sign-in,
    and every session of theirs ends. Audited."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    user.recovery_codes = []
    passkeys.remove_all(user)
    end_sessions(user)
    audit.record(actor, "user.2fa_reset", "user", user.id, municipality_id=user.municipality_id)


def check_password(user: User, password: str) -> bool:
    """The signed-in user's password, confirmed again (before handing out or deleting a family's data)."""
    return bool(user.active and check_password_hash(user.password_hash, password or ""))


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, else None (same answer and work for every failure)."""
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password; the current one must be given and other sessions end."""
    if not check_password_hash(user.password_hash, current or ""):
        raise DomainError("password_wrong", _("Nåværende passord er feil."))
    set_password(user, new, actor=user)


def set_password(user: User, new: str, *, actor: User | None) -> None:
    """Set a new hashed password and end the user's other sessions."""
    _check_password(new, user.email)
    user.password_hash = _hash(new)
    user.password_changed_at = utcnow()
    end_sessions(user)
    audit.record(actor, "user.password", "user", user.id, municipality_id=user.municipality_id)


SMS_SENDER_RE = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")  # an alphanumeric SMS sender id
REPORT_PERIOD_RE = re.compile(r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")
SETTINGS = ("contact_line", "sms_sender", "default_report_period", "support_email")
FAMILY_LANGUAGES = tuple(code for code in SUPPORTED_LOCALES if code != "nb")  # the contact line's other languages


def parse_scheme_end(text: str) -> str | None:
    """"31.07" (or "31.7", "07-31") as MM-DD, or None when it is no day of the year (29.02 is not: not every year
    has it)."""
    text = (text or "").strip()
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.?", text) or re.fullmatch(r"(\d{1,2})-(\d{1,2})", text)
    if not m:
        return None
    day, month = (int(m.group(1)), int(m.group(2))) if "." in text else (int(m.group(2)), int(m.group(1)))
    try:
        date(2025, month, day)
    except ValueError:
        return None
    return f"{month:02d}-{day:02d}"


def update_municipality_settings(municipality: Municipality, *, actor: User, contact_line: str, sms_sender: str,
                                 default_report_period: str, support_email: str,
                                 scheme_end: str | None = None,
                                 contact_lines: dict[str, str] | None = None) -> list[str]:
    """The municipality's own settings, every field checked (problems by field, nothing saved unless all hold);
    the change is audited. `contact_lines` is the line in the families' other languages (an empty one: bokmål is
    shown). Returns the names of the fields that changed."""
    values = {"contact_line": (contact_line or "").strip(), "sms_sender": (sms_sender or "").strip(),
              "default_report_period": (default_report_period or "").strip(),
              "support_email": (support_email or "").strip()}
    if contact_lines is not None:
        values["contact_line_translations"] = {lang: text.strip() for lang, text in sorted(contact_lines.items())
                                               if lang in FAMILY_LANGUAGES and (text or "").strip()}
    if scheme_end is not None:
        values["scheme_end"] = parse_scheme_end(scheme_end) or ""
    problems = _settings_problems(values, scheme_end_given=scheme_end is not None)
    if problems:
        raise DomainError("settings_invalid", " ".join(problems.values()), fields=problems)
    changed = [k for k, v in values.items() if (getattr(municipality, k) or ({} if isinstance(v, dict) else None)) != v]
    for key in changed:
        setattr(municipality, key, values[key])
    if changed:
        audit.record(actor, "municipality.settings", "municipality", municipality.id,
                     municipality_id=municipality.id, changed={k: values[k] for k in changed})
    return changed


def _settings_problems(values: dict, *, scheme_end_given: bool) -> dict[str, str]:
    """Each setting that does not hold, by field (empty: all hold)."""
    problems = {}
    if len(values["contact_line"]) > 200:
        problems["contact_line"] = _("Høyst %(n)d tegn.", n=200)
    for lang, text in values.get("contact_line_translations", {}).items():
        if len(text) > 200:
            problems[f"contact_line_{lang}"] = _("Høyst %(n)d tegn.", n=200)
    if values["sms_sender"] and not SMS_SENDER_RE.match(values["sms_sender"]):
        problems["sms_sender"] = _("Høyst 11 tegn, bokstaver, tall og mellomrom, minst én bokstav (for eksempel "
                                   "«Halden kom»).")
    if values["default_report_period"] and not _report_period_ok(values["default_report_period"]):
        problems["default_report_period"] = _("Skriv et år fra 2000 til neste år, et kvartal eller en måned, for "
                                              "eksempel 2026, 2026-Q1 eller 2026-03, eller la feltet stå tomt "
                                              "(inneværende år).")
    if values["support_email"] and not EMAIL_RE.match(values["support_email"]):
        problems["support_email"] = _("«%(value)s» er ikke en gyldig e-postadresse.", value=values["support_email"])
    if scheme_end_given and not values["scheme_end"]:
        problems["scheme_end"] = _("Skriv dag og måned, for eksempel 31.12 eller 31.07.")
    return problems


def _report_period_ok(text: str) -> bool:
    """A year, quarter or month (2026, 2026-Q1, 2026-03) of a year the reports cover (2000 to next year)."""
    return bool(REPORT_PERIOD_RE.fullmatch(text)) and 2000 <= int(text[:4]) <= today().year + 1


def public_base() -> str:
    """The address links are built on: the deployment's PUBLIC_BASE_URL (behind a proxy), else the host of the
    request, or, in a job, of the request that started it (core.jobs keeps it); "" when none is known."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base
    if has_request_context():
        return request.url_root.rstrip("/")
    return (g.get("public_base_url") or "").rstrip("/") if has_app_context() else ""


def public_url(path: str) -> str:
    """An address for a message (see `public_base`)."""
    return public_base() + path


PASSWORD_LINK_SALT = "set-password"
SET_PASSWORD_PATH = "/passord/ny/"  # the route's own prefix (core.views.set_password_link): a message's link


def password_link(user: User) -> str:
    """The address of the user's set-password link, for the message that invites them."""
    return public_url(SET_PASSWORD_PATH + password_link_token(user))


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def unusable_password() -> str:
    """A password nobody is told: a new user chooses their own through a set-password link."""
    return secrets.token_urlsafe(32)


def password_link_token(user: User) -> str:
    """A signed token for a single-use, expiring link to set the user's password: it names the user and the
    password they have now, so it stops working once a password is set (and after PASSWORD_LINK_HOURS)."""
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PASSWORD_LINK_SALT)
    return signer.dumps({"u": user.id, "p": _password_fingerprint(user)})


def pending_invitations(users: list[User]) -> dict[int, OutboxMessage]:
    """For users who have never signed in: the latest message with their set-password link (its state shows)."""
    waiting = [u for u in users if u.last_login_at is None]
    latest = outbox.latest_by_ref([f"user:{u.id}" for u in waiting], kind="user_invite")
    return {u.id: latest[f"user:{u.id}"] for u in waiting if f"user:{u.id}" in latest}


def send_password_link(user: User, *, actor: User | None) -> OutboxMessage:
    """E-mail a new user their single-use, expiring link to choose a password (no password is sent)."""
    message = outbox.enqueue(
        OutboxChannel.EMAIL, user.email, _("Du har fått en bruker i opplevelseskortet"),
        _("Du har fått en bruker i opplevelseskortet (%(email)s). Velg ditt eget passord her (lenken virker én "
          "gang, i %(hours)d timer): %(link)s", email=user.email, hours=current_app.config["PASSWORD_LINK_HOURS"],
          link=password_link(user)), kind="user_invite", ref=f"user:{user.id}")
    audit.record(actor, "user.invite", "user", user.id, municipality_id=user.municipality_id)
    return message


def user_for_password_link(token: str) -> User:
    """The user a set-password link is for, while it is valid: signed, not expired, not used, user active."""
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PASSWORD_LINK_SALT)
    try:
        data = signer.loads(token, max_age=current_app.config["PASSWORD_LINK_HOURS"] * 3600)
    except BadSignature:  # SignatureExpired is one
        data = None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        raise NotFound("link_invalid", _("Lenken er ugyldig, utløpt eller allerede brukt. Be kommunen om en ny."))
    return user


def update_user(user: User, *, actor: User, role: Role | str | None = None, active: bool | None = None,
                name: str | None = None, municipality_id: int | None | type(...) = ...) -> User:
    """Change a user's role, ties or active flag (admins only; an admin cannot disable themself)."""
    changes = {}
    if role is not None:
        role = Role(role)
        if role != user.role:
            changes["role"] = [str(user.role), str(role)]
            user.role = role
    if municipality_id is not ...:
        user.municipality_id = municipality_id
    _check_role_ties(user.role, user.municipality_id)
    if name is not None:
        user.name = name.strip()
    if active is not None and active != user.active:
        if not active and actor.id == user.id:
            raise DomainError("cannot_disable_self", _("Du kan ikke deaktivere din egen bruker."))
        user.active = active
        changes["active"] = active
    if changes:
        # A changed role or a disabled account must not keep its old sessions or tokens.
        end_sessions(user)
    audit.record(actor, "user.update", "user", user.id, municipality_id=user.municipality_id, **changes)
    return user


def end_sessions(user: User) -> None:
    """Every session of the user stops working (logout, password change, disable): the version moves on."""
    user.session_version = (user.session_version or 0) + 1


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login loader: `id:version`, so a bumped version ends old sessions."""
    try:
        uid, version = (int(x) for x in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", _("Fant ikke brukeren."))
    return user


def users_visible_to(actor: User):
    """Users an admin may manage: all, or those in the admin's own municipality."""
    q = db.select(User).order_by(User.email)
    if actor.municipality_id is not None:
        q = q.where(User.municipality_id == actor.municipality_id)
    return q


def find_user_by_email(email: str) -> User:
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        raise NotFound("user_not_found", _("Fant ingen bruker med e-postadressen %(email)s.", email=email))
    return user


# --- API tokens ------------------------------------------------------------------------------

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


_TOKENS: dict[str, _Known] = {}  # token hash -> what this process knows of it (API_TOKEN_CACHE_SECONDS)


def _detached_copy(user: User) -> User:
    copy = User(**{attr.key: getattr(user, attr.key) for attr in sa.inspect(User).column_attrs})
    make_transient_to_detached(copy)
    return copy


def token_for(raw: str | None) -> TokenUse | None:
    """A valid bearer token (not revoked, its user active and still in the token's role), its use stamped.

    What a token's row says is remembered by this process for API_TOKEN_CACHE_SECONDS (a scanner's every request
    would otherwise read it again): a token revoked, or a user disabled or moved to another role, stops working
    within that many seconds on every node (at once on the node that revoked it)."""
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
