"""Zone imports, each all or nothing: GeoJSON boundaries (any Norwegian CRS, a county's file filtered to the
municipality, bounded in size), a CSV of codes and parents, and a mapping of grunnkretser to zones."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from pydantic import Field

from ..accounts.models import User
from ..core import audit, csvfile, municipalities
from ..core.errors import ImportFailed
from ..core.guards import load_json_upload
from ..core.models import Municipality
from ..extensions import db
from .geo import (
    BOX_MARGIN,
    GeometryError,
    expected_box,
    fitting_crs,
    outside,
    parse_crs,
    to_wgs84,
)
from .models import Zone
from .services import Progress, code_text, creates_cycle, rebuild_parent_boundaries, set_boundary, zones_by_code

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    parents_created: int = 0
    codes: list[str] = field(default_factory=list)
    set_aside: dict[str, int] = field(default_factory=dict)  # kommunenummer -> features of other municipalities
    repaired: list[str] = field(default_factory=list)  # with repair=True: which features were repaired, and why
    links: int = 0  # a mapping table: parent links set


def import_file(municipality: Municipality, data: bytes | str, fmt: str, *, actor: User | None = None,
                progress: Progress = None, **geojson_options) -> ImportResult:
    """Zones from a file in one of the three formats: GeoJSON with boundaries (`geojson_options` as
    `import_zones_geojson` takes them), CSV `code;name;level;parent`, or a mapping table `grunnkrets;zone`."""
    if fmt == "geojson":
        return import_zones_geojson(municipality, data, actor=actor, progress=progress, **geojson_options)
    if fmt == "csv":
        return import_zones_csv(municipality, data, actor=actor, progress=progress)
    return ImportResult(links=import_zone_mapping(municipality, data, actor=actor))


MUNICIPALITY_PROPERTIES = ("kommunenummer", "kommunenr", "kommune_nr", "kommunekode", "kommune")


def counts_text(counts: dict) -> str:
    """{"0220": 2, "0301": 5} -> "0220: 2, 0301: 5" (what an import set aside, for messages)."""
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def feature_municipality(props: dict, code: str) -> str | None:
    """The kommunenummer a feature belongs to: a kommunenummer-style property, else an 8-digit code's prefix."""
    for name in MUNICIPALITY_PROPERTIES:
        value = str(props.get(name) or "").strip()
        if re.fullmatch(r"\d{4}", value):
            return value
    return code[:4] if re.fullmatch(r"\d{8}", code) else None


class ZoneRow(csvfile.Row):
    """A line of a zone list: `code;name;level[;parent]` (Norwegian column names work too)."""

    code: str = Field(min_length=1, max_length=32)
    name: str
    level: str
    parent: str | None = None
    version: str | None = Field(None, max_length=20)


ZONE_COLUMNS = {"code": ("code", "kode", "sone"), "name": ("name", "navn"), "level": ("level", "nivå", "niva"),
                "parent": ("parent", "overordnet", "forelder"), "version": ("version", "versjon", "gyldig_fra")}


