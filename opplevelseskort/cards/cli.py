"""Card commands: retention."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from . import demo as _demo  # noqa: F401  (registers the demo hook)
from . import services

retention_cli = AppGroup("retention", help="Delete or anonymise data that is no longer needed.")


@retention_cli.command("run")
@click.option("--months", type=int, default=None, help="Override RETENTION_MONTHS")
def retention_run(months):
    """Anonymise children whose cards and eligibility ended more than RETENTION_MONTHS ago."""
    n = services.run_retention(months=months)
    db.session.commit()
    click.echo(f"{n} children anonymised")


def register(app: Flask) -> None:
    app.cli.add_command(retention_cli)
