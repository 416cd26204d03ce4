"""The outbox never sends a message twice, whenever its run dies: 20 runs killed at random points against a
local SMTP sink, then a clean run: every Message-ID reaches the sink at most once."""

import random
import re
import socketserver
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from opplevelseskort.core import outbox
from opplevelseskort.core.models import OutboxMessage, OutboxStatus
from opplevelseskort.core.types import utcnow
from opplevelseskort.extensions import db


class Killed(BaseException):
    """The process died here: nothing after it runs, nothing uncommitted survives."""


def start_sink(delay: float = 0.0):
    """A local SMTP server that records each message's Message-ID (taking `delay` seconds per message)."""
    received: list[str] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            def say(text):
                self.wfile.write((text + "\r\n").encode())

            say("220 sink")
            data, body = False, []
            while line := self.rfile.readline():
                if data:
                    if line in (b".\r\n", b".\n"):
                        data = False
                        time.sleep(delay)
                        found = re.search(rb"^Message-ID:\s*(\S+)", b"".join(body), re.M | re.I)
                        received.append(found.group(1).decode() if found else "?")
                        body = []
                        say("250 queued")
                    else:
                        body.append(line)
                    continue
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO"):
                    say("250-sink")
                    say("250 8BITMIME")
                elif cmd == b"DATA":
                    data = True
                    say("354 go on")
                elif cmd == b"QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, received


@pytest.fixture
def smtp_sink():
    server, received = start_sink()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


def test_killed_runs_never_send_a_message_twice(app, committing, smtp_sink, monkeypatch):
    port, received = smtp_sink
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USERNAME="")
    for i in range(12):
        outbox.enqueue("email", f"foresatt{i}@example.org", "Kortet ditt", f"Melding {i}")
    db.session.commit()
    clock = [utcnow()]
    monkeypatch.setattr(outbox, "utcnow", lambda: clock[0])
    real_send = outbox._send_email
    rng = random.Random(23)

    def dying_send(msg):
        point = rng.choice(["before", "after", "none", "none"])
        if point == "before":
            raise Killed  # died after the claim was committed, before anything left
        real_send(msg)
        if point == "after":
            raise Killed  # the sink has it; the "sent" mark never got committed

    monkeypatch.setattr(outbox, "_send_email", dying_send)
    kills = 0
    while kills < 20:
        try:
            outbox.deliver_pending(limit=3)
        except Killed:
            kills += 1
        db.session.rollback()
        db.session.remove()
        clock[0] += outbox.LEASE + timedelta(seconds=1)  # the next run comes after the dead run's lease
        if not db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))):
            if kills < 20:  # everything sent or uncertain: more mail, so the runs can keep dying
                outbox.enqueue("email", f"ny{kills}@example.org", "Kortet ditt", "Melding")
                db.session.commit()
    monkeypatch.setattr(outbox, "_send_email", real_send)
    outbox.deliver_pending(limit=100)
    clock[0] += outbox.LEASE + timedelta(seconds=1)
    outbox.deliver_pending(limit=100)

    counts = Counter(received)
    assert counts and max(counts.values()) == 1, [m for m, n in counts.items() if n > 1]
    rows = db.session.scalars(db.select(OutboxMessage)).all()
    assert {r.status for r in rows} <= {OutboxStatus.SENT, OutboxStatus.UNCERTAIN}
    assert all(counts[r.message_id] == 1 for r in rows if r.status == OutboxStatus.SENT)
    assert any(r.status == OutboxStatus.UNCERTAIN for r in rows)  # the kills did leave some to check


def test_an_uncertain_message_is_resent_only_when_staff_say_so(app, muni):
    msg = outbox.enqueue("sms", "90000000", "", "Hei")
    msg.status, msg.lease_until = OutboxStatus.SENDING, utcnow() - timedelta(minutes=1)
    db.session.flush()
    outbox.recover_expired_leases(utcnow())
    assert msg.status == OutboxStatus.UNCERTAIN
    assert outbox.deliver_pending(limit=10) == (0, 0)  # not blindly again
    outbox.resend(msg)
    first_id = msg.message_id
    assert outbox.deliver_pending(limit=10) == (1, 0)
    assert msg.status == OutboxStatus.SENT and msg.message_id == first_id
