"""Zone reports: periods, indicators, measures computed in SQL, roll-up, disclosure control, exports."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from utstyr.models import Borrower, Loan, LoanLine, Location

from ..cards.models import Card, Child
from ..checkin.models import CheckIn
from ..core.errors import DomainError
from ..core.exports import csv_writer
from ..core.labels import label
from ..core.models import Municipality, User, Zone
from ..extensions import db
from ..partners.models import Booking, BookingStatus, Occasion
from .models import ZoneIndicator
from .suppression import SUPPRESSED, Cell, primary_count

log = logging.getLogger(__name__)

ELIGIBLE_KEY = "children_6_17"
LOW_INCOME_KEY = "low_income_children_share"
COUNT_MEASURES = ["children_with_card", "active_children", "checkins", "offers_used", "no_shows", "loans",
                  "borrowers", "value_nok"]
RATE_MEASURES = ["uptake", "reach"]
MEASURES = COUNT_MEASURES + RATE_MEASURES


# --- periods ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # exclusive

    @property
    def start_dt(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_dt(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)


def parse_period(text: str) -> Period:
    """`2026`, `2026-Q1`, `2026-03` or `2026-01-01..2026-06-30` (inclusive end)."""
    t = (text or "").strip()
    try:
        if m := re.fullmatch(r"(\d{4})", t):
            y = int(m.group(1))
            return Period(t, date(y, 1, 1), date(y + 1, 1, 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", t, re.I):
            y, q = int(m.group(1)), int(m.group(2))
            start = date(y, 3 * q - 2, 1)
            end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
            return Period(t.upper(), start, end)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
            y, mo = int(m.group(1)), int(m.group(2))
            return Period(t, date(y, mo, 1), date(y + (mo == 12), mo % 12 + 1, 1))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", t):
            a, b = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
            if b < a:
                raise ValueError
            return Period(t, a, b + timedelta(days=1))
    except ValueError:
        pass
    raise DomainError("period_invalid", _("Ugyldig periode «%(value)s». Bruk 2026, 2026-Q1, 2026-03 eller "
                                          "2026-01-01..2026-06-30.", value=text))


# --- indicators ------------------------------------------------------------------------------

def import_indicators_csv(municipality: Municipality, data: bytes | str, *, actor: User | None = None,
                          skip_unknown: bool = False, columns: dict[str, str] | None = None) -> int:
    """CSV with SSB's or our own header names, narrowed to one municipality; all valid or nothing written."""
    from .indicators import import_indicators

    return import_indicators(data, fmt="csv", municipality=municipality, actor=actor, skip_unknown=skip_unknown,
                             columns=columns).total


def import_indicators_jsonstat(municipality: Municipality, data: bytes | str, *, zone_dimension: str | None = None,
                               actor: User | None = None, skip_unknown: bool = False) -> int:
    """A JSON-stat 2.0 dataset (as SSB's PxWeb API serves it), narrowed to one municipality."""
    from .indicators import import_indicators

    return import_indicators(data, fmt="jsonstat", municipality=municipality, actor=actor,
                             zone_dimension=zone_dimension, skip_unknown=skip_unknown).total


# --- measures --------------------------------------------------------------------------------

@dataclass
class Report:
    municipality: Municipality
    period: Period
    level: str
    zones: list[Zone]
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)  # zone code (or "total") -> measure -> cell
    breakdown: dict | None = None

    def rows(self):
        for z in self.zones:
            yield z, self.cells[z.code]
        yield None, self.cells["total"]


def _ancestor_map(municipality_id: int, level: str, zones: list[Zone] | None = None) -> tuple[list[Zone], dict[int, int]]:
    """Zones at `level` and a map from every zone id to its ancestor (or itself) at that level."""
    if zones is None:
        zones = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality_id)))
    by_id = {z.id: z for z in zones}
    targets = [z for z in zones if z.level == level]
    if not targets:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    target_ids = {z.id for z in targets}
    mapping = {}
    for z in zones:
        node, seen = z, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            if node.id in target_ids:
                mapping[z.id] = node.id
                break
            node = by_id.get(node.parent_id) if node.parent_id else None
    return sorted(targets, key=lambda z: z.code), mapping


