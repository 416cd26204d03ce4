"""Core models: municipalities, zones, users, API tokens, audit log and outbox."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, enum_type, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    CASEWORKER = "caseworker"
    PARTNER = "partner"
    VOLUNTEER = "volunteer"
    ANALYST = "analyst"


class Municipality(db.Model):
    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(4), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the municipality's own settings (admin page /admin/kommune)
    contact_line: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")  # shown to families
    # the same line in the families' other languages ({"ar": "…", "uk": "…"}); bokmål where one is missing
    contact_line_translations: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    sms_sender: Mapped[str] = mapped_column(sa.String(11), default="", server_default="")  # SMS "from" name
    default_report_period: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    support_email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    # the card scheme's period ends each year on this day (MM-DD): new cards and approvals default to it
    scheme_end: Mapped[str] = mapped_column(sa.String(5), default="12-31", server_default="12-31")
    # Moved on by every change to what the public catalogue shows (an offer, a partner, a zone): pages rendered
    # for an older value are not served again, on any node (partners.catalogue_cache).
    catalogue_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    __table_args__ = (sa.CheckConstraint("length(number) = 4", name="number_four_digits"),)

    def __repr__(self) -> str:
        return f"<Municipality {self.number}>"

    def contact_line_in(self, locale: str | None) -> str:
        """The line for families in their language, else the bokmål one."""
        return (self.contact_line_translations or {}).get(locale or "nb") or self.contact_line


class Zone(db.Model):
    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[str] = mapped_column(sa.String(40))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"), index=True)
    # GeoJSON geometry (Polygon/MultiPolygon) in WGS84, plus its bounding box for quick pre-filtering.
    boundary: Mapped[str | None] = mapped_column(sa.Text)
    min_lon: Mapped[float | None] = mapped_column(sa.Float)
    min_lat: Mapped[float | None] = mapped_column(sa.Float)
    max_lon: Mapped[float | None] = mapped_column(sa.Float)
    max_lat: Mapped[float | None] = mapped_column(sa.Float)
    # The classification version the code belongs to (SSB's grunnkrets codes change: "2019", "2020", ...); empty
    # for a municipality that never recorded one. Reports use the newest version; older ones are for comparisons.
    version: Mapped[str | None] = mapped_column(sa.String(20))

    municipality: Mapped[Municipality] = relationship()
    parent: Mapped[Zone | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Zone]] = relationship(back_populates="parent")

    __table_args__ = (sa.UniqueConstraint("municipality_id", "code"),)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"

    def ancestors(self) -> list[Zone]:
        out, node, seen = [], self.parent, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            out.append(node)
            node = node.parent
        return out


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


# What an API token may do, and which roles may give a token each scope (the role still decides what the user
# may see: a scope narrows a token, it never widens the role).
TOKEN_SCOPES = ("checkin", "cards:read", "loans", "reports")
ROLE_SCOPES = {
    Role.PARTNER: ("checkin", "cards:read"),
    Role.VOLUNTEER: ("loans",),
    Role.ANALYST: ("reports",),
    Role.CASEWORKER: ("cards:read",),
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


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(60))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    municipality_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)


class StoredFile(db.Model):
    """An uploaded file kept in the database, so that every app node can serve it."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size: Mapped[int] = mapped_column(sa.Integer)
    etag: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chunks: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")  # > 0: content is in chunks


class StoredFileChunk(db.Model):
    """A piece of a large stored file (an upload streamed to storage): written and read one piece at a time, so
    neither the request that keeps it nor the job that reads it holds the whole file."""

    __tablename__ = "stored_file_chunk"

    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class ImportRow(db.Model):
    """A checked row of an import that runs in two passes: the first checks every row and stages it here, the
    second writes from here in order of `group_key` (e.g. one household's children together). Rows live only
    inside the import's own transaction: a failed import leaves none, a finished one deletes its own."""

    __tablename__ = "import_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(sa.String(40))
    group_key: Mapped[str] = mapped_column(sa.String(200))
    line: Mapped[int] = mapped_column(sa.Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_import_row_run_group", "run_key", "group_key", "line"),)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed and about to go out, under a lease
    SENT = "sent"
    UNCERTAIN = "uncertain"  # a run died while sending: it may have gone out; staff check and resend
    FAILED = "failed"


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@opplevelseskort>"


class OutboxChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[OutboxChannel] = mapped_column(enum_type(OutboxChannel, 10))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(250), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(8), default="nb")
    kind: Mapped[str] = mapped_column(sa.String(60), default="")
    # What the message is about ("card:12"), so its delivery can be shown where the thing is handled.
    ref: Mapped[str | None] = mapped_column(sa.String(60), index=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus, 10), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same Message-ID on every attempt (the SMS gateway's idempotency key too): a resend is recognisable.
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True, default=new_message_id)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobRun(db.Model):
    """One run of a job (an import, a scheduled task): who asked, how far it got, what came of it. Rows are
    written by the request that queues it and by the worker that runs it; progress lives in the queue's own store
    (a running import holds its transaction open until it is all or nothing)."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60), index=True)
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus, 10), default=JobStatus.QUEUED)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    municipality_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    errors: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
