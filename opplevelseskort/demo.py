"""The demo municipality. `load_demo()` builds one that shows every role's work: 48 grunnkretser in 8 delområder with
boundaries shaped like real ones (irregular, sharing their edges), SSB's parentless "uoppgitt grunnkrets", and one
user per role. Later parts add their own data through the "demo_data" hook, wired in the factory (children and
cards, partners and offers, two years of check-ins and loans, indicators, an index method, the publications).

`small=True` keeps the tiny set the browser tests are written against (8 grunnkretser, four children).
Everything is drawn from one seeded random generator per part, so the same day gives the same demo in any process.
"""

from __future__ import annotations

import json
import random
import sys

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from .accounts import services as accounts
from .accounts.models import User
from .core import hooks, municipalities
from .core.cli import fail
from .core.errors import DomainError
from .core.models import Municipality, Role
from .extensions import db
from .zones import imports as zone_imports
from .zones import services as zones
from .zones.models import Zone

DEMO_NUMBER = "9901"
DEMO_NAME = "Demo kommune"
DEMO_PASSWORD = "demo1234"
DEMO_SEED = 9901
DEMO_USERS = [
    ("admin@demo.no", Role.ADMIN, "Ada Admin"),
    ("saksbehandler@demo.no", Role.CASEWORKER, "Sara Saksbehandler"),
    ("frivillig@demo.no", Role.VOLUNTEER, "Frida Frivillig"),
    ("analytiker@demo.no", Role.ANALYST, "Anders Analytiker"),
    ("okonomi@demo.no", Role.FINANCE, "Øyvind Økonomi"),
]

SMALL_DISTRICTS = [("Sentrum", ["Torget", "Stasjonen", "Kirkebakken"]),
                   ("Nordbyen", ["Elvebredden", "Skoleveien", "Furumoen"]),
                   ("Søråsen", ["Solhaug", "Myrvang"])]

# eight delområder of six grunnkretser each (two columns by three rows of the grid below)
DISTRICTS = [
    ("Sentrum", ["Torget", "Stasjonen", "Kirkebakken", "Brygga", "Rådhuset", "Parken"]),
    ("Nordbyen", ["Elvebredden", "Skoleveien", "Furumoen", "Mølla", "Bakkehaugen", "Nordre løkka"]),
    ("Søråsen", ["Solhaug", "Myrvang", "Åsen", "Lia", "Granlund", "Sørhellinga"]),
    ("Vestsida", ["Vestre torg", "Kvernhusbakken", "Fjellheim", "Holmen", "Vika", "Sandvollen"]),
    ("Østmarka", ["Østre gård", "Skogly", "Tjernet", "Bjørkely", "Markavegen", "Heia"]),
    ("Strandvik", ["Stranda", "Båthavna", "Neset", "Fyret", "Viksletta", "Odden"]),
    ("Bergeby", ["Berget", "Kollen", "Steinbrudd", "Utsikten", "Haugen", "Nabben"]),
    ("Lundeby", ["Lunden", "Engene", "Gardsvegen", "Kirkelia", "Bekkedalen", "Jordet"]),
]
UNKNOWN_CODE = DEMO_NUMBER + "9999"  # SSB's "uoppgitt grunnkrets": no boundary, no delområde
LON0, LAT0, DLON, DLAT = 11.00, 60.76, 0.018, 0.009  # near 60.8° N 11.1° E; a cell is about 1 km across


def _cell_ring(rng_seed: int, col: int, row: int) -> list[list[float]]:
    """A grunnkrets's outline: the grid cell's corners and edge midpoints moved a little, each shared point moved
    the same way for both cells that share it, so neighbours meet without gaps or overlaps."""
    def point(i2: int, j2: int) -> list[float]:  # half-cell coordinates: even = corner, odd = edge midpoint
        r = random.Random(rng_seed * 1_000_003 + i2 * 1009 + j2)
        jitter = 0.28 if i2 % 2 or j2 % 2 else 0.18
        dx = (r.random() - 0.5) * jitter * DLON if 0 < i2 < 16 else 0.0  # the outer border stays straight
        dy = (r.random() - 0.5) * jitter * DLAT if 0 < j2 < 12 else 0.0
        return [round(LON0 + i2 * DLON / 2 + dx, 6), round(LAT0 + j2 * DLAT / 2 + dy, 6)]
    i, j = 2 * col, 2 * row
    path = [(i, j), (i + 1, j), (i + 2, j), (i + 2, j + 1), (i + 2, j + 2), (i + 1, j + 2), (i, j + 2), (i, j + 1)]
    ring = [point(a, b) for a, b in path]
    return [*ring, ring[0]]