AGE_BANDS = [("0-5", 0, 5), ("6-9", 6, 9), ("10-12", 10, 12), ("13-15", 13, 15), ("16+", 16, 200)]
AGE_CATEGORIES = [b[0] for b in AGE_BANDS] + ["unknown"]
GENDER_CATEGORIES = ["girl", "boy", "other", "unknown"]


def age_band(age: int | None) -> str:
    for name, lo, hi in AGE_BANDS:
        if age is not None and lo <= age <= hi:
            return name
    return "unknown"


@dataclass
class Facts:
    """Everything a period's tables are made of, grouped by the smallest zone in a handful of queries; every level,
    breakdown and the grant report are sums of these (distinct offers are kept as pairs, since they do not add)."""

    cards: dict[int, int]  # zone -> children with a valid card (the child's zone)
    first_visits: list[tuple[int, int | None, str]]  # one (zone, age, gender) per active child: their first visit
    visits: dict[tuple[int, str, str], tuple[int, int]]  # (zone, age band, gender) -> (check-ins, value)
    offers: set[tuple[int, int]]  # (zone, offer) pairs visited
    no_shows: dict[int, int]
    loans: dict[int, tuple[int, int]]  # borrower's zone -> (loan lines, borrowers)


def _first_visits(municipality: Municipality, period: Period):
    """Each child's first visit of the period (zone, age and gender then): where an active child is counted.

    Counting a child once, in one zone and one category, makes every table add up: zones to their parent and
    to the total, categories to the zone. A family that moves during the period is counted where it started.
    """
    where = [CheckIn.municipality_id == municipality.id, CheckIn.at >= period.start_dt, CheckIn.at < period.end_dt,
             CheckIn.voided_at.is_(None), CheckIn.child_id.is_not(None), CheckIn.zone_id.is_not(None)]
    if db.session.get_bind().dialect.name == "postgresql":  # one sort, no window frame
        from sqlalchemy.dialects.postgresql import distinct_on

        return (sa.select(CheckIn.zone_id, CheckIn.age, CheckIn.gender).where(*where)
                .ext(distinct_on(CheckIn.child_id)).order_by(CheckIn.child_id, CheckIn.at, CheckIn.id))
    ranked = (sa.select(CheckIn.child_id, CheckIn.zone_id, CheckIn.age, CheckIn.gender,
                        sa.func.row_number().over(partition_by=CheckIn.child_id,
                                                  order_by=(CheckIn.at, CheckIn.id)).label("rn"))
              .where(*where).subquery("ranked"))
    return sa.select(ranked.c.zone_id, ranked.c.age, ranked.c.gender).where(ranked.c.rn == 1)


