"""Staff accounts: users, their passkeys and API tokens, used OIDC logout tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Municipality, Role
from ..core.types import UTCDateTime, enum_type, utcnow
from ..extensions import db


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, 20))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # None for an admin means "all municipalities"; other staff always belong to one.
    municipality_id: Mapped[int | None] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    # Which partner organisation a partner user works for is the partners part's (partners.models.PartnerMember).
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on password change or disable so existing sessions stop working.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The second factor: a TOTP secret (RFC 6238), when it was turned on, the last time step used (a code works
    # once), and the hashes of the unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    recovery_codes: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The municipality's identity provider and the person's subject there: bound by an invitation naming the
    # provider entry (`oidc_invite_provider`, cleared when used), by the account holder, or by a just-in-time account
    oidc_issuer: Mapped[str | None] = mapped_column(sa.String(300))
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255))
    oidc_invite_provider: Mapped[str | None] = mapped_column(sa.String(60))

    __table_args__ = (sa.UniqueConstraint("oidc_issuer", "oidc_subject"),)

    municipality: Mapped[Municipality | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot log in or keep a session
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {Role(r) for r in roles}


class Passkey(db.Model):
    """A WebAuthn credential a staff user registered as their second factor (a phone, a laptop's fingerprint
    reader, a security key): its id, public key (COSE) and signature counter, never a secret."""

    __tablename__ = "passkey"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(sa.LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    transports: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # what the token may do (TOKEN_SCOPES) and when it stops working
    scopes: Mapped[list] = mapped_column(sa.JSON, default=list)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        """Past its end: it no longer opens the API (`accounts.tokens.token_for` refuses it)."""
        return self.expires_at <= utcnow()


TOKEN_SCOPES = ("checkin", "cards:read", "loans", "reports")


ROLE_SCOPES = {
    Role.PARTNER: ("checkin", "cards:read"),
    Role.VOLUNTEER: ("loans",),
    Role.ANALYST: ("reports",),
    Role.CASEWORKER: ("cards:read",),
    Role.FINANCE: ("reports",),  # the published aggregates (its own pages are the settlements)
    Role.ADMIN: TOKEN_SCOPES,
}


class OidcLogoutToken(db.Model):
    """A back-channel logout token already used (its issuer and `jti`), kept until it could no longer be valid, so
    a replay is refused."""

    __tablename__ = "oidc_logout_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(300))
    jti: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (sa.UniqueConstraint("issuer", "jti"),)

