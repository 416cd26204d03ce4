"""Zone reports: periods, indicators, measures computed in SQL, roll-up, and one protected publication per period.

The tables themselves are `tables`, their protection `disclosure`, the plan of what is published `plan`, and the
file formats `formats`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import distinct_on

from utstyr.models import Borrower, Loan, LoanLine, Location

from ..accounts.models import User
from ..cards.ages import AGE_BANDS, age_band
from ..cards.models import Card, Child
from ..checkin.models import CheckIn
from ..core import jobs
from ..core.errors import DomainError
from ..core.models import JobRun, JobStatus, Municipality
from ..extensions import db
from ..money.models import Account, AccountKind, Leg, Transfer, TransferKind
from ..partners.models import Booking, BookingStatus, Occasion, Offer
from ..zones.models import Zone
from ..zones.versions import zones_in_force
from . import periods, plan, store, tables
from .disclosure import System, protect_cached
from .indicators import import_indicators
from .models import ZoneIndicator
from .publication import Period, Publication, Report
from .suppression import SUPPRESSED, Cell

log = logging.getLogger(__name__)


COUNT_MEASURES, RATE_MEASURES, MEASURES = tables.COUNT_MEASURES, tables.RATE_MEASURES, tables.MEASURES


LOW_INCOME_KEY = tables.LOW_INCOME_KEY


shown = tables.shown


ELIGIBLE_KEY = "children_6_17"


def import_indicators_csv(municipality: Municipality, data: bytes | str, *, actor: User | None = None,
                          skip_unknown: bool = False, columns: dict[str, str] | None = None) -> int:
    """CSV with SSB's or our own header names, narrowed to one municipality; all valid or nothing written."""
    return import_indicators(data, fmt="csv", municipality=municipality, actor=actor, skip_unknown=skip_unknown,
                             columns=columns).total


def import_indicators_jsonstat(municipality: Municipality, data: bytes | str, *, zone_dimension: str | None = None,
                               actor: User | None = None, skip_unknown: bool = False) -> int:
    """A JSON-stat 2.0 dataset (as SSB's PxWeb API serves it), narrowed to one municipality."""
    return import_indicators(data, fmt="jsonstat", municipality=municipality, actor=actor,
                             zone_dimension=zone_dimension, skip_unknown=skip_unknown).total


def _ancestor_map(municipality_id: int, level: str, zones: list[Zone] | None = None,
                  tree: tables.Tree | None = None) -> tuple[list[Zone], dict[int, int]]:
    """The rows of a level (its zones, and zones below it without an ancestor at it) and a map from every zone id
    to the row it is counted in."""
    if tree is None:
        if zones is None:
            zones = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality_id)))
        tree = tables.zone_tree(zones)
    if level not in tree.rows:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    return tree.rows[level], tree.row_of[level]


AGE_CATEGORIES = [b[0] for b in AGE_BANDS] + ["unknown"]


GENDER_CATEGORIES = ["girl", "boy", "other", "unknown"]


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
    money: dict[int, tuple[int, int]] = field(default_factory=dict)  # zone -> (children, kroner used)


def _first_visits(municipality: Municipality, period: Period):
    """Each active child once: the zone they live in (the zone their card is counted in, so that no zone has more
    active children than children with a card) and their age and gender at their first visit of the period.

    Counting a child once, in one zone and one category, makes every table add up: zones to their parent and
    to the total, categories to the zone. Check-ins stay in the zone they were recorded in.
    """
    where = [CheckIn.municipality_id == municipality.id, CheckIn.at >= period.start_dt, CheckIn.at < period.end_dt,
             CheckIn.voided_at.is_(None), CheckIn.child_id.is_not(None), Child.zone_id.is_not(None)]
    if db.session.get_bind().dialect.name == "postgresql":  # one sort, no window frame

        return (sa.select(Child.zone_id, CheckIn.age, CheckIn.gender).join(Child, Child.id == CheckIn.child_id)
                .where(*where).ext(distinct_on(CheckIn.child_id)).order_by(CheckIn.child_id, CheckIn.at, CheckIn.id))
    ranked = (sa.select(CheckIn.child_id, Child.zone_id, CheckIn.age, CheckIn.gender,
                        sa.func.row_number().over(partition_by=CheckIn.child_id,
                                                  order_by=(CheckIn.at, CheckIn.id)).label("rn"))
              .join(Child, Child.id == CheckIn.child_id).where(*where).subquery("ranked"))
    return sa.select(ranked.c.zone_id, ranked.c.age, ranked.c.gender).where(ranked.c.rn == 1)


