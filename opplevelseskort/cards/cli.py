"""Card commands: retention."""

from __future__ import annotations

from contextlib import ExitStack

import click
from flask import Flask
from flask.cli import AppGroup

from ..accounts import services as accounts
from ..core.cli import fail, import_progress
from ..core.errors import DomainError
from ..core.models import Municipality
from ..extensions import db
from . import applications, signing, wallet
from . import demo as _demo  # noqa: F401  (registers the demo hook)
from . import households as services

retention_cli = AppGroup("retention", help="Delete or anonymise data that is no longer needed.")


@retention_cli.command("run")
@click.option("--months", type=int, default=None, help="Override RETENTION_MONTHS")
def retention_run(months):
    """Anonymise children whose cards and eligibility ended more than RETENTION_MONTHS ago."""
    n = services.run_retention(months=months)
    db.session.commit()
    click.echo(f"{n} children anonymised")


cards_cli = AppGroup("cards", help="Children and cards.")


@cards_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--municipality", "number", required=True, help="4-digit municipality number")
@click.option("--actor", "actor_email", required=True, help="E-mail of the caseworker who confirms eligibility")
@click.option("--dry-run", is_flag=True, help="Validate and preview only")
def cards_import(path, number, actor_email, dry_run):
    """Import households from CSV (all or nothing; duplicates reported, not doubled)."""


    try:
        muni = db.session.scalar(db.select(Municipality).filter_by(number=number))
        if muni is None:
            raise DomainError("municipality_unknown", f"Unknown municipality {number}")
        actor = accounts.find_user_by_email(actor_email)
        with ExitStack() as files, import_progress() as progress:  # the file is streamed, in two passes
            preview = applications.import_households(muni, lambda: files.enter_context(open(path, "rb")),  # noqa: SIM115
                                                     actor=actor, dry_run=dry_run, progress=progress)
    except DomainError as exc:  # an ImportFailed lists every problem
        fail(exc)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for d in preview.duplicates:
        click.echo(f"duplicate: {d}", err=True)
    click.echo(f"{'Would import' if dry_run else 'Imported'} {preview.households} households, "
               f"{preview.children} children, {preview.cards} cards; {preview.duplicate_count} duplicates skipped")


@cards_cli.command("rotate-key")
@click.option("--municipality", "number", required=True, help="4-digit municipality number")
def rotate_key(number):
    """A new signing key for the municipality's signed card codes; the active one retires (its codes still verify)."""
    muni = _municipality(number)
    key = signing.rotate_key(muni)
    db.session.commit()
    click.echo(f"New signing key {key.kid} for {muni.name} ({muni.number}).")


def _municipality(number: str) -> Municipality:
    muni = db.session.scalar(db.select(Municipality).filter_by(number=number))
    if muni is None:
        fail(DomainError("municipality_unknown", f"No municipality {number}."))
    return muni


@cards_cli.command("wallet-apple")
@click.option("--municipality", "number", required=True, help="4-digit municipality number")
@click.option("--pass-type-id", required=True, help="The Pass Type ID registered with Apple (pass.no.kommune...)")
@click.option("--team-id", required=True, help="The Apple developer team's id")
@click.option("--certificate", type=click.File("rb"), required=True, help="The Pass Type ID certificate (PEM)")
@click.option("--key", type=click.File("rb"), required=True, help="Its private key (PEM, no password)")
@click.option("--wwdr", type=click.File("rb"), required=True, help="Apple's WWDR intermediate certificate (PEM)")
def wallet_apple(number, pass_type_id, team_id, certificate, key, wwdr):
    """Turn on Apple Wallet passes for the municipality's cards (the key is stored encrypted)."""
    muni = _municipality(number)
    try:
        row = wallet.configure_apple(muni, pass_type_id=pass_type_id, team_id=team_id, certificate=certificate.read(),
                                     key=key.read(), wwdr=wwdr.read())
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Apple Wallet on for {muni.name}: {row.settings['pass_type_id']}, certificate valid until "
               f"{row.settings['certificate_expires'][:10]}.")


@cards_cli.command("wallet-google")
@click.option("--municipality", "number", required=True, help="4-digit municipality number")
@click.option("--issuer-id", required=True, help="The Google Wallet issuer id")
@click.option("--service-account", type=click.File("rb"), required=True, help="The service account's key file (JSON)")
def wallet_google(number, issuer_id, service_account):
    """Turn on "Save to Google Wallet" links for the municipality's cards (the key is stored encrypted)."""
    muni = _municipality(number)
    try:
        row = wallet.configure_google(muni, issuer_id=issuer_id, service_account=service_account.read())
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Google Wallet on for {muni.name}: issuer {row.settings['issuer_id']}.")


def register(app: Flask) -> None:
    app.cli.add_command(retention_cli)
    app.cli.add_command(cards_cli)
