"""Partner commands: a partner organisation's staff user."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..core.cli import fail
from ..core.errors import DomainError
from ..core.models import Role
from ..extensions import db
from . import services
from .models import Partner

partners_cli = AppGroup("partners", help="Partner organisations.")


@partners_cli.command("add-user")
@click.option("--email", required=True)
@click.option("--partner-id", type=int, required=True, help="The organisation the user works for")
@click.option("--name", default="")
@click.password_option(envvar="OPPLEVELSESKORT_PASSWORD")
def add_user(email, partner_id, name, password):
    """Create a partner user tied to their organisation."""
    partner = db.session.get(Partner, partner_id)
    try:
        if partner is None:
            raise DomainError("partner_unknown", f"Unknown partner {partner_id}")
        user = services.create_staff_user(email, password, Role.PARTNER, name=name,
                                          municipality_id=partner.municipality_id, partner_id=partner.id)
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Created {user.email} for {partner.name}", err=True)


def register(app: Flask) -> None:
    app.cli.add_command(partners_cli)