def period_facts(municipality: Municipality, period: Period, zone_ids: list[int] | None = None,
                 remap: dict[int, int] | None = None) -> Facts:
    """The period's facts on the zones in force for it: a card, child, visit or loan recorded on a zone of another
    classification version is counted on the zone its change list leads to (`zones_in_force`)."""
    if zone_ids is None or remap is None:
        zones = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id)))
        zone_ids = [z.id for z in zones] if zone_ids is None else zone_ids
        remap = zones_in_force(municipality, zones, period.start.year)[1] if remap is None else remap
    facts = _period_facts(municipality, period, zone_ids or [0])
    return _remapped(facts, remap) if remap else facts


def _remapped(facts: Facts, remap: dict[int, int]) -> Facts:
    def z(zone_id):
        return remap.get(zone_id, zone_id)

    def summed(pairs, add):
        out: dict = {}
        for key, value in pairs:
            out[key] = add(out[key], value) if key in out else value
        return out

    def plus(a, b):
        return a + b if isinstance(a, int) else tuple(x + y for x, y in zip(a, b, strict=True))

    return Facts(cards=summed(((z(k), n) for k, n in facts.cards.items()), plus),
                 first_visits=[(z(k), a, g) for k, a, g in facts.first_visits],
                 visits=summed((((z(k), b, g), v) for (k, b, g), v in facts.visits.items()), plus),
                 offers={(z(k), o) for k, o in facts.offers},
                 no_shows=summed(((z(k), n) for k, n in facts.no_shows.items()), plus),
                 loans=summed(((z(k), v) for k, v in facts.loans.items()), plus),
                 money=summed(((z(k), v) for k, v in facts.money.items()), plus))


def _period_facts(municipality: Municipality, period: Period, zone_ids: list[int]) -> Facts:
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
    for z, _o, b, sex, n, v in rows:
        old = visit_totals.get((z, b, sex), (0, 0))
        visit_totals[(z, b, sex)] = (old[0] + int(n), old[1] + int(v))
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
                 visits=visit_totals, offers=offers, no_shows={z: int(n) for z, n in no_shows}, loans=loans,
                 money=_money_used(municipality, period, zone_ids))


def _money_used(municipality: Municipality, period: Period, zone_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Activity money used in the period by the child's zone: children whose money paid a partner (a settled
    reservation), and the kroner (rounded per zone, so the zones add up to the total)."""
    rows = db.session.execute(
        sa.select(Child.zone_id, sa.func.count(sa.distinct(Account.child_id)), sa.func.sum(Leg.amount))
        .select_from(Leg).join(Transfer, Transfer.id == Leg.transfer_id).join(Account, Account.id == Leg.account_id)
        .join(Child, Child.id == Account.child_id)
        .where(Transfer.municipality_id == municipality.id, Transfer.kind == TransferKind.SETTLE,
               Transfer.created_at >= period.start_dt, Transfer.created_at < period.end_dt,
               Account.kind == AccountKind.CHILD, Child.zone_id.in_(zone_ids))
        .group_by(Child.zone_id)).all()
    return {z: (int(n), round(int(ore or 0) / 100)) for z, n, ore in rows}


def compute_counts(municipality: Municipality, period: Period, level: str, facts: Facts | None = None,
                   all_zones: list[Zone] | None = None, *, tree: tables.Tree | None = None):
    """Every count measure per row at `level` and for the municipality, summed from the period's facts."""
    zones, mapping = _ancestor_map(municipality.id, level, all_zones, tree)
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
    for zid, (n, kroner) in facts.money.items():
        add(zid, tables.MONEY_CHILDREN, n)
        add(zid, tables.MONEY_NOK, kroner)
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


