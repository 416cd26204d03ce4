"""Geometry helpers: CRS detection, reprojection to WGS84, point-in-polygon."""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache

from shapely.geometry import Point, mapping, shape
from shapely.validation import make_valid

# EPSG:4326 and the UTM zones Norwegian agencies publish in (ETRS89 / UTM 32, 33, 35).
SUPPORTED_EPSG = {4326, 4258, 25832, 25833, 25835}
_EPSG_RE = re.compile(r"EPSG:{1,2}(?:[\d.]*:)?(\d+)$", re.IGNORECASE)


class GeometryError(ValueError):
    pass


def parse_crs(crs_member) -> int:
    """The EPSG code named by a GeoJSON (2008) `crs` member; none means WGS84 (RFC 7946)."""
    if crs_member is None:
        return 4326
    name = None
    if isinstance(crs_member, dict):
        props = crs_member.get("properties") or {}
        name = props.get("name") if isinstance(props, dict) else None
        if name is None and isinstance(props, dict) and "code" in props:
            name = f"EPSG:{props['code']}"
    elif isinstance(crs_member, str):
        name = crs_member
    if not isinstance(name, str):
        raise GeometryError("crs member without a name")
    name = name.strip()
    if name.upper().endswith("CRS84"):
        return 4326
    m = _EPSG_RE.search(name)
    if not m:
        raise GeometryError(name)
    code = int(m.group(1))
    if code not in SUPPORTED_EPSG:
        raise GeometryError(name)
    return code


@lru_cache(maxsize=8)
def _transformer(epsg: int):
    from pyproj import Transformer

    return Transformer.from_crs(epsg, 4326, always_xy=True)


def _walk(coords, fn):
    if coords and isinstance(coords[0], (int, float)):
        return fn(coords)
    return [_walk(c, fn) for c in coords]


def _check_rings(geometry: dict) -> None:
    """Every ring closed (first position = last) with at least four positions, as GeoJSON requires."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    for p, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list) or not rings:
            raise GeometryError(f"polygon {p} has no rings")
        for r, ring in enumerate(rings, start=1):
            where = f"ring {r}" if geometry["type"] == "Polygon" else f"polygon {p}, ring {r}"
            if not isinstance(ring, list) or len(ring) < 4:
                raise GeometryError(f"{where} has fewer than 4 positions")
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise GeometryError(f"{where} is not closed (the first and last positions differ)")


def to_wgs84(geometry: dict, epsg: int, *, repair: bool = False, repaired: list | None = None):
    """Return a valid shapely geometry in WGS84 (lon, lat) from a GeoJSON geometry in `epsg`.

    An invalid polygon (self-intersecting, for instance) is refused with shapely's reason; with `repair` it is
    repaired instead and the reason is appended to `repaired`."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise GeometryError("geometry must be a Polygon or MultiPolygon")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise GeometryError("geometry has no coordinates")

    def check(pt):
        if len(pt) < 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in pt[:2]):
            raise GeometryError("coordinate is not a pair of numbers")
        return [float(pt[0]), float(pt[1])]

    try:
        coords = _walk(coords, check)
    except (TypeError, IndexError) as exc:
        raise GeometryError("malformed coordinates") from exc
    _check_rings({"type": geometry["type"], "coordinates": coords})
    if epsg not in (4326, 4258):
        tr = _transformer(epsg)

        def project(pt):
            x, y = tr.transform(pt[0], pt[1])
            return [round(x, 7), round(y, 7)]

        coords = _walk(coords, project)

    def in_range(pt):
        if not (-180 <= pt[0] <= 180 and -90 <= pt[1] <= 90) or not all(math.isfinite(v) for v in pt):
            raise GeometryError("coordinates outside WGS84 range: is the declared CRS right?")
        return pt

    _walk(coords, in_range)
    try:
        geom = shape({"type": geometry["type"], "coordinates": coords})
    except Exception as exc:  # shapely raises several types for broken rings
        raise GeometryError("invalid polygon rings") from exc
    if geom.is_empty:
        raise GeometryError("empty geometry")
    if not geom.is_valid:
        from shapely.validation import explain_validity

        reason = explain_validity(geom)
        if not repair:
            raise GeometryError(f"invalid polygon: {reason}")
        geom = make_valid(geom)
        if repaired is not None:
            repaired.append(reason)
    return geom


