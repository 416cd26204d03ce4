"""Files and services an analyst's GIS opens: a GeoPackage per period and level, and the features behind the
read-only OGC API Features endpoint (api/ogc.py).

A zone's feature carries the period's published uptake (a hidden figure is NULL with its SSB symbol in the
`_status` column beside it), the need beside it (reports.need, from the indicator the municipality chose), and the
levekårsindeks (reports.levekar) where one can be computed. The GeoPackage is in EUREF89 UTM 33 (EPSG:25833) by
default, 32 or 35 on request, and holds a `metadata` table: source, rule version, period, level, generated at.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..core.errors import DomainError, NotFound
from ..core.models import Municipality
from ..extensions import db
from ..zones.models import Zone
from . import features, periods, services, store
from .models import ReportFeature, ReportPublication
from .publication import Report

EPSG_CHOICES = (25833, 25832, 25835)  # EUREF89 UTM 33 (the national default), 32 (west), 35 (Finnmark)


COUNT_FIELDS = services.COUNT_MEASURES


RATE_FIELDS = services.RATE_MEASURES


RULE_VERSION = "suppression-plan-2"  # the disclosure rules the figures were published under (DISCLOSURE.md)


def published_years(municipality: Municipality) -> list[int]:
    """The calendar years whose protected publication is stored (what the OGC API serves as collections)."""
    labels = db.session.scalars(sa.select(ReportPublication.period).where(
        ReportPublication.municipality_id == municipality.id).distinct())
    return sorted((int(p) for p in labels if len(p) == 4 and p.isdigit()), reverse=True)


def collections(municipality: Municipality) -> list[tuple[str, Report]]:
    """Every published year and zone level as a collection: (`opptak-2026-grunnkrets`, its report)."""
    out = []
    for year in published_years(municipality):
        pub = services.publication(municipality, periods.parse_period(str(year)))
        out += [(f"opptak-{year}-{level}", report) for level, report in pub.reports.items()]
    return out


COLLECTION_ID = re.compile(r"^opptak-(?P<year>\d{4})-(?P<level>[a-z_]+)$")


def collection(municipality: Municipality, collection_id: str) -> Report:
    """One collection: only its own year's publication is read (a GIS asks for items page after page)."""
    m = COLLECTION_ID.match(collection_id or "")
    report = None
    if m and int(m["year"]) in published_years(municipality):
        pub = services.publication(municipality, periods.parse_period(m["year"]))
        report = pub.reports.get(m["level"])
    if report is None:
        raise NotFound("collection_not_found", _("Fant ikke samlingen «%(id)s».", id=collection_id))
    return report


def zone_extent(report: Report) -> list[float] | None:
    """The zones' bounding box in CRS84 (lon/lat), or None when no zone has a boundary."""
    boxes = [(z.min_lon, z.min_lat, z.max_lon, z.max_lat) for z in report.zones if z.min_lon is not None]
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """OGC API's `bbox=minLon,minLat,maxLon,maxLat` (CRS84)."""
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts) or parts[0] > parts[2] or parts[1] > parts[3]:
        raise DomainError("invalid_query", _("bbox er fire tall: minLon,minLat,maxLon,maxLat (CRS84)."))
    return parts[0], parts[1], parts[2], parts[3]


def _stored_year(municipality: Municipality, collection_id: str) -> tuple[ReportPublication, str]:
    """The stored publication row of a collection (its content left unloaded) and the level."""
    m = COLLECTION_ID.match(collection_id or "")
    row = store.stored(municipality, periods.parse_period(m["year"])) if m else None
    if row is None:
        raise NotFound("collection_not_found", _("Fant ikke samlingen «%(id)s».", id=collection_id))
    return row, m["level"]


def _features_of(municipality: Municipality, collection_id: str):
    """The collection's stored features as a query (rendered now when this build has none yet)."""
    row, level = _stored_year(municipality, collection_id)
    where = [ReportFeature.publication_id == row.id, ReportFeature.level == level,
             ReportFeature.built_at == row.built_at]
    if not db.session.scalar(sa.select(sa.exists().where(*where))):
        features.store_features(municipality, row)
        if not db.session.scalar(sa.select(sa.exists().where(*where))):
            raise NotFound("collection_not_found", _("Fant ikke samlingen «%(id)s».", id=collection_id))
    return where


def _feature_rows():
    """A stored feature as `_as_feature` takes it: code, properties, the zone's boundary and the box."""
    return (sa.select(ReportFeature.code, ReportFeature.properties, Zone.boundary, ReportFeature.min_lon,
                      ReportFeature.min_lat, ReportFeature.max_lon, ReportFeature.max_lat)
            .join(Zone, Zone.id == ReportFeature.zone_id))


def _as_feature(code, properties, boundary, box) -> dict:
    out = {"type": "Feature", "id": code, "properties": properties,
           "geometry": json.loads(boundary) if boundary else None}
    if box[0] is not None:
        out["bbox"] = list(box)
    return out