BREAKDOWN_MEASURES = list(tables.BREAKDOWN_MEASURES)


ADDITIVE = list(tables.ADDITIVE)


AUDITED = list(tables.AUDITED)


BREAKDOWNS = (("age", AGE_CATEGORIES), ("gender", GENDER_CATEGORIES))


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


def _category_totals(facts: Facts, by: str) -> dict[tuple[str, str], int]:
    """The municipality's figure per category: (category, measure) -> count."""
    out: dict[tuple[str, str], int] = {}
    for _zid, age, gender in facts.first_visits:
        key = (age_band(age) if by == "age" else gender, "active_children")
        out[key] = out.get(key, 0) + 1
    for (_zid, band, gender), (n, _value) in facts.visits.items():
        key = (band if by == "age" else gender, "checkins")
        out[key] = out.get(key, 0) + n
    return out


def _grant_counts(municipality: Municipality, period: Period, facts: Facts) -> dict:
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


def publication(municipality: Municipality, period: Period) -> Publication:
    """The period's protected publication as stored by its build job (read once per request): see `store`. A
    request never solves; with no stored publication yet, `store.PublicationPending` says it is being made."""
    if not db.session.scalar(sa.select(sa.exists().where(Zone.municipality_id == municipality.id))):
        raise DomainError("level_unknown", _("Kommunen har ingen soner ennå. Importer soner først."))
    cache = g.setdefault("_publications", {}) if has_request_context() else {}
    key = (municipality.id, period, store.settings_key())
    if key not in cache:
        cache[key] = store.current(municipality, period, request_build=request_build,
                                   build_here=None if has_request_context() else build_and_store)  # the CLI builds
    return cache[key]


def build_and_store(municipality: Municipality, period: Period) -> list[str]:
    """Build the period's publication (and those protected with it) and store them with the data version read
    before the first count: a change made while building makes the stored one stale, never wrongly fresh. (The
    `publication_build` job's work; the CLI's when there is none stored.)"""
    version = store.data_version(municipality.id)
    t0 = time.perf_counter()
    pubs = build_publications(municipality, period)
    store.save(municipality, pubs, version, time.perf_counter() - t0)
    return [p.period.label for p in pubs]


def request_build(municipality: Municipality, period: Period, *, actor: User | None = None) -> JobRun:
    """Queue the period's build unless one is queued or running already (any node's).

    It commits, in a request where jobs are queued: a page that finds no figures answers "being made" (202) from
    an error handler after the unit of work has rolled back, and the worker must find the build's row."""
    waiting = db.session.scalars(sa.select(JobRun).where(
        JobRun.kind == store.BUILD_JOB, JobRun.municipality_id == municipality.id,
        JobRun.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))).all()
    for run in waiting:
        if (run.params or {}).get("period") == period.label and (run.params or {}).get("settings") == store.settings_key():
            return run
    run = jobs.start(publication_build, actor=actor, municipality_id=municipality.id, period=period.label,
                     settings=store.settings_key())
    if has_request_context() and not jobs.at_once():
        db.session.commit()  # see the docstring
    return run


@jobs.job(store.BUILD_JOB, title=_l("Rapporttall"))
def publication_build(run: JobRun, *, period: str, settings: str | None = None) -> dict:
    """One period's publication, built and stored (queued by a page that found none, or by an analyst's "update
    now"). The OGC API's features of a year are rendered by the scheduled `publications` job (reports.jobs), or by
    the first GIS request that comes before it."""
    municipality = db.session.get(Municipality, run.municipality_id)
    return {"periods": build_and_store(municipality, periods.parse_period(period))}


CUSTOM_PLANS = True  # bench/report_bench.py turns it off to show what a generic plan costs


