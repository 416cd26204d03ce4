"""Equipment pool commands: reminders (for cron)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from opplevelseskort.extensions import db

from . import demo as _demo  # noqa: F401  (registers the demo hook)
from . import overview, reservations

utstyr_cli = AppGroup("utstyr", help="The equipment pool.")


@utstyr_cli.command("reminders")
def reminders():
    """Queue due-soon and overdue reminders, and expire reservations not picked up."""
    due, overdue = overview.send_reminders()
    expired = reservations.expire_reservations()
    db.session.commit()
    click.echo(f"{due} due-soon and {overdue} overdue reminders queued; {expired} reservations expired")


def register(app: Flask) -> None:
    app.cli.add_command(utstyr_cli)