def period_facts(municipality: Municipality, period: Period, zone_ids: list[int] | None = None) -> Facts:
    if zone_ids is None:
        zone_ids = list(db.session.scalars(db.select(Zone.id).filter_by(municipality_id=municipality.id)))
    zone_ids = zone_ids or [0]
    s, e = period.start_dt, period.end_dt
    visit_where = [CheckIn.at >= s, CheckIn.at < e, CheckIn.voided_at.is_(None), CheckIn.zone_id.in_(zone_ids)]
    band = sa.case(*[(CheckIn.age.between(lo, hi), name) for name, lo, hi in AGE_BANDS], else_="unknown")
    gender = sa.func.coalesce(CheckIn.gender, "unknown")
    cards = db.session.execute(
        sa.select(Child.zone_id, sa.func.count(sa.distinct(Card.child_id))).join(Child, Child.id == Card.child_id)
        .where(Card.valid_from < period.end, Card.valid_until >= period.start,
               sa.or_(Card.revoked_at.is_(None), Card.revoked_at >= s), Child.zone_id.in_(zone_ids))
        .group_by(Child.zone_id)).all()
    rows = db.session.execute(
        sa.select(CheckIn.zone_id, CheckIn.offer_id, band, gender, sa.func.count(CheckIn.id),
                  sa.func.coalesce(sa.func.sum(CheckIn.value_nok), 0))
        .where(*visit_where).group_by(CheckIn.zone_id, CheckIn.offer_id, band, gender)).all()
    visit_totals: dict[tuple[int, str, str], tuple[int, int]] = {}
    for z, _o, b, g, n, v in rows:
        old = visit_totals.get((z, b, g), (0, 0))
        visit_totals[(z, b, g)] = (old[0] + int(n), old[1] + int(v))
    offers = {(z, o) for z, o, *_rest in rows}
    no_shows = db.session.execute(
        sa.select(Child.zone_id, sa.func.count(Booking.id)).select_from(Booking)
        .join(Occasion, Occasion.id == Booking.occasion_id).join(Child, Child.id == Booking.child_id)
        .where(Booking.status == BookingStatus.NO_SHOW, Occasion.starts_at >= s, Occasion.starts_at < e,
               Child.zone_id.in_(zone_ids)).group_by(Child.zone_id)).all()
    loans = {z: (int(n), int(b)) for z, n, b in db.session.execute(
        sa.select(Borrower.zone_id, sa.func.count(LoanLine.id), sa.func.count(sa.distinct(Loan.borrower_id)))
        .select_from(LoanLine).join(Loan, Loan.id == LoanLine.loan_id).join(Borrower, Borrower.id == Loan.borrower_id)
        .where(LoanLine.checked_out_at >= s, LoanLine.checked_out_at < e, Borrower.zone_id.in_(zone_ids))
        .group_by(Borrower.zone_id))}
    return Facts(cards={z: int(n) for z, n in cards},
                 first_visits=[(z, a, g or "unknown") for z, a, g in db.session.execute(
                     _first_visits(municipality, period))],
                 visits=visit_totals, offers=offers, no_shows={z: int(n) for z, n in no_shows}, loans=loans)


def compute_counts(municipality: Municipality, period: Period, level: str, facts: Facts | None = None,
                   all_zones: list[Zone] | None = None):
    """Every count measure per zone at `level` and for all its zones together, summed from the period's facts."""
    zones, mapping = _ancestor_map(municipality.id, level, all_zones)
    facts = facts or period_facts(municipality, period)
    per_zone: dict[int, dict[str, int]] = {z.id: dict.fromkeys(COUNT_MEASURES, 0) for z in zones}
    total = dict.fromkeys(COUNT_MEASURES, 0)

    def add(zone_id, measure, n):
        aid = mapping.get(zone_id)
        if aid is not None and n:
            per_zone[aid][measure] += n
            total[measure] += n

    for zid, n in facts.cards.items():
        add(zid, "children_with_card", n)
    for zid, _age, _gender in facts.first_visits:
        add(zid, "active_children", 1)
    for (zid, _b, _g), (n, value) in facts.visits.items():
        add(zid, "checkins", n)
        add(zid, "value_nok", value)
    for zid, n in facts.no_shows.items():
        add(zid, "no_shows", n)
    for zid, (n, b) in facts.loans.items():
        add(zid, "loans", n)
        add(zid, "borrowers", b)
    offers: dict[int, set[int]] = {}
    for zid, offer_id in facts.offers:
        if zid in mapping:
            offers.setdefault(mapping[zid], set()).add(offer_id)
    for aid, ids in offers.items():
        per_zone[aid]["offers_used"] = len(ids)
    total["offers_used"] = len({o for zid, o in facts.offers if zid in mapping})
    return zones, mapping, per_zone, total