def import_zones_csv(municipality: Municipality, data: bytes | str, *, actor: User | None = None,
                     progress: Progress = None) -> ImportResult:
    """Create or update zones from CSV `code;name;level;parent`; all rows valid or nothing is written."""
    table = csvfile.read_table(data, ZoneRow, aliases=ZONE_COLUMNS)
    existing = zones_by_code(municipality.id)
    errors: list[str] = []
    seen: dict[str, int] = {}
    parsed = []
    for lineno, row in table.rows:
        if row.code in seen:
            errors.append(_("Linje %(line)d: koden %(code)s står også på linje %(other)d.",
                            line=lineno, code=row.code, other=seen[row.code]))
            continue
        seen[row.code] = lineno
        if row.parent == row.code:
            errors.append(_("Linje %(line)d: %(code)s kan ikke være sin egen overordnede sone.",
                            line=lineno, code=row.code))
        parsed.append((lineno, row.code, row.name, row.level, row.parent or "", (row.version or "").strip() or None))
    for lineno, _c, _name, _level, parent, _version in parsed:
        if parent and parent not in seen and parent not in existing:
            errors.append(_("Linje %(line)d: ukjent overordnet sone %(parent)s.", line=lineno, parent=parent))
    table.fail_if_errors(errors)

    result = ImportResult()
    total = len(parsed)
    zones = dict(existing)
    for i, (_lineno, code, name, level, _parent, version) in enumerate(parsed, start=1):
        zone = zones.get(code)
        if zone is None:
            zone = Zone(municipality_id=municipality.id, code=code, name=name, level=level, version=version)
            db.session.add(zone)
            zones[code] = zone
            result.created += 1
        else:
            zone.name, zone.level = name, level
            if version:
                zone.version = version
            result.updated += 1
        result.codes.append(code)
        if progress:
            progress(i, total * 2)
    for i, (lineno, code, _name, _level, parent, _version) in enumerate(parsed, start=1):
        zone = zones[code]
        new_parent = zones.get(parent) if parent else None
        if new_parent is not None and creates_cycle(zone, new_parent):
            raise ImportFailed([_("Linje %(line)d: %(code)s under %(parent)s gir en sirkel i hierarkiet.",
                                  line=lineno, code=code, parent=parent)])
        zone.parent = new_parent
        if progress:
            progress(total + i, total * 2)
    db.session.flush()
    municipalities.catalogue_changed(municipality.id)
    audit.record(actor, "zones.import_csv", "municipality", municipality.id, municipality_id=municipality.id,
                 created=result.created, updated=result.updated)
    log.info("imported %s zones from CSV into municipality %s", total, municipality.number)
    return result


def _where_zones_can_lie(municipality: Municipality) -> list[tuple]:
    """Boxes a feature of the municipality must lie in: its county, and near the zones it already has."""
    boxes = [expected_box(municipality.number)]
    known = db.session.execute(db.select(sa.func.min(Zone.min_lon), sa.func.min(Zone.min_lat), sa.func.max(Zone.max_lon),
                                         sa.func.max(Zone.max_lat)).where(Zone.municipality_id == municipality.id,
                                                                          Zone.min_lon.is_not(None))).first()
    if known and known[0] is not None:
        boxes.append((known[0] - BOX_MARGIN, known[1] - BOX_MARGIN, known[2] + BOX_MARGIN, known[3] + BOX_MARGIN))
    return boxes


MAX_POINTS = 600_000


MAX_POINTS_PER_GEOMETRY = 100_000


MAX_FEATURES = 20_000


def _too_many_points(n: int) -> ImportFailed:
    return ImportFailed([_("Filen har omtrent %(n)s koordinatpunkter; grensen er %(max)s. Forenkle grensene (i QGIS: "
                           "Vektor › Geometriverktøy › Forenkle, 1–5 meter), eller del filen.", n=f"{n:,}".replace(
                               ",", " "), max=f"{MAX_POINTS:,}".replace(",", " "))])


def _points(coords) -> int:
    """How many positions a GeoJSON coordinates array holds (iteratively: no recursion on a deep file)."""
    n, todo = 0, [coords]
    while todo:
        item = todo.pop()
        if isinstance(item, list):
            if item and not isinstance(item[0], list):
                n += 1
            else:
                todo.extend(item)
    return n