def demo_geojson(*, small: bool = False) -> str:
    """Grunnkretser with their delområde's name, as a municipality's GIS would export them."""
    features = []
    if small:
        lon0, lat0, dlon, dlat = 11.04, 60.77, 0.02, 0.01
        for d, (dname, kretser) in enumerate(SMALL_DISTRICTS, start=1):
            for k, kname in enumerate(kretser, start=1):
                x, y = lon0 + (k - 1) * dlon, lat0 + (d - 1) * dlat
                ring = [[x, y], [x + dlon, y], [x + dlon, y + dlat], [x, y + dlat], [x, y]]
                features.append(_feature(f"{DEMO_NUMBER}{d:02d}{k:02d}", kname, dname,
                                         [[round(a, 6), round(b, 6)] for a, b in ring]))
    else:
        for d, (dname, kretser) in enumerate(DISTRICTS, start=1):
            for k, kname in enumerate(kretser, start=1):
                col, row = 2 * ((d - 1) % 4) + (k - 1) % 2, 3 * ((d - 1) // 4) + (k - 1) // 2
                features.append(_feature(f"{DEMO_NUMBER}{d:02d}{k:02d}", kname, dname,
                                         _cell_ring(DEMO_SEED, col, row)))
    return json.dumps({"type": "FeatureCollection", "features": features})


def _feature(code: str, name: str, district: str, ring: list) -> dict:
    return {"type": "Feature", "properties": {"grunnkretsnummer": code, "grunnkretsnavn": name,
                                              "delomradenavn": district},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def non_demo_data_present() -> bool:
    other_muni = db.session.scalar(db.select(Municipality.id).where(Municipality.number != DEMO_NUMBER).limit(1))
    other_user = db.session.scalar(db.select(User.id).where(~User.email.like("%@demo.no")).limit(1))
    return bool(other_muni or other_user)


def load_demo(*, small: bool = False) -> Municipality:
    """Create (or complete) the demo municipality; running it again changes nothing."""
    return build_demo(small=small)[0]


def build_demo(*, small: bool = False) -> tuple[Municipality, dict[str, int]]:
    """The demo municipality and what each part added to it (zones here; children, offers, check-ins... from the
    parts' providers, each returning its own counts)."""
    if non_demo_data_present():
        raise DomainError("demo_refused", "The database holds non-demo data; refusing to load demo data into it.")
    muni = municipalities.get_or_create_municipality(DEMO_NUMBER, DEMO_NAME)
    zone_imports.import_zones_geojson(muni, demo_geojson(small=small), code_property="grunnkretsnummer",
                               name_property="grunnkretsnavn", level="grunnkrets", parent_prefix=6,
                               parent_level="delomrade", parent_name_property="delomradenavn")
    if not small and not db.session.scalar(db.select(Zone.id).filter_by(municipality_id=muni.id, code=UNKNOWN_CODE)):
        zones.add_unknown_zone(muni.id, UNKNOWN_CODE, "Uoppgitt grunnkrets")
    for email, role, name in DEMO_USERS:
        if db.session.scalar(db.select(User.id).filter_by(email=email)):
            continue
        accounts.create_user(email, DEMO_PASSWORD, role, name=name,
                             municipality_id=None if role == Role.ADMIN else muni.id)
    db.session.flush()
    added = {"zones": db.session.scalar(db.select(db.func.count(Zone.id)).filter_by(municipality_id=muni.id))}
    # each part's demo data, in the order the factory wired them (partners' club, its user and offers before the
    # cards using them; the publications last)
    for add_demo_data in hooks.providers("demo_data"):
        added.update(add_demo_data(muni, small=small) or {})
    db.session.flush()
    return muni, added


@click.command("demo")
@click.option("--small", is_flag=True, help="Only a handful of children in 8 zones (what the browser tests use)")
def demo_command(small):
    """Migrate the database and load the demo municipality (idempotent; refuses production and real data)."""
    if current_app.config["PRODUCTION"]:
        click.echo("Refusing to load demo data in production mode.", err=True)
        sys.exit(1)
    upgrade()
    try:
        muni, added = build_demo(small=small)
    except DomainError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Demo municipality {muni.name} ({muni.number}) is ready: "
               + ", ".join(f"{n} {what}" for what, n in added.items()) + ".")
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Users (password {DEMO_PASSWORD}):")
    for user in db.session.scalars(db.select(User).where(User.email.like("%@demo.no")).order_by(User.email)):
        click.echo(f"  {user.email:28} {user.role}")
    click.echo("Start the app with: opplevelseskort run")


def register(app: Flask) -> None:
    app.cli.add_command(demo_command)