def build_publications(municipality: Municipality, period: Period) -> list[Publication]:
    """Build every table the plan publishes for the period and protect them: the build job's work (the solver
    runs here, never in a request). Returns the period's publication first, then those protected with it.

    A calendar year, its four quarters and its twelve months are protected together, as one system: a reader holds
    them all (the dashboard shows the quarters beside the year), and no other period is published. Primary:
    1..min_count-1 hidden, and a count whose complement (eligible - cards) is that small. Secondary:
    `disclosure.protect` (see README, Disclosure control).
    """
    if CUSTOM_PLANS and db.session.get_bind().dialect.name == "postgresql":
        # The report statements carry long IN lists and run again and again on a worker's connection: a generic
        # plan (PostgreSQL's choice after five runs of a prepared statement) is several times slower for them.
        db.session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    built: dict[Period, Publication] = {}
    _built(municipality, period, built)
    return [built[period], *[p for key, p in built.items() if key != period]]


def _built(municipality: Municipality, period: Period, built: dict[Period, Publication]) -> Publication:
    if period not in built:
        whole = periods.whole_period(period)
        if whole is None or whole.label != period.label:
            raise DomainError("period_not_whole", _("Bare hele år, kvartaler og måneder publiseres."))
        for pub in _build_year(municipality, periods.containing_year(period)):
            built[pub.period] = pub
    return built[period]


def _level_counts(municipality: Municipality, period: Period, facts: Facts, all_zones: list[Zone],
                  tree: tables.Tree) -> dict[str, tables.LevelCounts]:
    out = {}
    for level in tree.levels:
        zones, mapping, per_zone, total = compute_counts(municipality, period, level, facts, all_zones, tree=tree)
        eligible, eligible_total, eligible_status = _eligible(municipality, zones, mapping, period.start.year)
        out[level] = tables.LevelCounts(level, zones, per_zone, total, eligible, eligible_total, eligible_status)
    return out


@dataclass
class _Parts:
    """One period's counts and unprotected tables, before protection and shaping."""

    tree: tables.Tree
    counts: dict[str, tables.LevelCounts]
    levels: list[str]  # the zone levels the uptake table is published at
    breakdowns: dict[str, dict]
    grant: dict | None
    system: object


def _collect(municipality: Municipality, period: Period, all_zones: list[Zone], tree: tables.Tree,
             remap: dict[int, int]) -> _Parts:
    """Every table the plan publishes for one period, as cells and relations (nothing hidden but the primary)."""
    if not tree.levels:
        raise DomainError("level_unknown", _("Kommunen har ingen soner ennå. Importer soner først."))

    min_count = current_app.config["SUPPRESS_MIN_COUNT"]
    yearly = periods.is_calendar_year(period)
    facts = period_facts(municipality, period, [z.id for z in all_zones], remap)
    counts = _level_counts(municipality, period, facts, all_zones, tree)
    system = System(threshold=min_count)

    min_cards = current_app.config["REPORT_ZONE_MIN_CARDS"]

    def dense(level, measure, minimum):
        c = counts[level]
        return plan.dense_enough([c.per_zone[z.id][measure] for z in c.zones if z.level == level], minimum)

    uptake_levels = [lv for lv in plan.levels_for("uptake", tree.levels, yearly=yearly)
                     if dense(lv, "children_with_card", min_cards)]
    tiny = tables.add_uptake(system, tree, counts, uptake_levels, min_count)
    money_levels = [lv for lv in plan.levels_for("money", tree.levels, yearly=yearly) if lv in uptake_levels]
    tables.add_money(system, tree, counts, money_levels, tiny, min_count)
    breakdowns = {}
    for by, categories in BREAKDOWNS:
        if not plan.published(by, tree.levels, None, yearly=yearly):
            breakdowns[by] = {}
            continue
        levels = [lv for lv in plan.levels_for(by, tree.levels, yearly=yearly) if lv in uptake_levels
                  and dense(lv, "active_children", 2 * min_cards)]
        breakdowns[by] = {level: _breakdown_counts(facts, tree.row_of[level], by) for level in levels}
        tables.add_breakdown(system, tree, by, categories, levels, breakdowns[by], _category_totals(facts, by),
                             tiny, min_count)
    grant = _grant_counts(municipality, period, facts) if plan.published("grant", tree.levels, None, yearly=yearly) \
        else None
    if grant is not None:
        tables.add_grant(system, grant, min_count)
    return _Parts(tree, counts, uptake_levels, breakdowns, grant, system)


