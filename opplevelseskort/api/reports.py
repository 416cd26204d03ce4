"""API endpoint: the suppressed uptake report (analyst and admin tokens)."""

from __future__ import annotations

from flask import Response, request, stream_with_context
from flask_login import current_user

from ..core.models import Role
from ..core.permissions import roles_required
from ..reports import services
from .views import bp


@bp.get("/reports/uptake")
@roles_required(Role.ANALYST, Role.ADMIN)
def uptake_report():
    """Same numbers as the page and the CLI: ?period=P&level=L&format=csv|jsonstat|geojson."""
    muni = services.municipality_for(current_user, request.args.get("municipality"))
    if request.args.get("breakdown"):
        rep = services.breakdown_report(muni, services.parse_period(request.args.get("period", "")),
                                        request.args.get("level", "grunnkrets"), request.args["breakdown"])
        return Response(stream_with_context(services.breakdown_csv(rep)), content_type="text/csv; charset=utf-8")
    report = services.uptake_report(muni, services.parse_period(request.args.get("period", "")),
                                    request.args.get("level", "grunnkrets"))
    body, mimetype = services.render(report, request.args.get("format", "jsonstat"),
                                     "," if request.args.get("sep") == "comma" else ";")
    if not isinstance(body, str):
        return Response(stream_with_context(body), content_type=mimetype)
    return Response(body, content_type=mimetype)
