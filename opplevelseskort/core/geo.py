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


def to_wgs84(geometry: dict, epsg: int):
    """Return a valid shapely geometry in WGS84 (lon, lat) from a GeoJSON geometry in `epsg`."""
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
        geom = make_valid(geom)
    return geom


def geometry_json(geom) -> str:
    return json.dumps(mapping(geom), separators=(",", ":"))


def load_geometry(text: str | None):
    return shape(json.loads(text)) if text else None


def contains(boundary_json: str, lon: float, lat: float) -> bool:
    geom = load_geometry(boundary_json)
    return bool(geom is not None and geom.covers(Point(lon, lat)))