def _feature_collection(data: bytes | str) -> tuple[dict, int]:
    """The GeoJSON FeatureCollection in `data` and its coordinate system (EPSG code), or ImportFailed naming why."""
    if isinstance(data, (bytes, str)):  # looked at in place: no copy of a large file
        if not re.search(rb"\S" if isinstance(data, bytes) else r"\S", data):
            raise ImportFailed([_("Filen er tom.")])
        brackets = data.count(b"[" if isinstance(data, bytes) else "[")
        if brackets > MAX_POINTS * 1.2:
            raise _too_many_points(brackets)
    elif not data:
        raise ImportFailed([_("Filen er tom.")])
    doc = load_json_upload(data)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ImportFailed([_("Filen må være en GeoJSON FeatureCollection med en liste «features».")])
    try:
        epsg = parse_crs(doc.get("crs"))
    except GeometryError as exc:
        raise ImportFailed([_("Ukjent eller ustøttet koordinatsystem «%(crs)s». Bruk EPSG:4326, 25832, 25833 eller 25835.",
                              crs=str(exc))]) from None
    if not doc["features"]:
        raise ImportFailed([_("Filen inneholder ingen objekter.")])
    if len(doc["features"]) > MAX_FEATURES:
        raise ImportFailed([_("Filen har %(n)d objekter; grensen er %(max)d per fil. Del filen.",
                              n=len(doc["features"]), max=MAX_FEATURES)])
    total = 0
    for n, feat in enumerate(doc["features"], start=1):
        geometry = feat.get("geometry") if isinstance(feat, dict) else None
        points = _points(geometry.get("coordinates")) if isinstance(geometry, dict) else 0
        if points > MAX_POINTS_PER_GEOMETRY:
            raise ImportFailed([_("Objekt %(n)d har %(points)d koordinatpunkter; grensen er %(max)d per sone. "
                                  "Forenkle grensene før import.", n=n, points=points, max=MAX_POINTS_PER_GEOMETRY)])
        total += points
    if total > MAX_POINTS:
        raise _too_many_points(total)
    return doc, epsg


def _feature_geometry(raw: dict, n: int, code: str, epsg: int, boxes: list, repair: bool,
                      repaired: list[str]) -> tuple[object, str | None]:
    """One feature's geometry in WGS84 (repaired where asked, noted in `repaired`), or the problem with it: invalid,
    or outside where the municipality can lie (naming a coordinate system it would fit)."""
    reasons: list[str] = []
    try:
        geometry = to_wgs84(raw, epsg, repair=repair, repaired=reasons)
    except GeometryError as exc:
        return None, _("Objekt %(n)d (%(code)s): ugyldig geometri: %(detail)s", n=n, code=code, detail=str(exc))
    if reasons:
        repaired.append(_("Objekt %(n)d (%(code)s) er reparert: %(reason)s", n=n, code=code, reason="; ".join(reasons)))
    if any(outside(geometry, box) for box in boxes):
        point = geometry.representative_point()
        fits = fitting_crs(raw, epsg, boxes[0])
        return None, (_("Objekt %(n)d (%(code)s): ligger utenfor kommunens område (%(lon).2f° Ø, %(lat).2f° N) "
                        "med koordinatsystemet EPSG:%(epsg)d fra filen.", n=n, code=code, lon=point.x, lat=point.y,
                        epsg=epsg)
                      + (" " + _("Koordinatene passer med EPSG:%(fit)s. Er «crs» i filen feil?",
                                 fit=", EPSG:".join(map(str, fits))) if fits else ""))
    return geometry, None


@dataclass
class _GeoFile:
    """What reading one GeoJSON file for a municipality keeps between its features."""

    municipality: Municipality
    code_property: str
    name_property: str
    parent_name_property: str | None
    parent_prefix: int | None
    epsg: int
    repair: bool
    boxes: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    set_aside: dict[str, int] = field(default_factory=dict)