def page(municipality: Municipality, collection_id: str, bbox, limit: int, offset: int) -> tuple[list[dict], int]:
    """One page of a collection's features (those whose box meets `bbox`), and how many match in all: read by
    position with LIMIT/OFFSET from the stored features, so a page of 100 costs the same from any collection."""
    where = _features_of(municipality, collection_id)
    if bbox is None:
        # positions run 0..n-1: the count is the last position + 1 and a page starts at its position (both one
        # step down the unique index), whatever the size of the collection
        last = db.session.scalar(sa.select(sa.func.max(ReportFeature.position)).where(*where))
        matched = 0 if last is None else last + 1
        rows = db.session.execute(_feature_rows().where(
            *where, ReportFeature.position >= offset, ReportFeature.position < offset + limit)
            .order_by(ReportFeature.position)).all()
    else:
        where += [ReportFeature.min_lon.is_not(None), ReportFeature.max_lon >= bbox[0],
                  ReportFeature.min_lon <= bbox[2], ReportFeature.max_lat >= bbox[1], ReportFeature.min_lat <= bbox[3]]
        matched = db.session.scalar(sa.select(sa.func.count()).select_from(ReportFeature).where(*where))
        rows = db.session.execute(_feature_rows().where(*where).order_by(ReportFeature.position)
                                  .limit(limit).offset(offset)).all()
    return [_as_feature(code, props, boundary, box) for code, props, boundary, *box in rows], matched


def stored_feature(municipality: Municipality, collection_id: str, feature_id: str) -> dict:
    """One zone of a collection, by its code."""
    where = _features_of(municipality, collection_id)
    found = db.session.execute(_feature_rows().where(*where, ReportFeature.code == feature_id)).first()
    if found is None:
        raise NotFound("feature_not_found", _("Fant ikke sonen «%(id)s».", id=feature_id))
    code, props, boundary, *box = found
    return _as_feature(code, props, boundary, box)


def _geometry_wkb(geometry: dict | None, transformer):
    import shapely
    from shapely.geometry import MultiPolygon, shape

    if not geometry:
        return None
    geom = shape(geometry)
    if geom.geom_type == "Polygon":
        geom = MultiPolygon([geom])
    return shapely.to_wkb(shapely.transform(geom, transformer, interleaved=False))


def geopackage(report: Report, epsg: int = 25833) -> bytes:
    """The report as a GeoPackage: one layer of zone polygons with the figures, and a `metadata` table."""
    import numpy as np
    from pyogrio.raw import write
    from pyproj import Transformer

    if epsg not in EPSG_CHOICES:
        raise DomainError("epsg_invalid", _("Koordinatsystemet EPSG:%(epsg)s støttes ikke. Velg %(choices)s.",
                                            epsg=epsg, choices=", ".join(str(e) for e in EPSG_CHOICES)))
    if not report.zones:  # the municipality as a whole (a period shorter than a year): no polygons to write
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=report.level or "–"))
    transform = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True).transform
    rows = features.zone_features(report)
    geometry = np.array([_geometry_wkb(f["geometry"], transform) for f in rows], dtype=object)
    names = list(rows[0]["properties"]) if rows else ["code"]
    data, masks = [], []
    for name in names:
        values = [f["properties"].get(name) for f in rows]
        if name in COUNT_FIELDS:
            data.append(np.array([v or 0 for v in values], dtype=np.int64))
            masks.append(np.array([v is None for v in values], dtype=bool))
        elif name in RATE_FIELDS or name in ("need", "need_reach", "need_reach_low", "need_reach_high",
                                             "levekarsindeks"):
            data.append(np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64))
            masks.append(None)
        else:
            data.append(np.array([None if v is None else str(v) for v in values], dtype=object))
            masks.append(None)
    layer = f"opptak_{report.level}_{report.period.label}".replace("-", "_")
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"source": "Opplevelseskortet", "municipality": f"{report.municipality.number} {report.municipality.name}",
            "period": report.period.label, "level": report.level, "layer": layer, "crs": f"EPSG:{epsg}",
            "rule_version": RULE_VERSION,
            "suppression": f"counts 1-{current_app.config['SUPPRESS_MIN_COUNT'] - 1} and the cells that would reveal "
                           "them are NULL; their SSB symbol is in the _status column beside them",
            "need": "need = the chosen indicator's numerator, or its share (%) of its denominator; reach = active "
                    "children / need, 95 % Wilson interval",
            "generated_at": generated}
    fd, path = tempfile.mkstemp(suffix=".gpkg")
    os.close(fd)
    os.unlink(path)  # GDAL makes the file itself
    try:
        write(path, geometry, data, names, field_mask=masks if any(m is not None for m in masks) else None,
                      layer=layer, driver="GPKG", geometry_type="MultiPolygon", crs=f"EPSG:{epsg}",
                      layer_metadata={"DESCRIPTION": f"{report.municipality.name}: {report.period.label}"},
                      dataset_metadata={k.upper(): v for k, v in meta.items()})
        keys = np.array(list(meta), dtype=object)
        vals = np.array([str(v) for v in meta.values()], dtype=object)
        write(path, None, [keys, vals], ["key", "value"], layer="metadata", driver="GPKG", append=True)
        with open(path, "rb") as f:
            return f.read()
    finally:
        if os.path.exists(path):
            os.unlink(path)