def _eligible(municipality: Municipality, zones: list[Zone], mapping: dict[int, int], year: int):
    """Eligible children per zone from the indicators: the zone's own value, else the sum of its leaves."""
    rows = db.session.execute(db.select(ZoneIndicator.zone_id, ZoneIndicator.value, ZoneIndicator.status).where(
        ZoneIndicator.key == ELIGIBLE_KEY, ZoneIndicator.year == year,
        ZoneIndicator.zone_id.in_(list(mapping.keys()) or [0]))).all()
    zone_ids = {z.id for z in zones}
    own = {zid: v for zid, v, _s in rows if zid in zone_ids}
    status = {zid: s for zid, v, s in rows if zid in zone_ids and v is None and s}
    summed: dict[int, float] = {}
    for zid, v, s in rows:
        if zid in own:
            continue
        if v is not None:
            summed[mapping[zid]] = summed.get(mapping[zid], 0) + v
        elif s:  # a leaf SSB could not give: the sum over it is not available either
            status[mapping[zid]] = ".."
    out = {z.id: own.get(z.id, None if z.id in status else summed.get(z.id)) for z in zones}
    values = [v for v in out.values() if v is not None]
    return out, (sum(values) if len(values) == len(zones) else None), status


# --- one publication per period: every table, protected together ----------------------------

BREAKDOWN_MEASURES = ["active_children", "checkins"]
# Counts that add up over zones; offers used (distinct offers) and value are not sums of their zones.
ADDITIVE = ["children_with_card", "active_children", "checkins", "no_shows", "loans", "borrowers"]
AUDITED = ADDITIVE + ["offers_used"]


@dataclass
class Publication:
    """Every table published for one municipality and period, after disclosure control over all of them."""

    municipality: Municipality
    period: Period
    reports: dict[str, Report] = field(default_factory=dict)  # by level
    breakdowns: dict[tuple[str, str], dict] = field(default_factory=dict)  # (level, by) -> breakdown
    grant: dict | None = None
    system: object = None
    added: int = 0


def _breakdown_counts(facts: Facts, mapping: dict[int, int], by: str):
    """Active children (at their first visit) and check-ins per zone at a level and category."""
    active: dict[tuple[int, str], int] = {}
    checkins: dict[tuple[int, str], int] = {}
    for zid, age, gender in facts.first_visits:
        if zid in mapping:
            key = (mapping[zid], age_band(age) if by == "age" else gender)
            active[key] = active.get(key, 0) + 1
    for (zid, band, gender), (n, _value) in facts.visits.items():
        if zid in mapping:
            key = (mapping[zid], band if by == "age" else gender)
            checkins[key] = checkins.get(key, 0) + n
    return active, checkins


def _grant_counts(municipality: Municipality, period: Period, facts: Facts) -> dict:
    from ..partners.models import Offer

    cells: dict[tuple[str, str], int] = {}
    for _zid, age, gender in facts.first_visits:
        key = (age_band(age), gender)
        cells[key] = cells.get(key, 0) + 1
    order = {b: i for i, b in enumerate(AGE_CATEGORIES)}
    by_band = sorted(((b, g, n) for (b, g), n in cells.items()), key=lambda r: (order.get(r[0], 99), r[1]))
    base = [CheckIn.municipality_id == municipality.id, CheckIn.at >= period.start_dt, CheckIn.at < period.end_dt,
            CheckIn.voided_at.is_(None)]
    by_cat = [(str(c), int(n), int(v or 0)) for c, n, v in db.session.execute(
        sa.select(Offer.category, sa.func.count(CheckIn.id), sa.func.sum(CheckIn.value_nok))
        .join(Offer, Offer.id == CheckIn.offer_id).where(*base).group_by(Offer.category).order_by(Offer.category))]
    loans = db.session.scalar(
        sa.select(sa.func.count(LoanLine.id)).select_from(LoanLine).join(Loan, Loan.id == LoanLine.loan_id)
        .join(Location, Location.id == Loan.location_id)
        .where(Location.municipality_id == municipality.id, LoanLine.checked_out_at >= period.start_dt,
               LoanLine.checked_out_at < period.end_dt)) or 0
    return {"by_band": by_band, "by_cat": by_cat, "loans": int(loans)}


