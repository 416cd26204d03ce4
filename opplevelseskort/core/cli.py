"""Core commands: the worker and the outbox, and the helpers every part's commands share."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..extensions import db
from . import jobs, outbox
from .errors import DomainError, ImportFailed

outbox_cli = AppGroup("outbox", help="Deliver queued e-mail and SMS.")


@outbox_cli.command("send")
@click.option("--limit", type=int, default=500)
def outbox_send(limit):
    """Send pending messages (meant for cron); failures stay queued for a later retry."""
    sent, failed = outbox.deliver_pending(limit)
    db.session.commit()
    click.echo(f"{sent} sent, {failed} failed")


@outbox_cli.command("retry-failed")
def outbox_retry():
    """Queue messages that gave up again."""
    n = outbox.retry_failed()
    db.session.commit()
    click.echo(f"{n} messages queued again")


@contextmanager
def import_progress(label: str = "Importing"):
    """A progress bar on stderr for an import, yielding the `progress(done, total)` callback importers take."""
    with click.progressbar(length=100, label=label, file=sys.stderr) as bar:
        last = [0]

        def progress(done, total):
            pct = int(done * 100 / max(total, 1))
            if pct > last[0]:
                bar.update(pct - last[0])
                last[0] = pct

        yield progress


def fail(exc: DomainError) -> None:
    """Roll back, print what was refused (every problem of a failed import, one per line) and exit 1."""
    db.session.rollback()
    if isinstance(exc, ImportFailed):
        click.echo(f"Import failed, nothing was written ({len(exc.errors)} problems):", err=True)
        for e in exc.errors:
            click.echo(f"  - {e}", err=True)
    else:
        click.echo(f"Error ({exc.code}): {exc.message}", err=True)
    sys.exit(1)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time in this process")
@click.option("--no-schedule", is_flag=True, help="Run queued jobs only, not the scheduled ones")
def worker_command(workers, no_schedule):
    """Run queued and scheduled jobs (imports, outbox, reminders...) until stopped; run it on any number of nodes."""
    click.echo(f"Worker: {workers} thread(s), queue {jobs.queue.storage_class.__name__}", err=True)
    jobs.run_worker(current_app._get_current_object(), workers=workers, periodic=not no_schedule)


def register(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(outbox_cli)