def import_zones_geojson(municipality: Municipality, data: bytes | str, *, code_property: str,
                         name_property: str, level: str, parent_prefix: int | None = None,
                         parent_level: str = "delomrade", parent_name_property: str | None = None,
                         actor: User | None = None, progress: Progress = None, repair: bool = False) -> ImportResult:
    """Create or update zones with WGS84 boundaries from a GeoJSON FeatureCollection (EPSG:4326/258xx).

    Parents can be built from a code prefix (a grunnkrets code's first 6 digits name its delområde).
    A file covering several municipalities (as Geonorge publishes a county) is filtered: a feature whose
    `kommunenummer` property, or whose 8-digit grunnkrets code's first four digits, name another
    municipality is set aside and counted. Every feature kept must be valid or nothing is written.
    """
    doc, epsg = _feature_collection(data)
    if not level.strip():
        raise ImportFailed([_("Nivå må oppgis.")])
    if parent_prefix is not None and parent_prefix < 1:
        raise ImportFailed([_("Prefikslengden må være et positivt tall.")])
    f = _GeoFile(municipality, code_property, name_property, parent_name_property, parent_prefix, epsg, repair,
                 boxes=_where_zones_can_lie(municipality))
    features = doc["features"]
    parsed = []
    for n, feat in enumerate(features, start=1):
        found = _geojson_feature(f, n, feat)
        if found is not None:
            parsed.append(found)
        if progress:
            progress(n, len(features) * 2)
    if f.errors:
        raise ImportFailed(f.errors)
    if not parsed and f.set_aside:
        raise ImportFailed([_("Ingen objekter i filen hører til kommune %(number)s (filen har %(found)s).",
                              number=municipality.number, found=counts_text(f.set_aside))])
    result = ImportResult(set_aside=f.set_aside, repaired=f.repaired)
    zones = zones_by_code(municipality.id)
    for i, (code, name, geometry, _pn) in enumerate(parsed, start=1):
        _save_zone(municipality, zones, code, name, level.strip(), geometry, result)
        if progress:
            progress(len(features) + i, len(features) * 2)
    if parent_prefix is not None:
        result.parents_created = _parents_by_prefix(municipality, zones, parsed, parent_prefix, parent_level)
    db.session.flush()
    # Every parent of a zone this file touched gets its boundary again from all its children (also those not in
    # this file), and so on up: a re-imported grunnkrets moves its delområde's boundary with it.
    rebuild_parent_boundaries([zones[code] for code, *_rest in parsed])
    municipalities.catalogue_changed(municipality.id)
    audit.record(actor, "zones.import_geojson", "municipality", municipality.id, municipality_id=municipality.id,
                 created=result.created, updated=result.updated, parents_created=result.parents_created, epsg=epsg)
    log.info("imported %s zones from GeoJSON (EPSG:%s) into municipality %s", len(parsed), epsg, municipality.number)
    return result


def _geojson_feature(f: _GeoFile, n: int, feat) -> tuple | None:
    """Feature `n` as (code, name, geometry, parent name), or None: set aside (another municipality's, counted) or
    refused (its problem added to the file's errors)."""
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        f.errors.append(_("Objekt %(n)d: er ikke et GeoJSON Feature.", n=n))
        return None
    props = feat.get("properties") or {}
    if not isinstance(props, dict):
        f.errors.append(_("Objekt %(n)d: «properties» er ikke et objekt.", n=n))
        return None
    code, name = code_text(props.get(f.code_property)), code_text(props.get(f.name_property))
    problem = _feature_naming_problem(f, n, code, name)
    if problem:
        f.errors.append(problem)
        return None
    f.seen[code] = n
    owner = feature_municipality(props, code)
    if owner is not None and re.fullmatch(r"\d{8}", code) and code[:4] != owner:
        f.errors.append(_("Objekt %(n)d: koden %(code)s hører til kommune %(prefix)s, men objektet sier kommune "
                          "%(owner)s.", n=n, code=code, prefix=code[:4], owner=owner))
        return None
    if owner is not None and owner != f.municipality.number:
        f.set_aside[owner] = f.set_aside.get(owner, 0) + 1
        return None
    geometry = None
    if feat.get("geometry") is not None:
        geometry, problem = _feature_geometry(feat["geometry"], n, code, f.epsg, f.boxes, f.repair, f.repaired)
        if problem:
            f.errors.append(problem)
            return None
    parent_name = code_text(props.get(f.parent_name_property)) if f.parent_name_property else ""
    return code, name, geometry, parent_name


def _feature_naming_problem(f: _GeoFile, n: int, code: str, name: str) -> str | None:
    """What is wrong with a feature's code or name (missing, seen before, too short for the parent prefix)."""
    if not code:
        return _("Objekt %(n)d: egenskapen «%(prop)s» (kode) mangler.", n=n, prop=f.code_property)
    if not name:
        return _("Objekt %(n)d: egenskapen «%(prop)s» (navn) mangler.", n=n, prop=f.name_property)
    if code in f.seen:
        return _("Objekt %(n)d: koden %(code)s finnes også i objekt %(other)d.", n=n, code=code, other=f.seen[code])
    if f.parent_prefix is not None and len(code) <= f.parent_prefix:
        return _("Objekt %(n)d: koden %(code)s er for kort for et prefiks på %(len)d tegn.", n=n, code=code,
                 len=f.parent_prefix)
    return None