def _is_calendar_year(period: Period) -> bool:
    return period.start == date(period.start.year, 1, 1) and period.end == date(period.start.year + 1, 1, 1)


def publication(municipality: Municipality, period: Period) -> Publication:
    """Build every table of the period and run disclosure control over all of them at once (cached per request).

    Primary: 1..min_count-1 hidden, and a count whose complement (eligible - cards, cards - active) is that small.
    Secondary: `disclosure.protect` over the relations between all the tables (see README, Disclosure control).
    """
    from flask import g, has_request_context

    cfg = current_app.config
    cache_key = (municipality.id, period, cfg["SUPPRESS_MIN_COUNT"], cfg["SUPPRESS_MIN_DENOMINATOR"])
    cache = g.setdefault("_publications", {}) if has_request_context() else {}
    if cache_key not in cache:
        cache[cache_key] = _build_publication(municipality, period)
    return cache[cache_key]


def _build_publication(municipality: Municipality, period: Period) -> Publication:
    from .disclosure import System, protect_cached

    cfg = current_app.config
    min_count, min_den = cfg["SUPPRESS_MIN_COUNT"], cfg["SUPPRESS_MIN_DENOMINATOR"]
    pub = Publication(municipality, period)
    system = System()
    all_zones = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id)))
    levels = {z.level for z in all_zones}
    children: dict[int, list[Zone]] = {}
    for z in all_zones:
        if z.parent_id:
            children.setdefault(z.parent_id, []).append(z)
    facts = period_facts(municipality, period, [z.id for z in all_zones])
    counts_at: dict[str, tuple] = {}
    # Zones with fewer eligible children than the threshold (SSB's figure is public): whatever is shown about
    # them concerns those few children, so every cell of theirs is hidden, zeros too, and a reader cannot tell
    # a hidden zero from a hidden count there.
    tiny: set[str] = set()
    for level in sorted(levels):
        zones, mapping, per_zone, total = compute_counts(municipality, period, level, facts, all_zones)
        eligible, eligible_total, eligible_status = _eligible(municipality, zones, mapping, period.start.year)
        counts_at[level] = (zones, mapping, per_zone, total, eligible, eligible_total, eligible_status)
        tkey = f"total@{level}"
        for key, counts, elig in [(z.code, per_zone[z.id], eligible.get(z.id)) for z in zones] + \
                [(tkey, total, eligible_total)]:
            if elig is not None and 0 < elig < min_count:
                tiny.add(key)
            for m in AUDITED:
                den = counts["children_with_card"] if m == "active_children" else (
                    int(elig) if m == "children_with_card" and elig is not None else None)
                system.add(("u", key, m), counts[m], hidden=key in tiny or primary_count(counts[m], den, min_count))
                if den is not None or key in tiny:
                    system.may_be_zero.add(("u", key, m))
            cards = counts["children_with_card"]
            if elig is not None and 0 < elig - cards < min_count and counts["active_children"]:
                # cards hidden because few eligible children are without one: a published active count would
                # bound them from below (active 18, eligible 19: cards 18 or 19), so it goes too
                system.hidden.add(("u", key, "active_children"))
            if elig is not None:
                system.values[("e", key)] = int(elig)
                system.fixed.add(("e", key))
                system.at_most(("u", key, "children_with_card"), ("e", key))
            system.at_most(("u", key, "active_children"), ("u", key, "children_with_card"))
            system.at_most(("u", key, "active_children"), ("u", key, "checkins"))
            system.at_most(("u", key, "offers_used"), ("u", key, "checkins"))
            system.at_most(("u", key, "borrowers"), ("u", key, "loans"))
        for m in ADDITIVE:
            system.equal(("u", tkey, m), [("u", z.code, m) for z in zones])
        system.anchors.update(("u", tkey, m) for m in AUDITED)
    first_total = None
    for level in sorted(levels):
        tkey = f"total@{level}"
        if first_total is None:
            first_total = tkey
        else:
            for m in AUDITED:
                system.equal(("u", first_total, m), [("u", tkey, m)])
    for parent in all_zones:
        kids = children.get(parent.id)
        if kids:
            for m in ADDITIVE:
                system.equal(("u", parent.code, m), [("u", k.code, m) for k in kids])

    breakdown_counts = {}
    for by, categories in (("age", AGE_CATEGORIES), ("gender", GENDER_CATEGORIES)):
        for level in sorted(levels):
            zones, mapping = counts_at[level][0], counts_at[level][1]
            active, checkins = _breakdown_counts(facts, mapping, by)
            breakdown_counts[(level, by)] = (active, checkins)
            for z in zones:
                for cat in categories:
                    for m, src in (("active_children", active), ("checkins", checkins)):
                        v = src.get((z.id, cat), 0)
                        system.add(("b", by, z.code, cat, m), v,
                                   hidden=z.code in tiny or primary_count(v, None, min_count))
                        if z.code in tiny:
                            system.may_be_zero.add(("b", by, z.code, cat, m))
                    system.at_most(("b", by, z.code, cat, "active_children"), ("b", by, z.code, cat, "checkins"))
                for m in BREAKDOWN_MEASURES:
                    system.equal(("u", z.code, m), [("b", by, z.code, cat, m) for cat in categories])
            for cat in categories:
                for m, src in (("active_children", active), ("checkins", checkins)):
                    latent = ("bt", by, cat, m)
                    if latent not in system.values:
                        system.add_latent(latent, sum(v for (aid, c), v in src.items() if c == cat))
                    system.equal(latent, [("b", by, z.code, cat, m) for z in zones])
        for m in BREAKDOWN_MEASURES:
            for level in sorted(levels):
                system.equal(("u", f"total@{level}", m), [("bt", by, cat, m) for cat in categories])
        for parent in all_zones:
            kids = children.get(parent.id)
            if kids:
                for cat in categories:
                    for m in BREAKDOWN_MEASURES:
                        system.equal(("b", by, parent.code, cat, m), [("b", by, k.code, cat, m) for k in kids])

    grant = _grant_counts(municipality, period, facts) if _is_calendar_year(period) else None
    if grant is not None:
        cells = []
        for b, gen, n in grant["by_band"]:
            system.add(("g", "bg", b, gen), n, hidden=primary_count(n, None, min_count))
            cells.append(("g", "bg", b, gen))
        reached = sum(n for _b, _g, n in grant["by_band"])
        system.add(("g", "reached"), reached, hidden=primary_count(reached, None, min_count))
        system.equal(("g", "reached"), cells)
        for b in AGE_CATEGORIES:
            system.equal(("bt", "age", b, "active_children"), [c for c in cells if c[2] == b])
        for gen in GENDER_CATEGORIES:
            system.equal(("bt", "gender", gen, "active_children"), [c for c in cells if c[3] == gen])
        checkins = sum(n for _c, n, _v in grant["by_cat"])
        system.add(("g", "checkins"), checkins, hidden=primary_count(checkins, None, min_count))
        for c, n, _v in grant["by_cat"]:
            system.add(("g", "cat", c), n, hidden=primary_count(n, None, min_count))
        system.equal(("g", "checkins"), [("g", "cat", c) for c, _n, _v in grant["by_cat"]])
        system.add(("g", "loans"), grant["loans"], hidden=primary_count(grant["loans"], None, min_count))
        system.anchors.update({("g", "reached"), ("g", "checkins"), ("g", "loans")})
        for level in sorted(levels):
            for gk, m in ((("g", "reached"), "active_children"), (("g", "checkins"), "checkins"),
                          (("g", "loans"), "loans")):
                system.equal(gk, [("u", f"total@{level}", m)])
    pub.added = protect_cached(system)
    pub.system = system

    def status(key) -> str | None:
        return SUPPRESSED if key in system.hidden else None

    for level in sorted(levels):
        zones, _mapping, per_zone, total, eligible, eligible_total, eligible_status = counts_at[level]
        report = Report(municipality, period, level, zones)
        keyed = [(z.code, z.code, per_zone[z.id], eligible.get(z.id), eligible_status.get(z.id)) for z in zones] + \
            [("total", f"total@{level}", total, eligible_total, ".." if eligible_status else None)]
        for key, skey, counts, elig, elig_status in keyed:
            cells = {m: Cell(counts[m], status(("u", skey, m)) if m in AUDITED else None) for m in COUNT_MEASURES}
            # the value of visits is hidden with them (value / price gives the count back)
            if cells["active_children"].suppressed or cells["checkins"].suppressed:
                cells["value_nok"].status = SUPPRESSED
            cells["uptake"] = _rate(counts["active_children"], counts["children_with_card"],
                                    cells["active_children"], cells["children_with_card"], min_den)
            cells["reach"] = _rate(counts["children_with_card"], elig, cells["children_with_card"], None, min_den)
            if elig is None and elig_status:  # SSB's symbol for the missing denominator carries over to the rate
                cells["reach"] = Cell(None, elig_status)
            report.cells[key] = cells
        pub.reports[level] = report
        for by, categories in (("age", AGE_CATEGORIES), ("gender", GENDER_CATEGORIES)):
            active, checkins = breakdown_counts[(level, by)]
            bcells = {}
            for z in zones:
                for cat in categories:
                    for m, src in (("active_children", active), ("checkins", checkins)):
                        bcells[(z.code, cat, m)] = Cell(src.get((z.id, cat), 0), status(("b", by, z.code, cat, m)))
            pub.breakdowns[(level, by)] = {"zones": zones, "categories": categories, "cells": bcells, "by": by,
                                           "period": period, "level": level}
    if grant is not None:
        def shown_n(key):
            return SUPPRESSED if key in system.hidden else system.values[key]

        value_total = sum(v for _c, _n, v in grant["by_cat"])
        pub.grant = {
            "year": period.start.year, "children_reached": shown_n(("g", "reached")),
            "checkins": shown_n(("g", "checkins")),
            "by_band_gender": [(b, gen, shown_n(("g", "bg", b, gen))) for b, gen, _n in grant["by_band"]],
            "by_category": [(c, shown_n(("g", "cat", c)), SUPPRESSED if ("g", "cat", c) in system.hidden else v)
                            for c, _n, v in grant["by_cat"]],
            "value_nok": SUPPRESSED if ("g", "checkins") in system.hidden else value_total,
            "loans": shown_n(("g", "loans"))}
    return pub


