"""Core commands: users create, tokens create, zones import, demo."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from ..extensions import db
from . import demo as demo_mod
from . import jobs, outbox, services, zones
from .errors import DomainError, ImportFailed
from .models import Municipality, User

users_cli = AppGroup("users", help="Manage staff users.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")
zones_cli = AppGroup("zones", help="Import and list zones.")
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
        user = services.create_user(email, password, role, name=name, municipality_id=muni_id)
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
        user = services.find_user_by_email(email)
        _token, raw = services.create_token(user, name)
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(raw)


@zones_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--municipality", "municipality_number", required=True, help="4-digit municipality number")
@click.option("--municipality-name", default="", help="Name, if the municipality is new")
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv", "mapping"]), default=None)
@click.option("--code-property", default="grunnkretsnummer")
@click.option("--name-property", default="grunnkretsnavn")
@click.option("--level", default="grunnkrets")
@click.option("--parent-prefix", type=int, default=None, help="Build parents from the first N characters")
@click.option("--parent-level", default="delomrade")
@click.option("--parent-name-property", default=None)
@click.option("--repair", is_flag=True, help="Repair invalid polygons (listed) instead of refusing the file")
def zones_import(path, municipality_number, municipality_name, fmt, code_property, name_property, level,
                 parent_prefix, parent_level, parent_name_property, repair):
    """Import zones from GeoJSON, CSV (code;name;level;parent) or a mapping CSV (grunnkrets;zone)."""
    fmt = fmt or ("geojson" if path.suffix.lower() in (".json", ".geojson") else "csv")
    data = path.read_bytes()
    with import_progress() as progress:
        try:
            muni = services.get_or_create_municipality(municipality_number, municipality_name or municipality_number)
            options = {"code_property": code_property, "name_property": name_property, "level": level,
                       "parent_prefix": parent_prefix, "parent_level": parent_level,
                       "parent_name_property": parent_name_property, "repair": repair} if fmt == "geojson" else {}
            r = zones.import_file(muni, data, fmt, progress=progress, **options)
            if fmt == "geojson":
                summary = f"{r.created} created, {r.updated} updated, {r.parents_created} parents created"
                summary += "".join(f"\n  {line}" for line in r.repaired)
                if r.set_aside:
                    summary += "; set aside (other municipalities): " + zones.counts_text(r.set_aside)
            elif fmt == "csv":
                summary = f"{r.created} created, {r.updated} updated"
            else:
                summary = f"{r.links} parent links set"
        except DomainError as exc:
            fail(exc)
    db.session.commit()
    click.echo(summary)


@click.command("demo")
@click.option("--small", is_flag=True, help="Only a handful of children in 8 zones (what the browser tests use)")
def demo_command(small):
    """Migrate the database and load the demo municipality (idempotent; refuses production and real data)."""
    if current_app.config["PRODUCTION"]:
        click.echo("Refusing to load demo data in production mode.", err=True)
        sys.exit(1)
    upgrade()
    try:
        muni, added = demo_mod.build_demo(small=small)
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Demo municipality {muni.name} ({muni.number}) is ready: "
               + ", ".join(f"{n} {what}" for what, n in added.items()) + ".")
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Users (password {demo_mod.DEMO_PASSWORD}):")
    for user in db.session.scalars(db.select(User).where(User.email.like("%@demo.no")).order_by(User.email)):
        click.echo(f"  {user.email:28} {user.role}")
    click.echo("Start the app with: opplevelseskort run")


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time in this process")
@click.option("--no-schedule", is_flag=True, help="Run queued jobs only, not the scheduled ones")
def worker_command(workers, no_schedule):
    """Run queued and scheduled jobs (imports, outbox, reminders...) until stopped; run it on any number of nodes."""
    click.echo(f"Worker: {workers} thread(s), queue {jobs.queue.storage_class.__name__}", err=True)
    jobs.run_worker(current_app._get_current_object(), workers=workers, periodic=not no_schedule)


def register(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(zones_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_command)