def report_zones(municipality: Municipality, year: int | None = None) -> tuple[list[Zone], tables.Tree]:
    """The zones a period's tables are made of: those in force in the year (the latest classification version
    not after it), and a zone of another version that no change list leads from (what was recorded on it is
    counted there, never lost). Without a year, every zone."""
    zones = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id)))
    if year is not None:
        shown, _remap = zones_in_force(municipality, zones, year)
        zones = shown
    return zones, tables.zone_tree(zones)


def _build_year(municipality: Municipality, year: Period) -> list[Publication]:
    """A calendar year, its quarters and its months, protected together as one system: a reader holds them all, and
    every count of a shorter period is tied to the longer ones it lies in (events add up, children are at most the
    sum)."""
    every = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id)))
    in_force, remap = zones_in_force(municipality, every, year.start.year)
    tree = tables.zone_tree(in_force)
    quarters = periods.quarters_of(year)
    months = periods.months_of(year)
    all_periods = [year, *quarters, *months]
    parts = [_collect(municipality, p, every, tree, remap) for p in all_periods]
    system = System(threshold=current_app.config["SUPPRESS_MIN_COUNT"])
    for p, part in zip(all_periods, parts, strict=True):
        tables.merge_period(system, p.label, part.system)
    tables.link_periods(system, year.label, [q.label for q in quarters])
    for i, quarter in enumerate(quarters):
        tables.link_periods(system, quarter.label, [m.label for m in months[3 * i:3 * i + 3]])
    store.keep_hidden(system, municipality, [p.label for p in all_periods])
    added = protect_cached(system)
    return [_shape(municipality, p, part, system, added) for p, part in zip(all_periods, parts, strict=True)]


def _shape(municipality: Municipality, period: Period, part: _Parts, system, added: int) -> Publication:
    """The published tables of one period, each cell with its status from the protected system."""
    min_den = current_app.config["SUPPRESS_MIN_DENOMINATOR"]
    pub = Publication(municipality, period, levels=part.tree.levels, system=system, added=added)
    for level in part.levels:
        pub.reports[level] = _uptake_table(pub, part.counts[level], min_den)
    pub.municipality_row = _uptake_table(pub, part.counts[part.tree.levels[0]], min_den, total_only=True)
    for by, categories in BREAKDOWNS:
        for level, (active, checkins) in part.breakdowns[by].items():
            pub.breakdowns[(level, by)] = _breakdown_table(pub, part.tree.rows[level], level, by, categories, active,
                                                           checkins)
    if part.grant is not None:
        pub.grant = _grant_table(pub, part.grant)
    return pub


def _status(pub: Publication, key) -> str | None:
    return SUPPRESSED if pub.hidden(key) else None