def uptake_report(municipality: Municipality, period: Period, level: str = "grunnkrets") -> Report:
    """Counts and rates per zone with disclosure control applied (the only view analysts ever get)."""
    pub = publication(municipality, period)
    if level not in pub.reports:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    return pub.reports[level]


def _rate(num, den, num_cell: Cell, den_cell: Cell | None, min_den: int) -> Cell:
    if den is None or den == 0:
        return Cell(None)
    cell = Cell(round(num / den, 4))
    if den < min_den or num_cell.suppressed or (den_cell is not None and den_cell.suppressed):
        cell.status = SUPPRESSED
    return cell


def shown(cell: Cell):
    return None if cell.status else cell.value


# --- exports ---------------------------------------------------------------------------------

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
        cells = report.cells[zone.code]
        props = {"code": zone.code, "name": zone.name, "level": zone.level, "period": report.period.label}
        for m in MEASURES:
            props[m] = shown(cells[m])
            props[f"{m}_status"] = cells[m].status
        features.append({"type": "Feature", "id": zone.code, "properties": props,
                         "geometry": json.loads(zone.boundary) if zone.boundary else None})
    return {"type": "FeatureCollection", "features": features}


def render(report: Report, fmt: str, delimiter: str = ";"):
    if fmt == "csv":
        return csv_rows(report, delimiter), "text/csv; charset=utf-8"
    if fmt == "jsonstat":
        return json.dumps(jsonstat(report), ensure_ascii=False), "application/json"
    if fmt == "geojson":
        return json.dumps(geojson(report), ensure_ascii=False), "application/geo+json"
    raise DomainError("format_invalid", _("Ukjent format «%(fmt)s». Bruk csv, jsonstat eller geojson.", fmt=fmt))


