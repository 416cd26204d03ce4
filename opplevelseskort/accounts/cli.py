"""Account commands: users create, tokens create."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..core.cli import fail
from ..core.errors import DomainError
from ..core.models import Municipality
from ..extensions import db
from . import services as accounts
from . import tokens

users_cli = AppGroup("users", help="Manage staff users.")


tokens_cli = AppGroup("tokens", help="Manage API tokens.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "caseworker", "volunteer", "analyst"]),
              help="A partner user is made with `partners add-user` (it names the organisation).")
@click.option("--name", default="")
@click.option("--municipality", "municipality_number", default=None, help="4-digit municipality number")
@click.password_option(envvar="OPPLEVELSESKORT_PASSWORD")
def users_create(email, role, name, municipality_number, password):
    """Create a staff user."""
    try:
        muni_id = None
        if municipality_number:
            muni = db.session.scalar(db.select(Municipality).filter_by(number=municipality_number))
            if muni is None:
                raise DomainError("municipality_unknown", f"Unknown municipality {municipality_number}")
            muni_id = muni.id
        user = accounts.create_user(email, password, role, name=name, municipality_id=muni_id)
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role})", err=True)


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="E-mail of the user the token acts as")
@click.option("--name", default="cli")
def tokens_create(email, name):
    """Create an API token and print it, alone, on stdout (it is shown this once)."""
    try:
        user = accounts.find_user_by_email(email)
        _token, raw = tokens.create_token(user, name)
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(raw)


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
