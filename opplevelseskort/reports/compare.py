"""Zone versions over time: grunnkrets and municipality codes change (Asker was 0220 until 2020, then 3025, then 3203;
Ålesund was split into Ålesund and Haram in 2024). A correspondence (SSB's change lists: old code, new code) lets an
indicator of one version be set beside the same indicator of another; without one the comparison is refused.

How a value crosses a change:
- a new code (one old to one new): the value as it was;
- a merge (several old to one new): counts are added; a share with its numerator and denominator is recomputed from
  their sums; a share without them cannot be merged and is marked "..";
- a split (one old to several new): with the share of the old zone each part got (`weight`), counts are divided by
  it; without, a share (with numerator and denominator) is carried to each part as an estimate, and a count is
  marked "..".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.models import Municipality
from ..extensions import db
from ..zones.models import Zone, ZoneCorrespondence
from . import levekar, periods, published, services
from .models import ZoneIndicator


@dataclass
class Compared:
    code: str
    name: str
    before: float | None
    after: float | None
    note: str  # how the earlier value crossed the change ("", merged from ..., split from ..., estimated)
    status: str | None = None  # ".." when the earlier value cannot cross the change

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass
class Value:
    """A figure of one zone, as the rules need it: the value, its parts (a share's numerator and denominator),
    and what kind it is (a count adds up, a share is recomputed from its parts, a score does neither)."""

    zone: Zone
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    kind: str = "count"  # count | share | score
    status: str | None = None


SOURCES = ("indicator", "uptake", "index")


UPTAKE_MEASURES = ("children_with_card", "active_children", "checkins")


def version_for_year(municipality: Municipality, year: int) -> str | None:
    """The classification version in force in a year: the latest version that is not after it (versions are
    named by the year they took effect), or None when the municipality records none."""
    found = sorted({v for v in db.session.scalars(db.select(Zone.version).where(
        Zone.municipality_id == municipality.id, Zone.version.is_not(None)))})
    earlier = [v for v in found if v <= str(year)]
    return earlier[-1] if earlier else (found[0] if found else None)


def _indicator_values(municipality: Municipality, key: str, year: int) -> dict[str, Value]:
    rows = db.session.execute(db.select(Zone, ZoneIndicator).join(ZoneIndicator, ZoneIndicator.zone_id == Zone.id)
                              .where(Zone.municipality_id == municipality.id, ZoneIndicator.key == key,
                                     ZoneIndicator.year == year)).all()
    return {z.code: Value(z, i.value, i.numerator, i.denominator, _kind(key, i), i.status) for z, i in rows}


SHARE_WORDS = re.compile(r"(andel|share|prosent|percent|pct|rate|ratio)")


def _kind(key: str, row: ZoneIndicator) -> str:
    """A share with its numerator and denominator can be recomputed; a share without them (its key says it is
    one: andel, share, prosent ...) can only be carried; anything else is a count."""
    if row.numerator is not None and row.denominator:
        return "share"
    return "share_only" if SHARE_WORDS.search(key) else "count"


def _in_version(values: dict[str, Value], municipality: Municipality, year: int) -> dict[str, Value]:
    version = version_for_year(municipality, year)
    if version is None:
        return values
    return {c: v for c, v in values.items() if (v.zone.version or version) == version}


def _uptake_values(municipality: Municipality, measure: str, year: int, level: str) -> dict[str, Value]:
    """A published count per zone (hidden stays hidden: None with its symbol), on the zones the year's publication
    counts on: those in force, and a zone of another version no change list leads from."""
    report = published.uptake_report(municipality, periods.parse_period(str(year)), level)
    return {z.code: Value(z, services.shown(report.cells[z.code][measure]), status=report.cells[z.code][measure].status)
            for z in report.zones}


def _index_values(municipality: Municipality, year: int) -> dict[str, Value]:
    table = levekar.compute(municipality, year)
    return _in_version({r.zone.code: Value(r.zone, r.index, kind="score") for r in table.rows}, municipality, year)


def _source_values(municipality: Municipality, source: str, key: str, year: int, level: str) -> dict[str, Value]:
    if source == "uptake":
        if key not in UPTAKE_MEASURES:
            raise DomainError("measure_unknown", _("Ukjent mål «%(key)s».", key=key))
        return _uptake_values(municipality, key, year, level)
    if source == "index":
        return _index_values(municipality, year)
    return _indicator_values(municipality, key, year)


def _version_of(values: dict, year: int) -> str | None:
    versions = {v.zone.version or "" for v in values.values()}
    if len(versions) > 1:
        raise DomainError("versions_mixed", _("Verdiene for %(year)d ligger på soner fra flere versjoner (%(v)s).",
                                              year=year, v=", ".join(sorted(v or "–" for v in versions))))
    return next(iter(versions), "") or None


def compare(municipality: Municipality, key: str, year_before: int, year_after: int, *, source: str = "indicator",
            level: str = "grunnkrets") -> list[Compared]:
    """A figure of one year beside the same figure of a later year, on the later year's zones: an imported
    indicator (`key`), a published uptake count (`source="uptake"`, `key` the measure) or the levekårsindeks."""
    if source not in SOURCES:
        raise DomainError("source_unknown", _("Ukjent kilde «%(source)s».", source=source))
    before = _source_values(municipality, source, key, year_before, level)
    after = _source_values(municipality, source, key, year_after, level)
    # An uptake figure of the earlier year that is on a zone of the later version already (a child registered on a
    # new code that has no single old zone to go back to) is set beside its own zone directly: no child is lost.
    ahead = _ahead(municipality, before, year_before, year_after) if source == "uptake" else {}
    if source == "uptake":
        before = _in_version({c: v for c, v in before.items() if c not in ahead}, municipality, year_before)
        after = _in_version(after, municipality, year_after)
    if not before or not after:
        raise DomainError("compare_empty", _("Indikatoren «%(key)s» mangler for %(year)d.", key=key,
                                             year=year_before if not before else year_after))
    v_before, v_after = _version_of(before, year_before), _version_of(after, year_after)
    if v_before == v_after:
        return [Compared(code, a.zone.name, before[code].value if code in before else None, a.value, "",
                         before[code].status if code in before and before[code].value is None else None)
                for code, a in sorted(after.items())]
    links = db.session.scalars(db.select(ZoneCorrespondence).where(
        ZoneCorrespondence.municipality_id == municipality.id, ZoneCorrespondence.from_version == (v_before or ""),
        ZoneCorrespondence.to_version == (v_after or ""))).all()
    if not links:
        raise DomainError("versions_not_linked", _(
            "Sonene for %(a)d (versjon %(va)s) og %(b)d (versjon %(vb)s) har ulike koder, og det finnes ingen "
            "koblingstabell mellom versjonene. Importer SSBs endringsliste (gammel kode → ny kode) først.",
            a=year_before, va=v_before or "–", b=year_after, vb=v_after or "–"))
    targets: dict[str, list[ZoneCorrespondence]] = {}
    parts: dict[str, int] = {}
    for link in links:
        targets.setdefault(link.new_code, []).append(link)
        parts[link.old_code] = parts.get(link.old_code, 0) + 1
    out = []
    for code, a in sorted(after.items()):
        sources = [(link, before.get(link.old_code)) for link in targets.get(code, [])]
        value, note, status = _cross(sources, parts)
        if code in ahead:
            value, note, status = _with_ahead(value, note, status, ahead[code])
        out.append(Compared(code, a.zone.name, value, a.value, note, status))
    return out


def _weighted(found: list, kinds: set, split: bool) -> float | None:
    """Several earlier figures as one on the later zone: counts added (a split's part by its share), a share
    recomputed from the summed numerators and denominators; None for shares without them (they do not add)."""
    weight = {id(link): (link.weight if split else 1.0) for link, _v in found}
    if kinds == {"share"}:
        num = sum(v.numerator * weight[id(link)] for link, v in found)
        den = sum(v.denominator * weight[id(link)] for link, v in found)
        return num / den * 100
    if kinds == {"count"}:
        return sum(v.value * weight[id(link)] for link, v in found)
    return None


def _ahead(municipality: Municipality, before: dict[str, Value], year_before: int, year_after: int) -> dict:
    """The earlier year's figures that are on zones of the later year's version already."""
    later, earlier = version_for_year(municipality, year_after), version_for_year(municipality, year_before)
    if later is None or later == earlier:
        return {}
    return {c: v for c, v in before.items() if v.zone.version == later}


def _with_ahead(value, note: str, status, extra: Value):
    """A crossed count and the part of it already recorded on the later zone, added (hidden if either is)."""
    if extra.value is None or (value is None and status):
        return None, note, status or extra.status or ":"
    total = (value or 0) + extra.value
    return total, (note + "; " if note else "") + _("med det som alt lå på den nye koden"), None


def _cross(sources, parts: dict[str, int]) -> tuple[float | None, str, str | None]:
    """The earlier figure on a later zone (see the module's rules)."""
    found = [(link, v) for link, v in sources if v is not None]
    if not found:
        return None, "", ".."
    olds = ", ".join(link.old_code for link, _v in found)
    hidden = next((v.status or ":" for _l, v in found if v.value is None and v.kind != "share"), None)
    split = any(parts[link.old_code] > 1 for link, _v in found)
    kinds = {v.kind for _l, v in found}
    if len(found) == 1 and not split:
        link, v = found[0]
        return v.value, (_("ny kode, før %(old)s", old=olds) if link.old_code != link.new_code else ""), \
            (v.status if v.value is None else None)
    if hidden:  # a hidden or missing figure among the parts: the sum is not known either
        return None, _("slått sammen fra %(old)s", old=olds), hidden
    if split and any(link.weight is None for link, _v in found):
        if kinds <= {"share", "share_only", "score"} and len(found) == 1:  # carried to each part: an estimate
            return found[0][1].value, _("delt fra %(old)s: samme andel, anslått", old=olds), None
        return None, _("delt fra %(old)s uten andeler", old=olds), ".."
    value = _weighted(found, kinds, split)
    if value is None:
        return None, _("slått sammen fra %(old)s: andeler uten teller og nevner kan ikke legges sammen", old=olds), ".."
    note = _("delt fra %(old)s", old=olds) if split else _("slått sammen fra %(old)s", old=olds)
    return value, note, None