# Where each county's municipalities lie (lon/lat bounding boxes with a margin), by the kommunenummer's first two
# digits: today's counties and those of 2020-2023 and before 2020, so older SSB and Kartverket files fit too.
_COUNTY_BOXES = {
    "03": (10.45, 59.8, 11.0, 60.15), "31": (10.5, 58.85, 11.95, 59.8), "32": (10.0, 59.45, 12.1, 60.55),
    "33": (7.4, 59.4, 10.7, 61.1), "34": (7.3, 59.8, 12.9, 62.7), "39": (9.7, 58.9, 10.7, 59.7),
    "40": (7.0, 58.7, 10.0, 60.2), "42": (6.1, 57.9, 9.3, 59.7), "11": (4.6, 58.2, 7.3, 59.9),
    "46": (4.5, 59.4, 8.3, 62.4), "15": (5.0, 61.9, 9.6, 63.6), "50": (8.3, 62.2, 14.4, 65.5),
    "18": (10.9, 64.9, 18.2, 69.4), "55": (15.5, 68.3, 22.0, 70.4), "56": (20.5, 68.5, 31.2, 71.3),
    "30": (7.4, 58.85, 12.1, 61.1), "38": (7.0, 58.7, 10.7, 60.2), "54": (15.5, 68.3, 31.2, 71.3),
    "01": (10.5, 58.85, 11.95, 59.8), "02": (10.0, 59.45, 12.1, 60.55), "04": (10.0, 60.0, 12.9, 62.7),
    "05": (7.3, 59.9, 11.2, 62.4), "06": (7.4, 59.4, 10.7, 61.1), "07": (9.7, 58.9, 10.7, 59.7),
    "08": (7.0, 58.7, 10.0, 60.2), "09": (7.0, 58.2, 9.3, 59.7), "10": (6.1, 57.9, 8.2, 59.5),
    "12": (4.5, 59.4, 7.8, 61.0), "14": (4.5, 60.8, 8.3, 62.4), "16": (8.3, 62.2, 12.3, 64.5),
    "17": (10.2, 63.5, 14.4, 65.5), "19": (15.5, 68.3, 21.8, 70.4), "20": (20.5, 68.5, 31.2, 71.3),
}
NORWAY_BOX = (4.0, 57.8, 31.5, 71.3)
BOX_MARGIN = 0.5  # degrees: coastal islands and the edges of the boxes


def expected_box(municipality_number: str) -> tuple[float, float, float, float]:
    box = _COUNTY_BOXES.get((municipality_number or "")[:2], NORWAY_BOX)
    return (box[0] - BOX_MARGIN, box[1] - BOX_MARGIN, box[2] + BOX_MARGIN, box[3] + BOX_MARGIN)


def outside(geom, box) -> bool:
    c = geom.representative_point()
    return not (box[0] <= c.x <= box[2] and box[1] <= c.y <= box[3])


def fitting_crs(geometry: dict, declared: int, box) -> list[int]:
    """Other supported CRSs under which the same coordinates would land inside `box` (a wrong declaration)."""
    out = []
    for epsg in sorted(SUPPORTED_EPSG - {declared, 4258}):
        try:
            if not outside(to_wgs84(geometry, epsg, repair=True), box):
                out.append(epsg)
        except GeometryError:
            continue
    return out


def rfc7946(geom):
    """Polygons wound as RFC 7946 asks: exterior rings counter-clockwise, holes clockwise; only polygon parts kept."""
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    if isinstance(geom, Polygon):
        return orient(geom, sign=1.0)
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    polys = [p for g in parts for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return MultiPolygon([orient(p, sign=1.0) for p in polys]) if polys else geom


def geometry_json(geom) -> str:
    return json.dumps(mapping(rfc7946(geom)), separators=(",", ":"))


def load_geometry(text: str | None):
    return shape(json.loads(text)) if text else None


def contains(boundary_json: str, lon: float, lat: float) -> bool:
    geom = load_geometry(boundary_json)
    return bool(geom is not None and geom.covers(Point(lon, lat)))