def _uptake_table(pub: Publication, c: tables.LevelCounts, min_den: int, *, total_only: bool = False) -> Report:
    """One level's rows and the municipality total, with each cell's status from the protected system."""
    yearly = periods.is_calendar_year(pub.period)
    value_here = plan.published("value", pub.levels, c.level, yearly=yearly)
    report = Report(pub.municipality, pub.period, c.level, [] if total_only else c.zones)
    rows = [(z.code, c.per_zone[z.id], c.eligible.get(z.id), c.eligible_status.get(z.id)) for z in report.zones]
    rows.append((tables.TOTAL, c.total, c.eligible_total, ".." if c.eligible_status else None))
    for code, counts, elig, elig_status in rows:
        cells = {m: Cell(counts[m], _status(pub, tables.ZoneCell(code, m)) if m in AUDITED else None)
                 for m in COUNT_MEASURES}
        # the value of visits is hidden with them (value / price gives the count back)
        if cells["active_children"].suppressed or cells["checkins"].suppressed:
            cells["value_nok"].status = SUPPRESSED
        elif code != tables.TOTAL and not value_here:
            cells["value_nok"].status = plan.NOT_PUBLISHED
        _money_cells(pub, cells, code, plan.published("money", pub.levels, c.level, yearly=yearly))
        cells["uptake"] = _rate(counts["active_children"], counts["children_with_card"],
                                cells["active_children"], cells["children_with_card"], min_den)
        cells["reach"] = _rate(counts["children_with_card"], elig, cells["children_with_card"], None, min_den)
        if elig is None and elig_status:  # SSB's symbol for the missing denominator carries over to the rate
            cells["reach"] = Cell(None, elig_status)
        report.cells[code] = cells
    return report


def _money_cells(pub: Publication, cells: dict, code: str, here: bool) -> None:
    """Money used: the children's count as the protected system says, the kroner hidden with it; not published
    on a level the plan leaves it out of (the municipality's row always has it)."""
    if code != tables.TOTAL and not here:
        cells[tables.MONEY_CHILDREN].status = cells[tables.MONEY_NOK].status = plan.NOT_PUBLISHED
        return
    cells[tables.MONEY_CHILDREN].status = _status(pub, tables.ZoneCell(code, tables.MONEY_CHILDREN))
    if cells[tables.MONEY_CHILDREN].suppressed:
        cells[tables.MONEY_NOK].status = SUPPRESSED


def _breakdown_table(pub: Publication, zones: list[Zone], level: str, by: str, categories: list[str], active: dict,
                     checkins: dict) -> dict:
    cells = {}
    for z in zones:
        for cat in categories:
            for m, src in (("active_children", active), ("checkins", checkins)):
                cells[(z.code, cat, m)] = Cell(src.get((z.id, cat), 0), _status(pub, tables.CategoryCell(by, z.code, cat, m)))
    for cat in categories:
        for m in BREAKDOWN_MEASURES:
            key = tables.CategoryCell(by, tables.TOTAL, cat, m)
            cells[(tables.TOTAL, cat, m)] = Cell(pub.value(key), _status(pub, key))
    return {"zones": zones, "categories": categories, "cells": cells, "by": by, "period": pub.period, "level": level,
            "municipality": pub.municipality}


def _grant_table(pub: Publication, grant: dict) -> dict:

    def shown_n(key):
        return SUPPRESSED if pub.hidden(key) else pub.value(key)

    checkins_key = tables.ZoneCell(tables.TOTAL, "checkins")
    return {
        "year": pub.period.start.year, "children_reached": shown_n(tables.ZoneCell(tables.TOTAL, "active_children")),
        "checkins": shown_n(checkins_key),
        "by_band_gender": [(b, gen, shown_n(tables.GrantCell("bg", b, gen))) for b, gen, _n in grant["by_band"]],
        "by_category": [(c, shown_n(tables.GrantCell("cat", c)),
                         SUPPRESSED if pub.hidden(tables.GrantCell("cat", c)) else v)
                        for c, _n, v in grant["by_cat"]],
        "value_nok": SUPPRESSED if pub.hidden(checkins_key) else sum(v for _c, _n, v in grant["by_cat"]),
        "loans": shown_n(tables.GrantCell("loans"))}


MUNICIPALITY_LEVEL = "municipality"  # the municipality as a whole: a level every period publishes


def _rate(num, den, num_cell: Cell, den_cell: Cell | None, min_den: int) -> Cell:
    if den is None or den == 0:
        return Cell(None)
    cell = Cell(round(num / den, 4))
    if den < min_den or num_cell.suppressed or (den_cell is not None and den_cell.suppressed):
        cell.status = SUPPRESSED
    return cell

