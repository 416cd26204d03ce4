"""Core models: municipalities, zones, users, API tokens, audit log and outbox."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, enum_type, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    CASEWORKER = "caseworker"
    PARTNER = "partner"
    VOLUNTEER = "volunteer"
    ANALYST = "analyst"
    FINANCE = "finance"  # the finance office: approves the partners' settlements of activity money


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
    # the municipality's organisation number (Brønnøysund): the buyer on self-billed EHF invoices for activity money
    org_number: Mapped[str] = mapped_column(sa.String(9), default="", server_default="")
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



# The staff account table (accounts.models.User) as core's rows refer to it: by name, as their foreign keys do, with
# the three columns the job pages read (who started a run; whose uploads count against a municipality's quota).
STAFF = sa.table("user_account", sa.column("id", sa.Integer), sa.column("email", sa.String),
                 sa.column("municipality_id", sa.Integer))


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
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # exactly the job function's arguments
    # how it runs, not what it does: the starter's language and address, a large upload's lane, a retry after a
    # worker died, the page to go back to and what that page keeps (a dry run's token)
    context: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, server_default="{}")
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    errors: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