def municipality_for(user: User | None, number: str | None) -> Municipality:
    """The municipality a report is about: the one named (within the user's reach), else the request's own."""
    from ..core.tenancy import current_municipality

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
        raise DomainError("municipality_unknown", _("Ukjent kommune."))
    return muni


def reach_vs_low_income(report: Report, year: int) -> list[dict]:
    """Each zone's reach set against its share of children in persistent low-income households."""
    ids = {z.id: z for z in report.zones}
    found = db.session.execute(db.select(ZoneIndicator.zone_id, ZoneIndicator.value, ZoneIndicator.status).where(
        ZoneIndicator.key == LOW_INCOME_KEY, ZoneIndicator.year == year, ZoneIndicator.zone_id.in_(list(ids) or [0]))).all()
    rows = {zid: v for zid, v, _s in found}
    symbols = {zid: s for zid, v, s in found if v is None and s}
    out = []
    for z in report.zones:
        cell = report.cells[z.code]["reach"]
        out.append({"zone": z, "reach": shown(cell), "reach_suppressed": cell.suppressed,
                    "reach_status": cell.status, "low_income": rows.get(z.id), "low_income_status": symbols.get(z.id)})
    return sorted(out, key=lambda r: (-(r["low_income"] or 0), r["reach"] if r["reach"] is not None else 9))


