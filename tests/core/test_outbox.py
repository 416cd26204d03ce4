"""The outbox: e-mail through a real (local) SMTP server, SMS through the console backend, retries."""

import pytest

from opplevelseskort.core import outbox
from opplevelseskort.core.models import OutboxChannel, OutboxMessage, OutboxStatus
from opplevelseskort.extensions import db


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, received
    finally:
        controller.stop()


def test_email_is_delivered_through_smtp(app, smtp_server):
    controller, received = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    msg = outbox.enqueue(OutboxChannel.EMAIL, "kari@example.org", "Kortet", "Her er lenken", kind="card_link")
    try:
        assert outbox.deliver_pending() == (1, 0)
    finally:
        app.config.update(MAIL_SERVER="localhost", MAIL_PORT=25)
    assert msg.status == OutboxStatus.SENT and msg.sent_at is not None
    assert received[0].rcpt_tos == ["kari@example.org"]
    assert "Her er lenken" in received[0].content.decode()


def test_sms_goes_through_the_console_backend(app):
    outbox.ConsoleSmsBackend.sent.clear()
    outbox.enqueue(OutboxChannel.SMS, "+4791234567", "", "Hei")
    assert outbox.deliver_pending() == (1, 0)
    assert outbox.ConsoleSmsBackend.sent == [("+4791234567", "Hei")]


def test_failed_delivery_stays_queued_and_is_retried(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, SMS_BACKEND="failing")
    try:
        e = outbox.enqueue(OutboxChannel.EMAIL, "a@b.no", "x", "y")
        s = outbox.enqueue(OutboxChannel.SMS, "+4791234567", "", "y")
        assert outbox.deliver_pending() == (0, 2)
        assert e.status == OutboxStatus.PENDING and e.attempts == 1 and e.last_error and e.next_attempt_at
        assert outbox.deliver_pending() == (0, 0)  # not due yet: nothing is hammered
        e.next_attempt_at = s.next_attempt_at = None
        app.config.update(SMS_BACKEND="console")
        assert outbox.deliver_pending() == (1, 1)
    finally:
        app.config.update(SMS_BACKEND="console", MAIL_SERVER="localhost", MAIL_PORT=25)


def test_gives_up_after_max_attempts_and_can_be_requeued(app):
    app.config.update(SMS_BACKEND="failing")
    try:
        m = outbox.enqueue(OutboxChannel.SMS, "+4791234567", "", "y")
        for _ in range(outbox.MAX_ATTEMPTS):
            m.next_attempt_at = None
            outbox.deliver_pending()
        assert m.status == OutboxStatus.FAILED
        assert outbox.retry_failed() == 1 and m.status == OutboxStatus.PENDING and m.attempts == 0
    finally:
        app.config.update(SMS_BACKEND="console")


def test_cli_send(app):
    outbox.enqueue(OutboxChannel.SMS, "+4791234567", "", "Hei")
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "1 sent, 0 failed" in result.output
    assert db.session.scalar(db.select(OutboxMessage)).status == OutboxStatus.SENT


def test_message_without_recipient_is_refused():
    from opplevelseskort.core.errors import DomainError

    with pytest.raises(DomainError):
        outbox.enqueue(OutboxChannel.EMAIL, " ", "x", "y")


def test_a_run_killed_halfway_keeps_what_it_delivered(app, committing, monkeypatch):
    """Each message is committed as it is sent: the next run does not send the first ones again, and the one being
    sent when the run died is not sent blindly again either (it may have gone out): it becomes uncertain."""
    sent = []

    def send(msg):
        if len(sent) == 3:
            raise KeyboardInterrupt  # the worker is killed while sending the fourth
        sent.append(msg.recipient)

    monkeypatch.setattr(outbox, "_send_sms", send)
    with app.test_request_context():
        for i in range(6):
            outbox.enqueue(OutboxChannel.SMS, f"9000000{i}", "Hei", "Melding")
        db.session.commit()
        with pytest.raises(KeyboardInterrupt):
            outbox.deliver_pending()
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))
                                 .where(OutboxMessage.status == OutboxStatus.SENT)) == 3
        monkeypatch.setattr(outbox, "_send_sms", lambda msg: sent.append(msg.recipient))
        assert outbox.deliver_pending() == (2, 0)
        from datetime import timedelta

        from opplevelseskort.core.types import utcnow

        assert outbox.recover_expired_leases(utcnow() + outbox.LEASE + timedelta(seconds=1)) == 1
        interrupted = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.recipient == "90000003"))
        assert interrupted.status == OutboxStatus.UNCERTAIN
    assert len(sent) == 5 and len(set(sent)) == 5
