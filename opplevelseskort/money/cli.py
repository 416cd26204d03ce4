"""Commands of the money part."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from . import jobs

money_cli = AppGroup("money", help="Activity money: grants, lapse, expired reservations.")


@money_cli.command("run")
def run():
    """What the night's schedule does, now: grant, void expired reservations, lapse ended periods."""
    result = jobs.money_night()
    db.session.commit()
    click.echo(f"Granted {result['granted']} children, voided {result['voided']} reservations, "
               f"closed {result['lapsed']} accounts.")


def register(app: Flask) -> None:
    app.cli.add_command(money_cli)
