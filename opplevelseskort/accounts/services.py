"""Staff users: accounts, passwords, password links, the second factor and sessions
(flushed; the request's boundary, core.uow, or the CLI commits)."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets
from datetime import timedelta
from pathlib import Path

import pyotp
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from ..core import audit, outbox
from ..core.clock import utcnow
from ..core.errors import Conflict, DomainError, NotFound
from ..core.models import OutboxChannel, OutboxMessage, Role
from ..core.municipalities import public_url
from ..core.validation import EMAIL_RE
from ..extensions import db
from . import passkeys
from .models import User
from .permissions import can_manage_user

log = logging.getLogger(__name__)


MIN_PASSWORD_LENGTH = 8




_DUMMY_HASH = generate_password_hash("not-a-real-password-x")


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


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
    """Many failed sign-ins to one account: tell its holder by e-mail, at most once an hour. It commits the message
    in its own transaction: the request itself is refused (429) and rolls back. An unknown address gets nothing."""
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