def grant_report(municipality: Municipality, year: int) -> dict:
    """Children reached by age band and gender, check-ins and value by category, loans (for funders).

    The grant tables are part of the year's publication, so the same disclosure control covers them and the zone
    tables together. A category's value (visits x price) is hidden with its visit count.
    """
    return publication(municipality, Period(str(year), date(year, 1, 1), date(year + 1, 1, 1))).grant


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


# --- breakdowns by age band or gender --------------------------------------------------------

def breakdown_report(municipality: Municipality, period: Period, level: str, by: str) -> dict:
    """Active children (at their first visit) and check-ins per zone and age band or gender, protected with
    every other table of the period."""
    if by not in ("age", "gender"):
        raise DomainError("breakdown_invalid", _("Ukjent inndeling «%(value)s». Bruk age eller gender.", value=by))
    pub = publication(municipality, period)
    if (level, by) not in pub.breakdowns:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    return pub.breakdowns[(level, by)]


def breakdown_csv(rep: dict, delimiter: str = ";") -> Iterator[str]:
    out = io.StringIO()
    w = csv_writer(out, delimiter=delimiter)
    w.writerow(["zone_code", "zone_name", "level", "period", rep["by"], *BREAKDOWN_MEASURES])
    yield "\ufeff" + out.getvalue()
    for z in rep["zones"]:
        for cat in rep["categories"]:
            out.seek(0)
            out.truncate(0)
            cells = [rep["cells"][(z.code, cat, m)] for m in BREAKDOWN_MEASURES]
            w.writerow([z.code, z.name, rep["level"], rep["period"].label, cat,
                        *[SUPPRESSED if c.suppressed else c.value for c in cells]])
            yield out.getvalue()


def levels_of(municipality: Municipality) -> list[str]:
    """The zone levels the municipality has (a report can be asked for at each)."""
    return sorted(set(db.session.scalars(db.select(Zone.level).filter_by(municipality_id=municipality.id))))
