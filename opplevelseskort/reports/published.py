"""What readers ask of a period's protected services.publication (read from its stored build, never solved in a request):
a level's uptake report, the municipality as a whole, the age and gender breakdowns, the grant report, reach
beside low income, and the levels a period publishes."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from ..accounts.models import User
from ..core.errors import DomainError
from ..core.labels import label
from ..core.models import Municipality
from ..core.tenancy import current_municipality
from ..extensions import db
from ..zones.models import Zone
from . import periods, plan, services
from .models import ZoneIndicator
from .publication import Period, Report


def uptake_report(municipality: Municipality, period: Period, level: str = "grunnkrets") -> Report:
    """Counts and rates per zone with disclosure control applied (the only view analysts ever get); level
    `municipality` is the municipality's own row, published for every period."""
    pub = services.publication(municipality, period)
    if level == services.MUNICIPALITY_LEVEL:
        row = pub.municipality_row
        return Report(row.municipality, row.period, services.MUNICIPALITY_LEVEL, [], row.cells)
    if level not in pub.levels:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    if level not in pub.reports:
        where = ", ".join(str(label("zone_level", lv)) for lv in pub.reports)
        raise DomainError("level_not_published", _(
            "Tallene for denne perioden publiseres ikke på nivået «%(level)s», der de er for små (perioder kortere "
            "enn et år, eller soner med få barn). Velg et helt år, eller et av disse nivåene: %(levels)s.",
            level=label("zone_level", level), levels=where or str(_("hele kommunen"))))
    return pub.reports[level]


def municipality_report(municipality: Municipality, period: Period) -> Report:
    """The municipality as a whole: the one row every period publishes (a quarter, a month: no zones)."""
    return services.publication(municipality, period).municipality_row


def municipality_for(user: User | None, number: str | None) -> Municipality:
    """The municipality a report is about: the one named (within the user's reach), else the request's own."""
    if number:
        q = db.select(Municipality).where(Municipality.number == number)
        if user is not None and user.municipality_id is not None:
            q = q.where(Municipality.id == user.municipality_id)
        muni = db.session.scalar(q)
    elif user is not None and user.municipality_id is not None:
        muni = db.session.get(Municipality, user.municipality_id)
    else:
        muni = current_municipality()
    if muni is None:
        if number:
            raise DomainError("municipality_unknown", _("Ukjent kommune: %(number)s.", number=number))
        raise DomainError("municipality_unknown", _("Ukjent kommune."))
    return muni


def reach_vs_low_income(report: Report, year: int) -> list[dict]:
    """Each zone's reach set against its share of children in persistent low-income households."""
    ids = {z.id: z for z in report.zones}
    found = db.session.execute(db.select(ZoneIndicator.zone_id, ZoneIndicator.value, ZoneIndicator.status).where(
        ZoneIndicator.key == services.LOW_INCOME_KEY, ZoneIndicator.year == year,
        ZoneIndicator.zone_id.in_(list(ids) or [0]))).all()
    rows = {zid: v for zid, v, _s in found}
    symbols = {zid: s for zid, v, s in found if v is None and s}
    out = []
    for z in report.zones:
        cell = report.cells[z.code]["reach"]
        out.append({"zone": z, "reach": services.shown(cell), "reach_suppressed": cell.suppressed,
                    "reach_status": cell.status, "low_income": rows.get(z.id), "low_income_status": symbols.get(z.id)})
    return sorted(out, key=lambda r: (-(r["low_income"] or 0), r["reach"] if r["reach"] is not None else 9))


def grant_report(municipality: Municipality, year: int) -> dict:
    """Children reached by age band and gender, check-ins and value by category, loans (for funders).

    The grant tables are part of the year's services.publication, so the same disclosure control covers them and the zone
    tables together. A category's value (visits x price) is hidden with its visit count.
    """
    return services.publication(municipality, Period(str(year), date(year, 1, 1), date(year + 1, 1, 1))).grant


def breakdown_report(municipality: Municipality, period: Period, level: str, by: str) -> dict:
    """Active children (at their first visit) and check-ins per zone and age band or gender, protected with
    every other table of the period."""
    if by not in ("age", "gender"):
        raise DomainError("breakdown_invalid", _("Ukjent inndeling «%(value)s». Bruk age eller gender.", value=by))
    pub = services.publication(municipality, period)
    if level == services.MUNICIPALITY_LEVEL:
        found = next((b for (lv, b_by), b in pub.breakdowns.items() if b_by == by), None)
        if found is None:
            raise DomainError("breakdown_not_published", _(
                "Fordelingen publiseres bare for hele år (%(period)s er kortere).", period=period.label))
        return {**found, "zones": [], "level": services.MUNICIPALITY_LEVEL}
    if level not in pub.levels:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    if (level, by) not in pub.breakdowns:
        where = ", ".join(str(label("zone_level", lv)) for lv in plan.levels_for(
            by, pub.levels, yearly=periods.is_calendar_year(period)))
        raise DomainError("breakdown_not_published", _(
            "Fordelingen publiseres ikke på nivået «%(level)s», der tallene er for små. Den publiseres for "
            "hele kommunen og på disse nivåene: %(levels)s.", level=label("zone_level", level), levels=where or "–"))
    return pub.breakdowns[(level, by)]


def levels_to_choose(municipality: Municipality, period_text: str) -> list[str]:
    """The zone levels the report page offers for what the analyst typed: those the plan publishes for that period,
    or every level while the text is not yet a period (the page then says what is wrong with it)."""
    try:
        return published_levels(municipality, periods.parse_period(period_text))
    except DomainError:
        return levels_of(municipality)


def published_levels(municipality: Municipality, period: Period) -> list[str]:
    """The zone levels (finest first) the zone table is published at for this period (the plan, and zones large
    enough)."""
    return list(services.publication(municipality, period).reports)


def plan_for(municipality: Municipality) -> list[tuple[object, list[str], list[str] | None]]:
    """The services.publication plan for this municipality's levels, with the levels' names: what the report page shows."""
    levels = services.report_zones(municipality)[1].levels

    def names(lvs):
        return None if lvs is None else [str(label("zone_level", lv)) for lv in lvs]

    return [(table, names(year), names(shorter)) for table, year, shorter in plan.describe(levels)]


def levels_of(municipality: Municipality) -> list[str]:
    """The zone levels the municipality has (a report can be asked for at each)."""
    return sorted(set(db.session.scalars(db.select(Zone.level).filter_by(municipality_id=municipality.id))))

