"""Zones: the municipality's areas (grunnkrets, delområde, bydel, levekår zones) and their imports."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from flask_babel import gettext as _
from shapely.ops import unary_union

from ..accounts.models import User
from ..core import audit, municipalities
from ..core.errors import DomainError, NotFound
from ..core.models import Municipality
from ..core.permissions import scope_to_municipality
from ..extensions import db
from .geo import (
    contains,
    geometry_json,
    load_geometry,
)
from .models import Zone

log = logging.getLogger(__name__)


Progress = Callable[[int, int], None] | None


def zones_by_code(municipality_id: int) -> dict[str, Zone]:
    return {z.code: z for z in db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality_id))}


def code_text(value) -> str:
    return "" if value is None else str(value).strip()


def creates_cycle(zone: Zone, parent: Zone | None) -> bool:
    node, seen = parent, set()
    while node is not None:
        if node is zone or (zone.id is not None and node.id == zone.id):
            return True
        if id(node) in seen:
            return True
        seen.add(id(node))
        node = node.parent
    return False


def rebuild_parent_boundaries(children: list[Zone], also: set[int] | None = None) -> None:
    """The union of the children's boundaries becomes the parent's, level by level up the hierarchy (`also`:
    parents that lost children)."""
    parents = {z.parent_id for z in children if z.parent_id is not None} | (also or set())
    seen: set[int] = set()
    while parents:
        level_up: set[int] = set()
        for pid in parents - seen:
            seen.add(pid)
            parent = db.session.get(Zone, pid)
            kids = db.session.scalars(db.select(Zone.boundary).where(Zone.parent_id == pid,
                                                                      Zone.boundary.is_not(None))).all()
            geoms = [load_geometry(b) for b in kids]
            if geoms:
                set_boundary(parent, unary_union(geoms))
            elif db.session.scalar(db.select(Zone.id).where(Zone.parent_id == pid).limit(1)) is None:
                set_boundary(parent, None)  # no children left: the union of nothing
            if parent.parent_id is not None:
                level_up.add(parent.parent_id)
        db.session.flush()
        parents = level_up


def set_boundary(zone: Zone, geometry) -> None:
    if geometry is None:
        zone.boundary = None
        zone.min_lon = zone.min_lat = zone.max_lon = zone.max_lat = None
        return
    zone.boundary = geometry_json(geometry)
    zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat = geometry.bounds


def add_unknown_zone(municipality_id: int, code: str, name: str) -> Zone:
    """SSB's "uoppgitt grunnkrets" of a municipality (its code ends in 9999): a zone without a boundary or a
    delområde, that figures can be recorded on and no index ranks."""
    zone = Zone(municipality_id=municipality_id, code=code, name=name, level="grunnkrets")
    db.session.add(zone)
    db.session.flush()
    municipalities.catalogue_changed(municipality_id)
    return zone


def zones_of(municipality_id: int | None, *, level: str | None = None):
    q = db.select(Zone).order_by(Zone.code)
    if municipality_id is not None:
        q = q.where(Zone.municipality_id == municipality_id)
    if level:
        q = q.where(Zone.level == level)
    return q


def get_zone(zone_id: int) -> Zone:
    zone = db.session.get(Zone, zone_id)
    if zone is None:
        raise NotFound("zone_not_found", _("Fant ikke sonen."))
    return zone


def find_zone(municipality_id: int, text: str) -> Zone:
    """A zone picked by its code or its exact name (case-insensitive) within a municipality."""
    text = (text or "").strip()
    zone = db.session.scalar(db.select(Zone).filter_by(municipality_id=municipality_id, code=text))
    if zone is None and text:
        matches = list(db.session.scalars(db.select(Zone).where(
            Zone.municipality_id == municipality_id, db.func.lower(Zone.name) == text.lower())))
        if len(matches) == 1:
            zone = matches[0]
    if zone is None:
        raise DomainError("zone_unknown", _("Ukjent sone: «%(value)s».", value=text))
    return zone


def memo_find_zone() -> Callable[[int, str], Zone]:
    """`find_zone` remembered per (municipality, text): an import of many rows asks the database once per zone."""
    known: dict[tuple[int, str], Zone | DomainError] = {}

    def find(municipality_id: int, text: str) -> Zone:
        key = (municipality_id, (text or "").strip())
        if key not in known:
            try:
                known[key] = find_zone(*key)
            except DomainError as exc:
                known[key] = exc
        found = known[key]
        if isinstance(found, DomainError):
            raise found
        return found

    return find


def update_zone(zone: Zone, *, name: str, level: str, parent_code: str | None, actor: User) -> Zone:
    """Rename, re-level or re-parent a zone (never into a cycle)."""
    if not name.strip() or not level.strip():
        raise DomainError("zone_invalid", _("Navn og nivå må fylles ut."))
    parent = None
    if parent_code:
        parent = db.session.scalar(db.select(Zone).filter_by(municipality_id=zone.municipality_id, code=parent_code.strip()))
        if parent is None:
            raise DomainError("zone_unknown", _("Ukjent sone: «%(value)s».", value=parent_code))
        if creates_cycle(zone, parent) or parent.id == zone.id:
            raise DomainError("zone_cycle", _("Den overordnede sonen kan ikke ligge under denne sonen."))
    zone.name, zone.level, zone.parent = name.strip(), level.strip(), parent
    municipalities.catalogue_changed(zone.municipality_id)
    audit.record(actor, "zone.update", "zone", zone.id, municipality_id=zone.municipality_id)
    return zone


def zone_at(municipality_id: int, lon: float, lat: float) -> Zone | None:
    """The most detailed zone whose boundary contains the point (bounding boxes filter in SQL first)."""
    candidates = list(db.session.scalars(db.select(Zone).where(
        Zone.municipality_id == municipality_id, Zone.boundary.is_not(None),
        Zone.min_lon <= lon, Zone.max_lon >= lon, Zone.min_lat <= lat, Zone.max_lat >= lat)))
    hits = [z for z in candidates if contains(z.boundary, lon, lat)]
    if not hits:
        return None
    # The deepest hit in the hierarchy is the most detailed one (a grunnkrets, not its delområde).
    return max(hits, key=lambda z: len(z.ancestors()))


def zone_area_geometry(zone: Zone):
    return load_geometry(zone.boundary)


def outline_features(municipality: Municipality | None) -> list[dict]:
    """GeoJSON features of the municipality's smallest zones (public geography: code, name, level)."""
    rows = list(db.session.scalars(db.select(Zone).where(Zone.municipality_id == municipality.id))) if municipality else []
    parents = {z.parent_id for z in rows}
    return [{"type": "Feature", "id": z.code, "properties": {"code": z.code, "name": z.name, "level": z.level},
             "geometry": json.loads(z.boundary)} for z in rows if z.boundary and z.id not in parents]


def zones_visible_to(user: User, level: str | None = None) -> list[Zone]:
    q = scope_to_municipality(db.select(Zone).order_by(Zone.municipality_id, Zone.code), Zone.municipality_id, user)
    return list(db.session.scalars(q.where(Zone.level == level) if level else q))


def normalise_code(text: str) -> str:
    """`K-3201`, `G-32010101`, `3201 Bærum` and `32010101` all name their code."""
    t = str(text or "").strip()
    t = re.sub(r"^[A-Za-z]{1,3}-", "", t)
    m = re.match(r"^(\d{2,})\b", t)
    return m.group(1) if m else t

