"""Levekårsindeks: an index of living-condition problems per zone, by SSB's published method ("indeks for
levekårsproblemer"), from the indicators the municipality imported.

Each indicator is scored 1–10 across the zones by deciles, turned so that 10 is always most problems; the index
is the mean of a zone's available scores (an indicator missing for a zone is left out of its mean), given with
one decimal. "Lav utdanning" is left out unless chosen, as SSB does. Weights are equal unless the municipality
chooses otherwise, and every change of indicators, weights or directions is a new version of the method.

Kept apart from the table builder and the formats (ARCHITECTURE: analysis in reports/). The index measures
problems, not where it is best to live; equal weights are a choice, not a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core import audit
from ..core.errors import DomainError, ImportFailed
from ..core.models import Municipality, User, Zone
from ..extensions import db
from .indicators import read_rows
from .models import ImportedIndex, IndexMethod, ZoneIndicator

MIN_ZONES = 10  # deciles need at least ten zones
EXCLUDED_BY_DEFAULT = {"lav_utdanning"}  # SSB leaves low education out of the index unless chosen
LOWER_IS_WORSE_HINTS = ("sysselsetting", "sysselsatte", "utdanning_hoy", "inntekt_median", "valgdeltakelse")


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


@dataclass
class IndexTable:
    year: int
    method: IndexMethod
    keys: list[str]
    rows: list[IndexRow]


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
    """The newest version of the municipality's method; version 1 (every imported indicator but low education,
    equal weights, higher is worse unless the name says otherwise) when none was saved yet (not stored)."""
    method = db.session.scalar(db.select(IndexMethod).filter_by(municipality_id=municipality.id)
                               .order_by(IndexMethod.version.desc()).limit(1))
    if method is not None:
        return method
    return IndexMethod(municipality_id=municipality.id, version=1, indicators=[
        {"key": k, "weight": 1.0, "higher_is_worse": not any(h in k for h in LOWER_IS_WORSE_HINTS)}
        for k in available_keys(municipality) if k not in EXCLUDED_BY_DEFAULT])


def save_method(municipality: Municipality, indicators: list[dict], *, actor: User) -> IndexMethod:
    """A new version of the method (never an edit of the old one): each indicator with a weight above 0."""
    known = set(available_keys(municipality))
    chosen = []
    for entry in indicators:
        key, weight = entry["key"], float(entry.get("weight", 1))
        if key not in known:
            raise DomainError("index_unknown_indicator", _("Ukjent indikator: «%(key)s».", key=key))
        if not 0 < weight <= 100:
            raise DomainError("index_weight", _("Vekten for «%(key)s» må være over 0 og høyst 100.", key=key))
        chosen.append({"key": key, "weight": weight, "higher_is_worse": bool(entry.get("higher_is_worse", True))})
    if not chosen:
        raise DomainError("index_empty", _("Velg minst én indikator."))
    # version 1 is the default method (never stored); each saved change is the next version
    latest = db.session.scalar(db.select(db.func.max(IndexMethod.version)).filter_by(municipality_id=municipality.id))
    method = IndexMethod(municipality_id=municipality.id, version=(latest or 1) + 1, indicators=chosen,
                         created_by_id=actor.id)
    db.session.add(method)
    db.session.flush()
    audit.record(actor, "index_method.save", "index_method", method.id, municipality_id=municipality.id,
                 version=method.version, indicators=chosen)
    return method


def compute(municipality: Municipality, year: int, method: IndexMethod | None = None) -> IndexTable:
    """Every zone with a value for the year: its score per indicator and its index."""
    method = method or current_method(municipality)
    keys = [e["key"] for e in method.indicators]
    rows = db.session.execute(
        db.select(ZoneIndicator.zone_id, ZoneIndicator.key, ZoneIndicator.value)
        .join(Zone, Zone.id == ZoneIndicator.zone_id)
        .where(Zone.municipality_id == municipality.id, ZoneIndicator.year == year, ZoneIndicator.key.in_(keys))).all()
    by_key: dict[str, dict[int, float | None]] = {k: {} for k in keys}
    for zone_id, key, value in rows:
        by_key[key][zone_id] = value
    scores: dict[str, dict[int, int]] = {}
    for entry in method.indicators:
        if by_key[entry["key"]]:
            scores[entry["key"]] = decile_scores(by_key[entry["key"]], higher_is_worse=entry["higher_is_worse"])
    weights = {e["key"]: e["weight"] for e in method.indicators}
    zone_ids = sorted({z for values in by_key.values() for z in values})
    zones = {z.id: z for z in db.session.scalars(db.select(Zone).where(Zone.id.in_(zone_ids)))} if zone_ids else {}
    out = []
    for zone_id in zone_ids:
        zone_scores = {k: scores.get(k, {}).get(zone_id) for k in keys}
        out.append(IndexRow(zones[zone_id], zone_scores, index_value(zone_scores, weights)))
    out.sort(key=lambda r: (-(r.index or 0), r.zone.code))
    return IndexTable(year, method, keys, out)


# --- a municipality's own index, imported as published ---------------------------------------------------------

INDEX_NAMES = ("index", "indeks", "levekarsindeks", "levekarsindeks_totalt", "samlet_indeks")


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
