"""Zone commands: zones import."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from ..core import municipalities as services
from ..core.cli import fail, import_progress
from ..core.errors import DomainError
from ..extensions import db
from . import imports as zones

zones_cli = AppGroup("zones", help="Import and list zones.")


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


def register(app: Flask) -> None:
    app.cli.add_command(zones_cli)
