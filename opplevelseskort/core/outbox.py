"""The outbox: every e-mail and SMS is first a row here, then delivered (and retried) by a command.

Nothing is lost when the SMTP server or SMS gateway is down: the row stays pending with its error and
is tried again later with a growing pause.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from .clock import utcnow
from .errors import DomainError
from .models import OutboxChannel, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def enqueue(channel: OutboxChannel | str, recipient: str, subject: str, body: str, *, kind: str = "",
            locale: str = "nb", ref: str | None = None) -> OutboxMessage:
    """Queue one message in the current transaction; it is sent by `deliver_pending`."""
    channel = OutboxChannel(channel)
    recipient = (recipient or "").strip()
    if not recipient:
        raise DomainError("recipient_missing", "A message needs a recipient")
    msg = OutboxMessage(channel=channel, recipient=recipient, subject=subject[:250], body=body, kind=kind,
                        locale=locale or "nb", status=OutboxStatus.PENDING, attempts=0, ref=ref)
    db.session.add(msg)
    db.session.flush()
    return msg


class SmsBackend:
    # A gateway that drops a second message with the same idempotency key makes a resend after a crash safe.
    idempotent = False

    def send(self, to: str, body: str, *, key: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    """Writes SMS to the log instead of a gateway (development and tests)."""

    sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str, *, key: str) -> None:
        ConsoleSmsBackend.sent.append((to, body))
        log.info("SMS (console backend) queued message of %s characters", len(body))


class FailingSmsBackend(SmsBackend):
    """A gateway that is down: for tests of retry."""

    def send(self, to: str, body: str, *, key: str) -> None:
        raise ConnectionError("SMS gateway unavailable")


SMS_BACKENDS = {"console": ConsoleSmsBackend, "failing": FailingSmsBackend}


def _send_email(msg: OutboxMessage) -> None:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_SENDER"]
    email["To"] = msg.recipient
    email["Subject"] = msg.subject
    email["Message-ID"] = msg.message_id  # the same on every attempt: a resend is recognisable as one
    email.set_content(msg.body)
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(email)


def _send_sms(msg: OutboxMessage) -> None:
    backend = SMS_BACKENDS.get(current_app.config.get("SMS_BACKEND", "console"), ConsoleSmsBackend)()
    backend.send(msg.recipient, msg.body, key=msg.message_id)


def _claim_next(now) -> OutboxMessage | None:
    """The oldest due pending message, locked for this run: other runs skip it (FOR UPDATE SKIP LOCKED)."""
    q = (db.select(OutboxMessage)
         .where(OutboxMessage.status == OutboxStatus.PENDING,
                (OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now))
         .order_by(OutboxMessage.id).limit(1).execution_options(populate_existing=True))
    if db.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return db.session.scalar(q)


LEASE = timedelta(minutes=5)  # far longer than one message takes; a run still "sending" after it has died


def _sms_backend_idempotent() -> bool:
    return SMS_BACKENDS.get(current_app.config.get("SMS_BACKEND", "console"), ConsoleSmsBackend).idempotent


def recover_expired_leases(now) -> int:
    """A message left "sending" after its lease ran out belongs to a run that died while sending: it may have gone
    out. It is never sent blindly again: it becomes "uncertain" for staff to check and resend, unless it is an SMS
    and the gateway drops a repeated idempotency key (then it is queued again under the same key). It commits: a
    delivery run's step, durable before the run claims anything."""
    q = db.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now)
    if db.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = db.session.scalars(q).all()
    for msg in rows:
        if msg.channel == OutboxChannel.SMS and _sms_backend_idempotent():
            msg.status = OutboxStatus.PENDING
        else:
            msg.status = OutboxStatus.UNCERTAIN
            msg.last_error = "delivery interrupted: may have been sent"
            log.warning("outbox message %s: delivery was interrupted; marked uncertain", msg.id)
        msg.lease_until = None
    db.session.commit()
    return len(rows)


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Send due pending messages, each at most once across concurrent and crashed runs. Returns (sent, failed).

    A delivery worker, not a request: each message is first marked "sending" with a lease and committed, then
    sent (with its stable Message-ID), then marked "sent" and committed. A run killed in between leaves "sending",
    which the next run turns into "uncertain" (`recover_expired_leases`) instead of sending it again. It commits
    at each of those steps, so it is called by the worker and the CLI, never inside a request's unit of work.
    """
    db.session.commit()  # start from a clean transaction: nothing of the caller's stays locked with the claim
    recover_expired_leases(utcnow())
    sent = failed = 0
    for _attempt in range(limit):
        now = utcnow()
        msg = _claim_next(now)
        if msg is None:
            break
        msg.attempts += 1
        msg.status, msg.lease_until = OutboxStatus.SENDING, now + LEASE
        db.session.commit()  # the mark is durable before anything leaves
        try:
            if msg.channel == OutboxChannel.EMAIL:
                _send_email(msg)
            else:
                _send_sms(msg)
        except Exception as exc:  # the transport refused: nothing went out; keep it for a retry
            msg.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            msg.status = OutboxStatus.FAILED if msg.attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING
            if msg.status == OutboxStatus.PENDING:
                msg.next_attempt_at = now + timedelta(minutes=2 ** msg.attempts)
            failed += 1
            log.warning("outbox message %s failed (attempt %s): %s", msg.id, msg.attempts, type(exc).__name__)
        else:
            msg.status = OutboxStatus.SENT
            msg.sent_at = utcnow()
            msg.last_error = None
        msg.lease_until = None
        if msg.status == OutboxStatus.SENT:
            sent += 1
        db.session.commit()
    return sent, failed


def resend(msg: OutboxMessage) -> None:
    """Staff checked an uncertain (or failed) message and want it sent again: queued under the same Message-ID."""
    if msg.status not in (OutboxStatus.UNCERTAIN, OutboxStatus.FAILED):
        raise DomainError("message_not_resendable", _("Bare en melding som kanskje ikke kom fram, kan sendes igjen."))
    msg.status, msg.next_attempt_at, msg.last_error = OutboxStatus.PENDING, None, None
    db.session.flush()


def retry_failed() -> int:
    """Put failed messages back in the queue (after the gateway is fixed)."""
    rows = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).all()
    for msg in rows:
        msg.status = OutboxStatus.PENDING
        msg.attempts = 0
        msg.next_attempt_at = None
    db.session.flush()
    return len(rows)


# --- what a page says about a message: its real state, the same words on first load and when it changes ---

STATUS_SALT = "message-status"
FINAL = {OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNCERTAIN}


def state_text(msg: OutboxMessage) -> str:
    """A message's state in words: queued, being sent, sent (when), failed (why), or uncertain after a crash."""
    if msg.status == OutboxStatus.SENT:
        return _("sendt %(when)s", when=format_datetime(msg.sent_at, "short")) if msg.sent_at else _("sendt")
    if msg.status == OutboxStatus.FAILED:
        return _("kom ikke fram (%(reason)s)", reason=msg.last_error or "–")
    if msg.status == OutboxStatus.UNCERTAIN:
        return _("kanskje sendt: sendingen ble avbrutt. Sjekk med familien, og send igjen om den ikke kom fram.")
    if msg.status == OutboxStatus.SENDING:
        return _("sendes nå")
    if msg.last_error:
        return _("venter på nytt forsøk (%(reason)s)", reason=msg.last_error)
    return _("venter på sending")


def latest_by_ref(refs: list[str], kind: str | None = None) -> dict[str, OutboxMessage]:
    """The newest message for each ref ("partner:12", "user:5"), optionally of one kind."""
    if not refs:
        return {}
    q = db.select(OutboxMessage).where(OutboxMessage.ref.in_(refs)).order_by(OutboxMessage.id)
    if kind:
        q = q.where(OutboxMessage.kind == kind)
    return {m.ref: m for m in db.session.scalars(q)}


def status_token(ids: list[int]) -> str:
    """A signed list of message ids a page may ask the state of (a page cannot be made to ask about others)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=STATUS_SALT).dumps(sorted(set(ids)))


def states_for_token(token: str) -> dict[int, dict]:
    """{id: {"status", "text", "final"}} for the messages a page's token names; a forged token names none."""
    try:
        ids = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=STATUS_SALT).loads(token or "")
    except BadSignature:
        return {}
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        return {}
    rows = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.id.in_(ids[:200])))
    return {m.id: {"status": str(m.status), "text": state_text(m), "final": m.status in FINAL} for m in rows}
