"""The demo municipality: zones with boundaries and one user per role. Later parts add their own data through
the "demo_data" hook, wired in the factory."""

from __future__ import annotations

import json

from ..extensions import db
from . import hooks, services, zones
from .errors import DomainError
from .models import Municipality, Role, User

DEMO_NUMBER = "9901"
DEMO_NAME = "Demo kommune"
DEMO_PASSWORD = "demo1234"
DEMO_USERS = [
    ("admin@demo.no", Role.ADMIN, "Ada Admin"),
    ("saksbehandler@demo.no", Role.CASEWORKER, "Sara Saksbehandler"),
    ("frivillig@demo.no", Role.VOLUNTEER, "Frida Frivillig"),
    ("analytiker@demo.no", Role.ANALYST, "Anders Analytiker"),
]

DISTRICTS = [("Sentrum", ["Torget", "Stasjonen", "Kirkebakken"]),
             ("Nordbyen", ["Elvebredden", "Skoleveien", "Furumoen"]),
             ("Søråsen", ["Solhaug", "Myrvang"])]


def demo_geojson() -> str:
    """Grunnkretser as a small grid of squares near 60.79°N 11.07°E, with delområde names."""
    features = []
    lon0, lat0, dlon, dlat = 11.04, 60.77, 0.02, 0.01
    for d, (dname, kretser) in enumerate(DISTRICTS, start=1):
        for k, kname in enumerate(kretser, start=1):
            x, y = lon0 + (k - 1) * dlon, lat0 + (d - 1) * dlat
            ring = [[x, y], [x + dlon, y], [x + dlon, y + dlat], [x, y + dlat], [x, y]]
            features.append({
                "type": "Feature",
                "properties": {"grunnkretsnummer": f"{DEMO_NUMBER}{d:02d}{k:02d}", "grunnkretsnavn": kname,
                               "delomradenavn": dname},
                "geometry": {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]]},
            })
    return json.dumps({"type": "FeatureCollection", "features": features})


def non_demo_data_present() -> bool:
    other_muni = db.session.scalar(db.select(Municipality.id).where(Municipality.number != DEMO_NUMBER).limit(1))
    other_user = db.session.scalar(db.select(User.id).where(~User.email.like("%@demo.no")).limit(1))
    return bool(other_muni or other_user)


def load_demo() -> Municipality:
    """Create (or complete) the demo municipality; running it again changes nothing."""
    if non_demo_data_present():
        raise DomainError("demo_refused", "The database holds non-demo data; refusing to load demo data into it.")
    muni = services.get_or_create_municipality(DEMO_NUMBER, DEMO_NAME)
    zones.import_zones_geojson(muni, demo_geojson(), code_property="grunnkretsnummer",
                               name_property="grunnkretsnavn", level="grunnkrets", parent_prefix=6,
                               parent_level="delomrade", parent_name_property="delomradenavn")
    for email, role, name in DEMO_USERS:
        if db.session.scalar(db.select(User.id).filter_by(email=email)):
            continue
        services.create_user(email, DEMO_PASSWORD, role, name=name,
                             municipality_id=None if role == Role.ADMIN else muni.id)
    # each part's demo data, in the order the factory wired them (partners' club, its user and offers before the
    # cards using them); the partner user is the partners part's, tied to its club

    for add_demo_data in hooks.providers("demo_data"):
        add_demo_data(muni)
    db.session.flush()
    return muni
