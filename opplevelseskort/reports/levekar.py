"""Levekårsindeks: an index of living-condition problems per zone, by SSB's published method ("indeks for
levekårsproblemer"), from the indicators the municipality imported.

Each indicator is scored 1–10 across the zones by deciles, turned so that 10 is always most problems; the index
is the mean of a zone's available scores (an indicator missing for a zone is left out of its mean), given with
one decimal. "Lav utdanning" is left out unless chosen, as SSB does. Weights are equal unless the municipality
chooses otherwise, and every change of indicators, weights or directions is a new version of the method.

Only the living-conditions indicators of SSB's method enter an index (`LIVING_CONDITIONS`: low income, social
assistance, unemployment, disability, single parents, crowding, mortality, child welfare, employment, low education
when chosen): never a count or a denominator such as the children 6-17 imported beside them, which would rank the
zones by size. Zones are ranked within one level; a zone without a parent at a level where the others have one
(SSB's "uoppgitt" NNNN9999) is never ranked. A delområde's value is its grunnkretser' numerators over their
denominators where the file gives them (a share of shares would weigh a small grunnkrets like a large one).

Kept apart from the table builder and the formats (ARCHITECTURE: analysis in reports/). The index measures
problems, not where it is best to live; equal weights are a choice, not a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core import audit
from ..core.errors import DomainError, ImportFailed
from ..core.models import Municipality
from ..extensions import db
from ..zones.models import Zone
from . import tables
from .indicators import read_rows
from .models import ImportedIndex, IndexMethod, ZoneIndicator

MIN_ZONES = 10  # deciles need at least ten zones
MIN_INDICATORS = 3  # an index of one or two indicators is that indicator, not living conditions
EXCLUDED_BY_DEFAULT = {"lav_utdanning"}  # SSB leaves low education out of the index unless chosen


@dataclass(frozen=True)
class LivingConditions:
    """One of SSB's living-conditions indicators: the words an imported key is recognised by, and its direction."""

    name: str
    words: tuple[str, ...]
    higher_is_worse: bool
    label: object
    default: bool = True  # in the default method (low education only when chosen)


LIVING_CONDITIONS = (
    LivingConditions("lav_utdanning", ("lav_utdanning", "grunnskole", "low_education"), True,
                     _l("Lav utdanning (bare grunnskole), 30–59 år"), default=False),
    LivingConditions("lavinntekt", ("lavinntekt", "low_income"), True,
                     _l("Vedvarende lavinntekt (andel)")),
    LivingConditions("sosialhjelp", ("sosialhjelp", "sosial_hjelp", "social_assistance"), True,
                     _l("Sosialhjelp (andel mottakere)")),
    LivingConditions("arbeidsledighet", ("arbeidsledig", "ledighet", "ledige", "unemploy"), True,
                     _l("Arbeidsledighet (andel registrerte ledige)")),
    LivingConditions("uforetrygd", ("uforetrygd", "ufore", "uforhet", "disability"), True,
                     _l("Uføretrygd (andel mottakere)")),
    LivingConditions("enslige_forsorgere", ("enslig", "aleneforel", "single_parent"), True,
                     _l("Barn med enslig forsørger (andel)")),
    LivingConditions("trangboddhet", ("trangbodd", "crowd"), True, _l("Trangboddhet (andel)")),
    LivingConditions("dodelighet", ("dodelighet", "mortality"), True, _l("Dødelighet")),
    LivingConditions("barnevern", ("barnevern", "child_welfare"), True, _l("Barnevernstiltak (andel barn)")),
    LivingConditions("sysselsetting", ("sysselsett", "employment_rate", "employed"), False,
                     _l("Sysselsetting (andel, lav er et problem)")),
)
# Counts and denominators never enter an index, whatever else their name says.
NOT_AN_INDICATOR = re.compile(r"^(antall|number|count|befolkning|population|personer|persons|innbyggere)|(^|_)"
                              r"(children|barn|personer|befolkning|persons)_\d+_\d+(_ar|_years?)?$")


