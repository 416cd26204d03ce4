"""The report's file formats: CSV, JSON-stat 2.0 and GeoJSON for the zone tables, CSV for breakdowns and the
grant report. Each writes what the protected publication holds: a hidden cell is ':' (never 0) and a figure the
plan does not publish at a level is '..', the same in every format."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.exports import csv_writer
from ..core.labels import label
from . import gis
from .services import MEASURES, Report
from .tables import BREAKDOWN_MEASURES, TOTAL


def csv_rows(report: Report, delimiter: str = ";") -> Iterator[str]:
    """Stream the report as CSV (UTF-8); suppressed cells are ':' (never 0)."""
    out = io.StringIO()
    w = csv_writer(out, delimiter=delimiter)

    def flush():
        text = out.getvalue()
        out.seek(0)
        out.truncate(0)
        return text

    w.writerow(["zone_code", "zone_name", "level", "period", *MEASURES])
    yield "\ufeff" + flush()
    for zone, cells in report.rows():
        w.writerow([zone.code if zone else "total", zone.name if zone else report.municipality.name, report.level,
                    report.period.label,
                    *[cells[m].status or ("" if cells[m].value is None else cells[m].value) for m in MEASURES]])
        yield flush()


def jsonstat(report: Report) -> dict:
    """A JSON-stat 2.0 dataset: dimensions zone, period, measure; status ':' marks suppressed cells."""
    zone_codes = [z.code for z in report.zones] + ["total"]
    labels = {z.code: z.name for z in report.zones}
    labels["total"] = report.municipality.name
    values, status = [], {}
    for zi, code in enumerate(zone_codes):
        for mi, m in enumerate(MEASURES):
            idx = zi * len(MEASURES) + mi
            cell = report.cells[code][m]
            values.append(None if cell.status else cell.value)
            if cell.status:
                status[str(idx)] = cell.status
    return {
        "version": "2.0", "class": "dataset",
        "label": f"Opplevelseskortet: uptake by zone ({report.level}), {report.period.label}",
        "source": "Opplevelseskortet", "updated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "id": ["zone", "period", "measure"], "size": [len(zone_codes), 1, len(MEASURES)],
        "role": {"geo": ["zone"], "time": ["period"], "metric": ["measure"]},
        "dimension": {
            "zone": {"label": "zone", "category": {"index": zone_codes, "label": labels}},
            "period": {"label": "period", "category": {"index": [report.period.label],
                                                       "label": {report.period.label: report.period.label}}},
            "measure": {"label": "measure", "category": {"index": MEASURES,
                                                         "label": {m: label("measure", m) for m in MEASURES}}},
        },
        "value": values, "status": status,
    }


def geojson(report: Report) -> dict:
    """Zone boundaries in WGS84 with the measures as properties (suppressed: null plus a status property)."""
    features = []
    for zone in report.zones:
        features.append({"type": "Feature", "id": zone.code, "properties": report.zone_properties(zone),
                         "geometry": json.loads(zone.boundary) if zone.boundary else None})
    return {"type": "FeatureCollection", "features": features}


GPKG_MIME = "application/geopackage+sqlite3"
EXTENSIONS = {"csv": "csv", "jsonstat": "json", "geojson": "geojson", "gpkg": "gpkg"}


def render(report: Report, fmt: str, delimiter: str = ";", epsg: int = 25833):
    if fmt in ("gpkg", "geojson") and not report.zones:
        raise DomainError("format_not_for_level", _(
            "Kommunen som helhet er én rad uten sonegrenser: bruk csv eller jsonstat (eller et sonenivå for kart)."))
    if fmt == "gpkg":
        return gis.geopackage(report, epsg), GPKG_MIME
    if fmt == "csv":
        return csv_rows(report, delimiter), "text/csv; charset=utf-8"
    if fmt == "jsonstat":
        return json.dumps(jsonstat(report), ensure_ascii=False), "application/json"
    if fmt == "geojson":
        return json.dumps(geojson(report), ensure_ascii=False), "application/geo+json"
    raise DomainError("format_invalid", _("Ukjent format «%(fmt)s». Bruk csv, jsonstat, geojson eller gpkg.",
                                          fmt=fmt))



def grant_csv(data: dict) -> str:
    out = io.StringIO()
    w = csv_writer(out, delimiter=";")
    w.writerow(["section", "key", "subkey", "value"])
    w.writerow(["children_reached", "", "", data["children_reached"]])
    w.writerows([["age_gender", b, g, n] for b, g, n in data["by_band_gender"]])
    w.writerow(["checkins", "", "", data["checkins"]])
    w.writerows([["checkins_by_category", c, "", n] for c, n, _v in data["by_category"]])
    w.writerows([["value_nok_by_category", c, "", v] for c, _n, v in data["by_category"]])
    w.writerow(["value_nok", "", "", data["value_nok"]])
    w.writerow(["loans", "", "", data["loans"]])
    return "\ufeff" + out.getvalue()


def need_csv(table) -> str:
    """Need beside uptake (reports.need): one row per zone, hidden figures as SSB's symbol in their status column,
    the years pooled and the indicator's year on every row."""
    out = io.StringIO()
    w = csv_writer(out, delimiter=";")
    w.writerow(["zone_code", "zone_name", "level", "years", "pooled", "indicator", "indicator_years", "need",
                "need_status", "children_with_card", "children_with_card_status", "active_children",
                "active_children_status", "reach", "reach_low_95", "reach_high_95", "unmet_need"])
    years = "-".join(str(y) for y in (table.years[0], table.years[-1])) if table.pooled else str(table.years[0])
    for r in table.rows:
        w.writerow([r.zone.code, r.zone.name, table.level, years, "yes" if table.pooled else "no", table.key,
                    " ".join(str(y) for y in table.indicator_years), _num(r.need), r.need_status or "",
                    "" if r.cards is None else r.cards, r.cards_status or "",
                    "" if r.active is None else r.active, r.active_status or "",
                    _num(r.reach, 4), _num(r.low, 4), _num(r.high, 4), _num(r.unmet)])
    return "\ufeff" + out.getvalue()


def _num(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def breakdown_csv(rep: dict, delimiter: str = ";") -> Iterator[str]:
    """A breakdown as CSV: every zone of the level, then the municipality, each category a row."""
    out = io.StringIO()
    w = csv_writer(out, delimiter=delimiter)
    w.writerow(["zone_code", "zone_name", "level", "period", rep["by"], *BREAKDOWN_MEASURES])
    yield "\ufeff" + out.getvalue()
    rows = [(z.code, z.name) for z in rep["zones"]] + [(TOTAL, rep["municipality"].name)]
    for code, name in rows:
        for cat in rep["categories"]:
            out.seek(0)
            out.truncate(0)
            cells = [rep["cells"][(code, cat, m)] for m in BREAKDOWN_MEASURES]
            w.writerow([code, name, rep["level"], rep["period"].label, cat, *[c.status or c.value for c in cells]])
            yield out.getvalue()
