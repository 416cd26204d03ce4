"""A stored yearly publication's zones as features: their figures, need and levekårsindeks, rendered once per build
(the build job does it; the OGC API pages read them)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.orm import defer

from ..core.errors import DomainError
from ..core.models import Municipality
from ..extensions import db
from . import levekar, need, store
from .models import ReportFeature, ReportPublication
from .publication import Report


def zone_features(report: Report) -> list[dict]:
    """The zones of a published report as GeoJSON features in WGS84 (CRS84), with need, reach and index."""
    year = report.period.start.year
    needs = _needs(report.municipality, year, report.level)
    index = index_by_zone(report.municipality, year)
    features = []
    for zone in report.zones:
        props = report.zone_properties(zone)
        row = needs.get(zone.code)
        props.update({"need": row.need if row else None, "need_reach": row.reach if row else None,
                      "need_reach_low": row.low if row else None, "need_reach_high": row.high if row else None,
                      "levekarsindeks": index.get(zone.code)})
        features.append({"type": "Feature", "id": zone.code, "properties": props,
                         "geometry": json.loads(zone.boundary) if zone.boundary else None,
                         "bbox": [zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat]
                         if zone.min_lon is not None else None})
    return features


def store_features(municipality: Municipality, row: ReportPublication) -> int:
    """Render a stored yearly publication's zones once (every level), replacing those of an earlier build. Rendered
    first, written after: the old rows go and the new come in one short write at the end."""
    pub = store.load(municipality, row)
    rows = []
    for level, report in pub.reports.items():
        for position, (zone, f) in enumerate(zip(report.zones, zone_features(report), strict=True)):
            box = f["bbox"] or [None] * 4
            rows.append({"publication_id": row.id, "built_at": row.built_at, "level": level, "position": position,
                         "zone_id": zone.id, "code": zone.code, "properties": f["properties"], "min_lon": box[0],
                         "min_lat": box[1], "max_lon": box[2], "max_lat": box[3]})
    db.session.execute(sa.delete(ReportFeature).where(ReportFeature.publication_id == row.id))
    if rows:
        db.session.execute(sa.insert(ReportFeature), rows)
    return len(rows)


def _needs(municipality: Municipality, year: int, level: str) -> dict:
    key = need.default_key(need.indicator_keys(municipality))
    if not key:
        return {}
    try:
        return {r.zone.code: r for r in need.need_table(municipality, year, level, key).rows}
    except DomainError:
        return {}  # no need figures for this year or level: the columns stay empty


def index_by_zone(municipality: Municipality, year: int) -> dict:
    """The levekårsindeks per zone code for the year (the latest indicator year not after it) at every level that
    has one, or {}."""
    years = levekar.years_of(municipality)
    if not years:
        return {}
    out = {}
    for level in levekar.levels(municipality):
        try:
            table = levekar.compute(municipality, max([y for y in years if y <= year] or [min(years)]), level=level)
        except DomainError:
            continue  # fewer than ten zones or three indicators with values: SSB's method gives no index
        out.update({r.zone.code: r.index for r in table.rows})
    return out


def missing_years(municipality: Municipality) -> list[ReportPublication]:
    """The municipality's stored years whose latest build has no features yet (a first build by
    `services.publication_build`, or a build since the last rendering)."""
    rendered = sa.select(ReportFeature.id).where(ReportFeature.publication_id == ReportPublication.id,
                                                 ReportFeature.built_at == ReportPublication.built_at).exists()
    return list(db.session.scalars(sa.select(ReportPublication).options(defer(ReportPublication.content)).where(
        ReportPublication.municipality_id == municipality.id, sa.func.length(ReportPublication.period) == 4,
        ~rendered)).all())