def living_conditions(key: str) -> LivingConditions | None:
    """Which of SSB's living-conditions indicators an imported key is (None: a count, a denominator or another
    figure, which no index takes)."""
    if NOT_AN_INDICATOR.search(key):
        return None
    return next((lc for lc in LIVING_CONDITIONS if any(w in key for w in lc.words)), None)


def decile_scores(values: dict, *, higher_is_worse: bool = True) -> dict:
    """Score 1–10 by decile across the zones that have a value (10 = most problems); equal values score alike.
    Zones without a value get no score. Fewer than ten zones with values: refused."""
    known = {zone: v for zone, v in values.items() if v is not None}
    if len(known) < MIN_ZONES:
        raise DomainError("index_too_few_zones", _(
            "Levekårsindeksen deler sonene i ti like store grupper og trenger minst %(min)d soner med verdier; "
            "her er det %(n)d.", min=MIN_ZONES, n=len(known)))
    ordered = sorted(known.values(), reverse=not higher_is_worse)  # fewest problems first
    n = len(ordered)
    first_rank = {}
    for rank, value in enumerate(ordered, start=1):
        first_rank.setdefault(value, rank)
    return {zone: (first_rank[v] - 1) * 10 // n + 1 for zone, v in known.items()}


def index_value(scores: dict, weights: dict | None = None) -> float | None:
    """The weighted mean of the available scores, one decimal (half up, as SSB rounds); None without scores."""
    present = {k: s for k, s in scores.items() if s is not None}
    if not present:
        return None
    weights = weights or {}
    total = sum(Decimal(str(weights.get(k, 1))) for k in present)
    mean = sum(Decimal(str(weights.get(k, 1))) * s for k, s in present.items()) / total
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass
class IndexRow:
    zone: Zone
    scores: dict  # indicator key -> 1..10 or None
    index: float | None


def available_keys(municipality: Municipality) -> list[str]:
    """The indicators imported for the municipality's zones."""
    return list(db.session.scalars(
        db.select(ZoneIndicator.key).join(Zone, Zone.id == ZoneIndicator.zone_id)
        .where(Zone.municipality_id == municipality.id).distinct().order_by(ZoneIndicator.key)))


def years_of(municipality: Municipality) -> list[int]:
    return list(db.session.scalars(
        db.select(ZoneIndicator.year).join(Zone, Zone.id == ZoneIndicator.zone_id)
        .where(Zone.municipality_id == municipality.id).distinct().order_by(ZoneIndicator.year.desc())))


def current_method(municipality: Municipality) -> IndexMethod:
    """The newest version of the municipality's method; version 1 (every imported living-conditions indicator but
    low education, equal weights, SSB's directions) when none was saved yet (not stored)."""
    method = db.session.scalar(db.select(IndexMethod).filter_by(municipality_id=municipality.id)
                               .order_by(IndexMethod.version.desc()).limit(1))
    if method is not None:
        return method
    chosen = []
    for key in available_keys(municipality):
        lc = living_conditions(key)
        if lc is not None and lc.default and key not in EXCLUDED_BY_DEFAULT:
            chosen.append({"key": key, "weight": 1.0, "higher_is_worse": lc.higher_is_worse})
    return IndexMethod(municipality_id=municipality.id, version=1, indicators=chosen)


def _not_living_conditions(key: str) -> DomainError:
    return DomainError("index_not_living_conditions", _(
        "«%(key)s» er ikke en levekårsindikator og kan ikke gå inn i indeksen (et antall eller en nevner, som barn "
        "6–17 år, ville rangere sonene etter størrelse). Levekårsindikatorene er: %(names)s.", key=key,
        names=", ".join(str(lc.label) for lc in LIVING_CONDITIONS)))


def save_method(municipality: Municipality, indicators: list[dict], *, actor: User) -> IndexMethod:
    """A new version of the method (never an edit of the old one): each a living-conditions indicator with a weight
    above 0, at least MIN_INDICATORS of them."""
    known = set(available_keys(municipality))
    chosen = []
    for entry in indicators:
        key, weight = entry["key"], float(entry.get("weight", 1))
        if key not in known:
            raise DomainError("index_unknown_indicator", _("Ukjent indikator: «%(key)s».", key=key))
        if living_conditions(key) is None:
            raise _not_living_conditions(key)
        if not 0 < weight <= 100:
            raise DomainError("index_weight", _("Vekten for «%(key)s» må være over 0 og høyst 100.", key=key))
        chosen.append({"key": key, "weight": weight, "higher_is_worse": bool(entry.get("higher_is_worse", True))})
    if not chosen:
        raise DomainError("index_empty", _("Velg minst én indikator."))
    _enough(chosen)
    # version 1 is the default method (never stored); each saved change is the next version
    latest = db.session.scalar(db.select(db.func.max(IndexMethod.version)).filter_by(municipality_id=municipality.id))
    method = IndexMethod(municipality_id=municipality.id, version=(latest or 1) + 1, indicators=chosen,
                         created_by_id=actor.id)
    db.session.add(method)
    db.session.flush()
    audit.record(actor, "index_method.save", "index_method", method.id, municipality_id=municipality.id,
                 version=method.version, indicators=chosen)
    return method


def _enough(indicators: list[dict]) -> None:
    if len(indicators) < MIN_INDICATORS:
        raise DomainError("index_too_few_indicators", _(
            "Levekårsindeksen trenger minst %(min)d levekårsindikatorer; her er det %(n)d (%(keys)s). Importer flere "
            "av SSBs levekårsindikatorer: %(names)s.", min=MIN_INDICATORS, n=len(indicators),
            keys=", ".join(e["key"] for e in indicators) or "–",
            names=", ".join(str(lc.label) for lc in LIVING_CONDITIONS)))


@dataclass
class IndexTable:
    year: int
    method: IndexMethod
    keys: list[str]
    rows: list[IndexRow]
    level: str | None = None
    left_out: list[str] = field(default_factory=list)  # a saved method's keys that are no living-conditions indicator
    not_ranked: list[Zone] = field(default_factory=list)  # zones without a parent at the level (never ranked)
    notes: list[str] = field(default_factory=list)  # indicators the level has no value for, and why


def levels(municipality: Municipality) -> list[str]:
    """The zone levels (finest first) with zones: an index can be asked for at each."""
    return tables.zone_tree(list(db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id)))).levels