def _save_zone(municipality: Municipality, zones: dict[str, Zone], code: str, name: str, level: str, geometry,
               result: ImportResult) -> None:
    """Create the zone or update the one with its code, with its boundary."""
    zone = zones.get(code)
    if zone is None:
        zone = Zone(municipality_id=municipality.id, code=code, name=name, level=level)
        db.session.add(zone)
        zones[code] = zone
        result.created += 1
    else:
        zone.name, zone.level = name, level
        result.updated += 1
    set_boundary(zone, geometry)
    result.codes.append(code)


def _parents_by_prefix(municipality: Municipality, zones: dict[str, Zone], parsed: list[tuple], prefix: int,
                       parent_level: str) -> int:
    """Each zone's parent named by its code's first `prefix` characters, made where missing (named by the first
    member's parent name, else its code); returns how many were made."""
    groups: dict[str, list] = {}
    for code, _name, _geometry, parent_name in parsed:
        groups.setdefault(code[:prefix], []).append((code, parent_name))
    made = 0
    for pcode, members in groups.items():
        parent = zones.get(pcode)
        if parent is None:
            pname = next((pn for _c, pn in members if pn), "") or pcode
            parent = Zone(municipality_id=municipality.id, code=pcode, name=pname, level=parent_level)
            db.session.add(parent)
            zones[pcode] = parent
            made += 1
        for code, _pn in members:
            zones[code].parent = parent
    return made


class MappingRow(csvfile.Row):
    """One line of a mapping table: a zone and the zone it belongs to."""

    child: str
    parent: str


MAPPING_COLUMNS = {"child": ("grunnkrets", "grunnkretsnummer", "code", "kode", "child"),
                   "parent": ("sone", "zone", "levekarssone", "levekår", "parent", "overordnet")}


def _mapping_table(data: bytes | str, zones: dict[str, Zone]) -> csvfile.TableReader:
    """The table's rows by their header, or, for a table without one (its first line names two zones), by place
    (its lines keep their own numbers)."""
    text = csvfile.decode(data)
    first = next(csvfile.iter_raw_rows(text), (0, []))[1]
    headed = len(first) >= 2 and not first[0].strip().isdigit() and code_text(first[0]) not in zones \
        and code_text(first[1]) not in zones
    return csvfile.TableReader(text if headed else "child;parent\n" + text, MappingRow, aliases=MAPPING_COLUMNS,
                               lines_added=0 if headed else 1)


def import_zone_mapping(municipality: Municipality, data: bytes | str, *, actor: User | None = None) -> int:
    """Set parents from a mapping table `grunnkrets code;zone code` (levekår zones group grunnkretser), with a
    header or without one."""
    zones = zones_by_code(municipality.id)
    table = _mapping_table(data, zones)
    errors: list[str] = []
    pairs = []
    for lineno, row in table:
        child, parent = code_text(row.child), code_text(row.parent)
        if child not in zones:
            errors.append(_("Linje %(line)d: ukjent sone %(code)s.", line=lineno, code=child))
        if parent not in zones:
            errors.append(_("Linje %(line)d: ukjent sone %(code)s.", line=lineno, code=parent))
        if child == parent:
            errors.append(_("Linje %(line)d: %(code)s kan ikke være sin egen overordnede sone.", line=lineno, code=child))
        pairs.append((lineno, child, parent))
    table.fail_if_errors(errors)
    old_parents = {zones[child].parent_id for _l, child, _p in pairs if zones[child].parent_id is not None}
    for lineno, child, parent in pairs:
        if creates_cycle(zones[child], zones[parent]):
            raise ImportFailed([_("Linje %(line)d: %(code)s under %(parent)s gir en sirkel i hierarkiet.",
                                  line=lineno, code=child, parent=parent)])
        zones[child].parent = zones[parent]
    db.session.flush()
    rebuild_parent_boundaries([zones[child] for _l, child, _p in pairs], also=old_parents)
    municipalities.catalogue_changed(municipality.id)
    audit.record(actor, "zones.import_mapping", "municipality", municipality.id, municipality_id=municipality.id,
                 rows=len(pairs))
    return len(pairs)

