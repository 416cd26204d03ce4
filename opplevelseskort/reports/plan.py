"""The publication plan: which tables a period publishes, at which zone levels. The one place that decides it.

Every table published at a level is linked to every other (zones add up, categories add up, measures bound each
other), and each link can force a figure to be hidden to protect another. The headline (children with a card,
active children, reach) is what the zones exist for, so it is published at every level; breakdowns and money,
whose cells are small on a grunnkrets, are published where their cells are large. The report page shows this plan
and README repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

EVERY_LEVEL = "every"  # every zone level and the municipality
ABOVE_FINEST = "above_finest"  # every level but the finest (delområde, bydel) and the municipality
MUNICIPALITY = "municipality"  # the municipality as a whole

NOT_PUBLISHED = ".."  # SSB's "not available": a figure the plan does not publish at this level


@dataclass(frozen=True)
class TableSpec:
    name: str
    measures: tuple[str, ...]
    where: str  # for a calendar year
    shorter: str | None  # for a quarter, a month or a range of dates (None: not published)
    label: object


# A quarter has a quarter of the year's visits, and a reader holds it beside the year and the other quarters: every
# small zone cell of a quarter (the "uoppgitt" zone's three children) ties cells of the year and of the other
# quarters to it. Shorter periods are therefore published for the municipality as a whole (the trend over the
# year), and the zones are the year's.
PLAN: tuple[TableSpec, ...] = (
    TableSpec("uptake", ("children_with_card", "active_children", "uptake", "reach"), EVERY_LEVEL, MUNICIPALITY,
              _l("Barn med kort, aktive barn, opptak og rekkevidde")),
    TableSpec("activity", ("checkins", "offers_used", "no_shows", "loans", "borrowers"), EVERY_LEVEL, MUNICIPALITY,
              _l("Besøk, tilbud brukt, uteblitt, utlån og lånere")),
    TableSpec("value", ("value_nok",), ABOVE_FINEST, MUNICIPALITY, _l("Verdi av besøkene (kr)")),
    TableSpec("money", ("money_children", "money_nok"), ABOVE_FINEST, MUNICIPALITY,
              _l("Barn som brukte aktivitetspenger, og beløpet (kr)")),
    TableSpec("age", ("active_children", "checkins"), ABOVE_FINEST, None,
              _l("Aktive barn og besøk etter aldersgruppe")),
    TableSpec("gender", ("active_children", "checkins"), ABOVE_FINEST, None, _l("Aktive barn og besøk etter kjønn")),
    TableSpec("grant", ("active_children", "checkins", "value_nok", "loans"), MUNICIPALITY, None,
              _l("Tilskuddsrapporten (alder × kjønn, besøk og verdi per kategori, utlån)")),
)
SPECS = {spec.name: spec for spec in PLAN}


def _levels(where: str | None, levels: list[str]) -> list[str]:
    if where == EVERY_LEVEL:
        return list(levels)
    if where == ABOVE_FINEST:
        return list(levels[1:])
    return []


def levels_for(name: str, levels: list[str], *, yearly: bool = True) -> list[str]:
    """The zone levels (finest first) at which table `name` is published for a year (or a shorter period). The
    municipality's own row goes with every table the period publishes at all."""
    spec = SPECS[name]
    return _levels(spec.where if yearly else spec.shorter, levels)


def published(name: str, levels: list[str], level: str | None, *, yearly: bool) -> bool:
    """Whether table `name` is published at `level` (None: the municipality as a whole) for a period."""
    spec = SPECS[name]
    if (spec.where if yearly else spec.shorter) is None:
        return False
    return level is None or level in levels_for(name, levels, yearly=yearly)


# A zone level is published only where its zones are large enough for the tables to be worth protecting: when at
# least half of its zones with children with a card have REPORT_ZONE_MIN_CARDS of them (default 10; 0 turns the
# rule off), and breakdowns where half have twice that many active children. Tiny zones everywhere (the first
# weeks of a scheme, a small municipality's grunnkretser) would be hidden nearly cell by cell, slowly; the level
# above says more.


def dense_enough(values: list[int], minimum: int) -> bool:
    """At least half of the non-zero values reach `minimum` (always, when the minimum is 0)."""
    if minimum <= 0:
        return True
    nonzero = [v for v in values if v > 0]
    return bool(nonzero) and sum(v >= minimum for v in nonzero) * 2 >= len(nonzero)


def describe(levels: list[str]) -> list[tuple[object, list[str], list[str]]]:
    """The plan for a municipality's levels, as (table, levels for a year, levels for a shorter period)."""
    return [(spec.label, levels_for(spec.name, levels), levels_for(spec.name, levels, yearly=False)
             if spec.shorter else None) for spec in PLAN]