def compute(municipality: Municipality, year: int, method: IndexMethod | None = None,
            level: str | None = None) -> IndexTable:
    """Every ranked zone of a level (the finest by default) with a value for the year: its score per indicator and
    its index. Only the method's living-conditions indicators count; fewer than MIN_INDICATORS is refused."""
    method = method or current_method(municipality)
    entries = [e for e in method.indicators if living_conditions(e["key"]) is not None]
    left_out = [e["key"] for e in method.indicators if living_conditions(e["key"]) is None]
    _enough(entries)
    keys = [e["key"] for e in entries]
    zone_levels = levels(municipality)
    level = level or (zone_levels[0] if zone_levels else "grunnkrets")
    if level not in zone_levels:
        raise DomainError("level_unknown", _("Ingen soner på nivået «%(level)s».", level=level))
    all_zones = {z.id: z for z in db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id))}
    ranked, not_ranked = _ranked_zones(all_zones, level, has_parent_level=level != zone_levels[-1])
    by_key, notes = _values(municipality, year, keys, ranked, all_zones, level == zone_levels[0])
    if not any(by_key.values()):
        raise DomainError("index_no_values", " ".join(notes) or _(
            "Ingen soner på nivået «%(level)s» har verdier for %(year)d.", level=level, year=year))
    scores: dict[str, dict[int, int]] = {}
    for entry in entries:
        if by_key[entry["key"]]:
            scores[entry["key"]] = decile_scores(by_key[entry["key"]], higher_is_worse=entry["higher_is_worse"])
    weights = {e["key"]: e["weight"] for e in entries}
    zone_ids = sorted({z for values in by_key.values() for z in values}, key=lambda i: ranked[i].code)
    out = []
    for zone_id in zone_ids:
        zone_scores = {k: scores.get(k, {}).get(zone_id) for k in keys}
        out.append(IndexRow(ranked[zone_id], zone_scores, index_value(zone_scores, weights)))
    out.sort(key=lambda r: (-(r.index or 0), r.zone.code))
    return IndexTable(year, method, keys, out, level, left_out, not_ranked, notes)


