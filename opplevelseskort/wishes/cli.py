"""Commands of the wishes part."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from . import jobs

wishes_cli = AppGroup("wishes", help="Children's wish rounds.")


@wishes_cli.command("run")
def run():
    """What the night's schedule does, now: close ended rounds, publish those past the retention time."""
    result = jobs.wishes_night()
    db.session.commit()
    click.echo(f"Closed {result['closed']} rounds, published {result['published']}.")


def register(app: Flask) -> None:
    app.cli.add_command(wishes_cli)
