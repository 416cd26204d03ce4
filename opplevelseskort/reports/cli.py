"""Report commands: uptake export and indicator import."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from ..core.cli import fail, import_progress
from ..core.errors import DomainError
from ..core.models import Municipality
from ..extensions import db
from . import formats, levekar, periods
from . import published as services
from .indicators import import_indicators, parse_column_map

report_cli = AppGroup("report", help="Zone reports for the analysis layer.")


@report_cli.command("uptake")
@click.option("--period", required=True, help="2026, 2026-Q1 or 2026-03 (only whole periods are published)")
@click.option("--level", default="grunnkrets", help="A zone level, or 'municipality' for the municipality as a whole")
@click.option("--municipality", default=None, help="4-digit number (needed when there are several)")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonstat", "geojson", "gpkg"]), default="csv")
@click.option("--epsg", type=click.Choice(["25833", "25832", "25835"]), default="25833",
              help="The GeoPackage's coordinate system (EUREF89 UTM zone)")
@click.option("--separator", type=click.Choice(["semicolon", "comma"]), default="semicolon")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--breakdown", type=click.Choice(["age", "gender"]), default=None,
              help="Active children and check-ins per zone and age band or gender (CSV)")
def uptake(period, level, municipality, fmt, epsg, separator, output, breakdown):
    """Write the suppressed uptake report (stdout by default)."""
    try:
        muni = services.municipality_for(None, municipality or _only_municipality())
        sep = "," if separator == "comma" else ";"
        if breakdown:
            body = formats.breakdown_csv(services.breakdown_report(muni, periods.parse_period(period), level,
                                                                    breakdown), sep)
        else:
            report = services.uptake_report(muni, periods.parse_period(period), level)
            body, _mime = formats.render(report, fmt, sep, epsg=int(epsg))
    except DomainError as exc:
        click.echo(f"Error ({exc.code}): {exc.message}", err=True)
        sys.exit(1)
    if isinstance(body, bytes):  # a GeoPackage: a file, never the terminal
        if not output:
            click.echo("Error (output_required): a GeoPackage is written to a file: give --output FILE.gpkg", err=True)
            sys.exit(1)
        output.write_bytes(body)
        return
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if isinstance(body, str):
            out.write(body)
        else:
            for chunk in body:
                out.write(chunk)
    finally:
        if output:
            out.close()


@report_cli.command("grant")
@click.option("--year", type=click.IntRange(periods.FIRST_REPORT_YEAR, 2100), required=True)
@click.option("--municipality", default=None, help="4-digit number (needed when there are several)")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def grant(year, municipality, output):
    """Write the year's grant report (CSV), protected with the year's other tables."""
    try:
        muni = services.municipality_for(None, municipality or _only_municipality())
        body = formats.grant_csv(services.grant_report(muni, periods.parse_period(str(year)).start.year))
    except DomainError as exc:
        click.echo(f"Error ({exc.code}): {exc.message}", err=True)
        sys.exit(1)
    if output:
        output.write_text(body, encoding="utf-8")
    else:
        click.echo(body, nl=False)


def _only_municipality() -> str | None:
    """The municipality a command means when none is named: the only one there is; with several, say which."""
    known = db.session.execute(db.select(Municipality.number, Municipality.name).order_by(Municipality.number)).all()
    if len(known) > 1:
        click.echo("Error (municipality_required): this database holds several municipalities; name one with "
                   "--municipality: " + ", ".join(f"{n} ({name})" for n, name in known), err=True)
        sys.exit(1)
    return known[0][0] if known else None


@report_cli.command("index-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--method", "method", required=True, help="The index's name, e.g. 'Drammen levekårsindeks'")
@click.option("--method-version", required=True, help="The method's version, e.g. 2023")
@click.option("--municipality", default=None, help="4-digit number (needed when there are several)")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonstat"]), default=None,
              help="Default: jsonstat for .json files, csv otherwise")
def index_import(path, method, method_version, municipality, fmt):
    """Import a municipality's own levekårsindeks with its sub-scores (all or nothing)."""
    try:
        muni = services.municipality_for(None, municipality or _only_municipality())
        n = levekar.import_own_index(muni, path.read_bytes(), fmt=fmt or ("jsonstat" if path.suffix.lower() == ".json"
                                                                          else "csv"),
                                     method=method, method_version=method_version, actor=None)
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"{n} index values imported ({method}, version {method_version})")


indicators_cli = AppGroup("indicators", help="Living-conditions indicators per zone.")


@indicators_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--municipality", default=None, help="4-digit number: import only this municipality's rows")
@click.option("--skip-unknown", is_flag=True, help="Skip (and list) rows of unknown zones instead of refusing")
@click.option("--columns", default=None,
              help="Column mapping for other CSV headers, e.g. zone=Region,indicator=statistikkvariabel,year=år")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonstat"]), default=None,
              help="Default: jsonstat for .json files, csv otherwise")
@click.option("--zone-dimension", default=None, help="JSON-stat dimension id holding the zones")
def indicators_import(path, municipality, skip_unknown, columns, fmt, zone_dimension):
    """Import indicator values from CSV or JSON-stat as SSB publishes them (all or nothing).

    A file may cover several municipalities: each row goes to the municipality its zone code names, rows
    of municipalities this deployment does not serve are set aside, and the summary says how many."""
    try:
        muni = services.municipality_for(None, municipality) if municipality else None
        with import_progress() as progress:
            result = import_indicators(path.read_bytes(),
                                       fmt=fmt or ("jsonstat" if path.suffix.lower() == ".json" else "csv"),
                                       municipality=muni, skip_unknown=skip_unknown,
                                       columns=parse_column_map(columns), zone_dimension=zone_dimension,
                                       progress=progress)
    except DomainError as exc:  # an ImportFailed lists every problem
        fail(exc)
    db.session.commit()
    click.echo(f"{result.total} values imported")
    for line in result.lines():
        click.echo(f"  {line}")


def register(app: Flask) -> None:
    if "indicators" not in report_cli.commands:
        report_cli.add_command(indicators_cli)
    app.cli.add_command(report_cli)
