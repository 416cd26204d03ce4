"""Need beside uptake: per zone, the children in need (estimated from an indicator the municipality chooses), the
cards issued and the children active, reach (active / need) with an interval for how sure a zone's figure is, and
the zones to go to first.

Every count of children comes from the period's stored, protected publication: a figure hidden there stays hidden
here, and reach is computed only from shown figures (arithmetic on published cells discloses nothing new). The
need comes from SSB's published statistics (already protected by SSB). Small zones can be pooled over two or three
years: the published yearly figures are added up (child-years active over child-years in need), so a pooled zone
is shown only where every year's figure was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.models import Municipality
from ..extensions import db
from ..zones.models import Zone
from . import periods, published, services
from .models import ZoneIndicator
from .suppression import SUPPRESSED
from .tables import LOW_INCOME_KEY

Z95 = 1.959963984540054  # the normal quantile for a 95 % interval
POOL_YEARS = (1, 2, 3)


@dataclass
class NeedRow:
    zone: Zone
    need: float | None  # children in need (child-years when pooled); None: the indicator gives none for the zone
    need_status: str | None  # SSB's symbol when the indicator is missing for the zone
    cards: int | None  # None: hidden by disclosure control (status says why)
    cards_status: str | None
    active: int | None
    active_status: str | None
    reach: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def unmet(self) -> float | None:
        """Children in need not (yet) active: where to go."""
        if self.need is None or self.active is None:
            return None
        return max(0.0, self.need - self.active)


@dataclass
class NeedTable:
    municipality: Municipality
    years: list[int]  # the years pooled (one unless pooled)
    level: str
    key: str
    indicator_years: list[int]  # the indicator's year used for each of `years`
    rows: list[NeedRow]

    @property
    def label(self) -> str:
        return str(self.years[0]) if len(self.years) == 1 else f"{self.years[0]}–{self.years[-1]}"

    @property
    def pooled(self) -> bool:
        return len(self.years) > 1

    def where_to_go(self, n: int = 5) -> list[NeedRow]:
        """The zones with the most children in need not reached (highest need, lowest reach), most first."""
        return [r for r in self.rows if r.unmet][:n]


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson's score interval for a proportion: honest for small zones and for proportions near 0 or 1 (where
    the plain ± interval runs outside 0–1). More active children than estimated need caps at 1."""
    if not n or n <= 0:
        return None
    p = min(1.0, max(0.0, successes / n))
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, round(centre - half, 12)), min(1.0, round(centre + half, 12))  # 1 - 1e-16 is 1


def indicator_keys(municipality: Municipality) -> list[str]:
    """The indicators imported for the municipality's zones (the ones a need can be estimated from)."""
    return list(db.session.scalars(
        sa.select(ZoneIndicator.key).join(Zone, Zone.id == ZoneIndicator.zone_id)
        .where(Zone.municipality_id == municipality.id).distinct().order_by(ZoneIndicator.key)))


def default_key(keys: list[str]) -> str | None:
    for wanted in (LOW_INCOME_KEY, services.ELIGIBLE_KEY):
        if wanted in keys:
            return wanted
    return keys[0] if keys else None


def _estimate(value, numerator, denominator, numerator_status=None) -> float | None:
    """Children in need from one indicator row: its numerator (a count; SSB's "-" is nil, none), else its share
    (%) of its denominator, else its value as a count."""
    if numerator is None and numerator_status == "-":
        return 0.0
    if numerator is not None:
        return float(numerator)
    if value is not None and denominator is not None:
        return float(value) * float(denominator) / 100.0
    return float(value) if value is not None else None


def _indicator_year(municipality: Municipality, key: str, year: int) -> int | None:
    """The indicator's latest year not after `year` (SSB publishes a year or two behind), else its first."""
    years = sorted(db.session.scalars(
        sa.select(ZoneIndicator.year).join(Zone, Zone.id == ZoneIndicator.zone_id)
        .where(Zone.municipality_id == municipality.id, ZoneIndicator.key == key).distinct()))
    if not years:
        return None
    earlier = [y for y in years if y <= year]
    return earlier[-1] if earlier else years[0]


