"""API endpoint: the suppressed uptake report (analyst and admin tokens)."""

from __future__ import annotations

from typing import Literal

from flask import Response, stream_with_context
from flask_login import current_user
from pydantic import ConfigDict, Field, field_validator

from ..accounts.permissions import scope_required
from ..core.exports import attachment
from ..core.models import Role
from ..core.permissions import roles_required
from ..reports import formats, periods
from ..reports import published as services
from .schema import Answer, Schema, operation
from .views import bp

PERIOD = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2])|-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})?$"


class UptakeQuery(Schema):
    model_config = ConfigDict(extra="ignore")  # a query string may carry more (a cache buster)

    period: str = Field(pattern=PERIOD, description="2026, 2026-Q1 or 2026-03 (a range of dates only when it is one "
                                                    "of these: only whole periods are published, protected together)")
    level: str = Field("grunnkrets", max_length=40, pattern="^[a-z_]+$",
                       description="The zone level, or `municipality` for the municipality as a whole")
    format: Literal["csv", "jsonstat", "geojson", "gpkg"] = "jsonstat"
    epsg: Literal["25833", "25832", "25835"] = Field("25833", description="The GeoPackage's coordinate system "
                                                                       "(EUREF89 UTM 33, 32 or 35)")
    breakdown: Literal["age", "gender"] | None = Field(
        None, description="CSV of active children and check-ins per zone and age band or gender")
    sep: Literal["comma", "semicolon"] = Field("semicolon", description="CSV separator")
    municipality: str | None = Field(None, pattern="^[0-9]{4}$", description="Municipality number (county tokens)")

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value):
        # The stable code and its helpful message come from the one period parser (a DomainError passes through).
        periods.parse_period(value if isinstance(value, str) else "")
        return value


@bp.get("/reports/uptake")
@roles_required(Role.ANALYST, Role.ADMIN)
@scope_required("reports")
@operation("Suppressed uptake by zone (analyst or admin tokens)", operation_id="uptakeReport", query=UptakeQuery,
           responses={200: Answer("The report", media={"application/json": {"type": "object"},
                                                       "application/geo+json": {"type": "object"},
                                                       "application/geopackage+sqlite3": {"type": "string",
                                                                                          "format": "binary"},
                                                       "text/csv": {"type": "string"}}),
                      422: Answer("Bad period, level or format", codes=["invalid_query", "period_invalid", "period_out_of_range",
                                                                         "municipality_unknown", "level_unknown",
                                                                         "level_not_published",
                                                                         "breakdown_not_published"])})
def uptake_report(query: UptakeQuery):
    """Same numbers as the page and the CLI: ?period=P&level=L&format=csv|jsonstat|geojson|gpkg."""
    muni = services.municipality_for(current_user, query.municipality)
    period = periods.parse_period(query.period)
    if query.breakdown:
        rep = services.breakdown_report(muni, period, query.level, query.breakdown)
        return Response(stream_with_context(formats.breakdown_csv(rep)), content_type="text/csv; charset=utf-8")
    report = services.uptake_report(muni, period, query.level)
    body, mimetype = formats.render(report, query.format, "," if query.sep == "comma" else ";", epsg=int(query.epsg))
    if query.format == "gpkg":
        return Response(body, content_type=mimetype,
                        headers=attachment("opptak", query.level, period.label, ext="gpkg"))
    if not isinstance(body, str):
        return Response(stream_with_context(body), content_type=mimetype)
    return Response(body, content_type=mimetype)


class GrantQuery(Schema):
    model_config = ConfigDict(extra="ignore")

    year: int = Field(ge=periods.FIRST_REPORT_YEAR, le=2100, description="The calendar year")
    format: Literal["csv", "json"] = "json"
    municipality: str | None = Field(None, pattern="^[0-9]{4}$", description="Municipality number (county tokens)")


@bp.get("/reports/grant")
@roles_required(Role.ANALYST, Role.ADMIN)
@scope_required("reports")
@operation("The year's grant report (analyst or admin tokens)", operation_id="grantReport", query=GrantQuery,
           responses={200: Answer("The grant report", media={"application/json": {"type": "object"},
                                                             "text/csv": {"type": "string"}}),
                      422: Answer("Bad year", codes=["invalid_query", "period_out_of_range", "municipality_unknown",
                                                    "level_unknown"])})
def grant_report(query: GrantQuery):
    """The same figures as the grant page: children reached by age band and gender, visits and value by category,
    loans; hidden figures are ':'."""
    muni = services.municipality_for(current_user, query.municipality)
    data = services.grant_report(muni, periods.parse_period(str(query.year)).start.year)
    if query.format == "csv":
        return Response(formats.grant_csv(data), content_type="text/csv; charset=utf-8")
    return {"year": data["year"], "children_reached": data["children_reached"], "checkins": data["checkins"],
            "value_nok": data["value_nok"], "loans": data["loans"],
            "by_age_band_and_gender": [{"age_band": b, "gender": g, "children": n} for b, g, n in data["by_band_gender"]],
            "by_category": [{"category": c, "checkins": n, "value_nok": v} for c, n, v in data["by_category"]]}