def _ranked_zones(all_zones: dict, level: str, *, has_parent_level: bool) -> tuple[dict, list]:
    """The zones of a level that are ranked, and those never ranked: SSB's "uoppgitt" NNNN9999, and a zone without
    a parent at a level where the others have one."""
    at_level = [z for z in all_zones.values() if z.level == level]
    not_ranked = sorted((z for z in at_level if z.code.endswith("9999") or (has_parent_level and not z.parent_id)),
                        key=lambda z: z.code)
    return {z.id: z for z in at_level if z not in not_ranked}, not_ranked


def _values(municipality: Municipality, year: int, keys: list[str], ranked: dict, all_zones: dict,
            finest: bool) -> tuple[dict, list[str]]:
    """Each indicator's value per ranked zone: its own imported value, else (above the finest level) its finest
    zones' numerators over their denominators, when every one of them has both."""
    rows = db.session.execute(
        db.select(ZoneIndicator.zone_id, ZoneIndicator.key, ZoneIndicator.value, ZoneIndicator.numerator,
                  ZoneIndicator.denominator)
        .join(Zone, Zone.id == ZoneIndicator.zone_id)
        .where(Zone.municipality_id == municipality.id, ZoneIndicator.year == year, ZoneIndicator.key.in_(keys))).all()
    by_key: dict[str, dict[int, float | None]] = {k: {} for k in keys}
    parts: dict[str, dict[int, list]] = {k: {} for k in keys}
    for zone_id, key, value, num, den in rows:
        if zone_id in ranked:
            by_key[key][zone_id] = value
        elif not finest:
            node = all_zones.get(zone_id)
            while node is not None and node.id not in ranked:
                node = all_zones.get(node.parent_id) if node.parent_id else None
            if node is not None:
                parts[key].setdefault(node.id, []).append((value, num, den))
    notes = []
    for key in keys if not finest else ():
        summed = 0
        for zone_id, found in parts[key].items():
            if zone_id in by_key[key] or not found:
                continue
            if any(num is None or not den for _v, num, den in found):
                continue
            scale = _scale(found)
            by_key[key][zone_id] = round(scale * sum(n for _v, n, _d in found) / sum(d for _v, _n, d in found), 4)
            summed += 1
        if parts[key] and not summed and not by_key[key]:
            notes.append(_("%(key)s: filen gir bare andeler for grunnkretsene, uten teller og nevner, så andelen for "
                           "et større område kan ikke regnes ut (et snitt av andeler veier en liten krets som en "
                           "stor).", key=key))
    return by_key, notes


def _scale(found: list) -> float:
    """Whether the shares are in per cent (100) or fractions (1), from a zone that has value, numerator and
    denominator."""
    for value, num, den in found:
        if value is not None and num and den:
            return min((1.0, 100.0, 1000.0), key=lambda s: abs(s * num / den - value))
    return 100.0


# --- a municipality's own index, imported as published ---------------------------------------------------------