def need_by_zone(municipality: Municipality, level: str, key: str, year: int) -> tuple[dict, dict]:
    """Children in need per zone of the level (the zone's own figure, else the sum of the zones it holds) and
    SSB's symbol where the figure is missing."""
    all_zones, tree = services.report_zones(municipality)
    if level not in tree.row_of:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    row_of = tree.row_of[level]
    rows = db.session.execute(
        sa.select(ZoneIndicator.zone_id, ZoneIndicator.value, ZoneIndicator.numerator, ZoneIndicator.denominator,
                  ZoneIndicator.status, ZoneIndicator.numerator_status)
        .where(ZoneIndicator.key == key, ZoneIndicator.year == year,
               ZoneIndicator.zone_id.in_([z.id for z in all_zones] or [0]))).all()
    row_ids = {zid for zid in row_of.values()}
    own = {zid: _estimate(v, n, d, ns) for zid, v, n, d, _s, ns in rows if zid in row_ids}
    status = {zid: s for zid, v, n, d, s, ns in rows if zid in row_ids and _estimate(v, n, d, ns) is None and s}
    summed: dict[int, float] = {}
    for zid, v, n, d, s, ns in rows:
        target = row_of.get(zid)
        if target is None or zid == target or target in own:
            continue
        estimate = _estimate(v, n, d, ns)
        if estimate is not None:
            summed[target] = summed.get(target, 0.0) + estimate
        elif s:
            status[target] = ".."  # a part SSB could not give: the sum is not available either
    need = {zid: own.get(zid) if zid in own else (None if zid in status else summed.get(zid)) for zid in row_ids}
    return need, status


def need_table(municipality: Municipality, year: int, level: str, key: str, pool: int = 1) -> NeedTable:
    """The need beside uptake table for a year (or the `pool` years up to it), highest unmet need first."""
    if pool not in POOL_YEARS:
        raise DomainError("pool_invalid", _("Slå sammen 1, 2 eller 3 år."))
    if not key:
        raise DomainError("need_indicator_missing", _(
            "Ingen indikator er importert ennå. Importer for eksempel SSBs «barn i husholdninger med vedvarende lav "
            "inntekt» per sone først."))
    years = list(range(year - pool + 1, year + 1))
    reports = [published.uptake_report(municipality, periods.parse_period(str(y)), level) for y in years]
    indicator_years, needs = [], []
    for y in years:
        iy = _indicator_year(municipality, key, y)
        if iy is None:
            raise DomainError("need_indicator_missing", _("Indikatoren «%(key)s» finnes ikke for kommunen.", key=key))
        indicator_years.append(iy)
        needs.append(need_by_zone(municipality, level, key, iy))
    rows = []
    for z in reports[-1].zones:
        cards = [services.shown(r.cells[z.code]["children_with_card"]) if z.code in r.cells else None for r in reports]
        active = [services.shown(r.cells[z.code]["active_children"]) if z.code in r.cells else None for r in reports]
        need = [n[0].get(z.id) for n in needs]
        row = NeedRow(z, _total(need), next((n[1][z.id] for n in needs if z.id in n[1]), None),
                      _total(cards), _status(reports, z.code, "children_with_card") if None in cards else None,
                      _total(active), _status(reports, z.code, "active_children") if None in active else None)
        if row.active is not None and row.need:
            row.reach = row.active / row.need
            row.low, row.high = wilson(row.active, row.need)
        rows.append(row)
    rows.sort(key=lambda r: (r.unmet is None, -(r.unmet or 0), -(r.need or 0), r.zone.code))
    return NeedTable(municipality, years, level, key, indicator_years, rows)


def _total(values: list):
    """The pooled figure: the sum over the years, or None when any year's figure is not shown."""
    return None if None in values else sum(values)


def _status(reports, code: str, measure: str) -> str:
    """Why a (pooled) figure is not shown: the first year's reason it was hidden."""
    for r in reports:
        cell = r.cells.get(code, {}).get(measure)
        if cell is not None and cell.status:
            return cell.status
    return SUPPRESSED