INDEX_NAMES = ("index", "indeks", "levekarsindeks", "levekarsindeks_totalt", "samlet_indeks")
INDEX_LARGEST = 1000  # indices and sub-scores are 1-10, 0-100 or per mille; nothing larger is one


def import_own_index(municipality: Municipality, data, *, fmt: str, method: str, method_version: str,
                     actor: User | None) -> int:
    """A municipality's own levekårsindeks and its sub-scores per zone and year (CSV long or wide, or JSON-stat,
    as indicators are read): the indicator named index/indeks is the index, every other one a sub-score. All or
    nothing: an unknown zone, a zone and year without an index, or a value that is no number refuses the file.
    Importing the same method and version again replaces its values."""
    method, method_version = (method or "").strip()[:120], (method_version or "").strip()[:40]
    errors: list[str] = []
    if not method or not method_version:
        errors.append(_("Oppgi metodens navn og versjon (for eksempel «Drammen levekårsindeks» og «2023»)."))
    rows = read_rows(data, fmt, errors)
    zones = {z.code: z for z in db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id))}
    found: dict[tuple[str, int], dict] = {}
    for row in rows:
        if row.zone not in zones:
            errors.append(_("%(where)s: ukjent sone %(code)s.", where=row.where, code=row.zone))
            continue
        entry = found.setdefault((row.zone, row.year), {"where": row.where, "index": None, "sub": {}})
        if row.value is not None and not 0 <= row.value <= INDEX_LARGEST:
            errors.append(_("%(where)s: %(key)s %(value)s for sone %(code)s ligger utenfor 0–%(top)d (en indeks "
                            "og dens delskårer er tall fra 0 og oppover).", where=row.where, key=row.key,
                            value=row.value, code=row.zone, top=INDEX_LARGEST))
            continue
        if row.key in INDEX_NAMES:
            entry["index"] = (row.value, row.status)
        else:
            entry["sub"][row.key] = row.value
    for (code, year), entry in sorted(found.items()):
        if entry["index"] is None:
            errors.append(_("Sonen %(code)s har ingen indeks for %(year)d (en kolonne eller indikator som heter "
                            "«indeks»).", code=code, year=year))
    if not found and not errors:
        errors.append(_("Filen har ingen rader."))
    if errors:
        raise ImportFailed(errors)
    db.session.execute(sa.delete(ImportedIndex).where(ImportedIndex.municipality_id == municipality.id,
                                                      ImportedIndex.method == method,
                                                      ImportedIndex.method_version == method_version))
    for (code, year), entry in found.items():
        value, status = entry["index"]
        db.session.add(ImportedIndex(municipality_id=municipality.id, zone_id=zones[code].id, method=method,
                                     method_version=method_version, year=year, value=value,
                                     status=status if value is None else None, sub_scores=entry["sub"]))
    db.session.flush()
    audit.record(actor, "index.import", "municipality", municipality.id, municipality_id=municipality.id,
                 method=method, version=method_version, rows=len(found))
    return len(found)


@dataclass
class ImportedTable:
    method: str
    method_version: str
    year: int
    sub_keys: list[str]
    rows: list[ImportedIndex]


def imported_indices(municipality: Municipality, year: int) -> list[ImportedTable]:
    """The municipality's own indices for a year, one table per method and version, highest index first."""
    rows = db.session.scalars(db.select(ImportedIndex).where(
        ImportedIndex.municipality_id == municipality.id, ImportedIndex.year == year)
        .order_by(ImportedIndex.method, ImportedIndex.method_version)).all()
    tables: dict[tuple[str, str], list[ImportedIndex]] = {}
    for r in rows:
        tables.setdefault((r.method, r.method_version), []).append(r)
    return [ImportedTable(m, v, year, sorted({k for r in rs for k in (r.sub_scores or {})}),
                          sorted(rs, key=lambda r: (r.value is None, -(r.value or 0), r.zone.code)))
            for (m, v), rs in tables.items()]
