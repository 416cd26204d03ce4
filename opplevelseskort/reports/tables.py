"""The period's tables as the cells and relations of one disclosure system: one function per table family.

Cells are named tuples, so a key says which table it belongs to:

- `ZoneCell(zone, measure)`: the uptake and activity tables, one row per zone at every level and one `TOTAL` row;
- `CategoryCell(by, zone, category, measure)`: the age and gender breakdowns;
- `GrantCell(part, key, sub)`: the grant report's own cells;
- `Eligible(zone)`: SSB's children 6-17 (public, never hidden);
- `InPeriod(period, cell)`: any of the above in one period, when several periods are protected together (a year,
  its quarters and its months).

Every relation a reader can write down is added here, including the zones without a parent at a level (SSB's
"uoppgitt" grunnkrets NNNN9999): a level's rows are its zones *and* those orphans, so every level adds up to the
same municipality total. Pure functions over counts; the protection itself is `disclosure.protect`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .disclosure import Need, System
from .suppression import primary_count

# What a zone's row holds: counts, and rates made of them (and the indicator the headline sets reach beside).
LOW_INCOME_KEY = "low_income_children_share"
COUNT_MEASURES = ["children_with_card", "active_children", "checkins", "offers_used", "no_shows", "loans",
                  "borrowers", "value_nok", "money_children", "money_nok"]
RATE_MEASURES = ["uptake", "reach"]
MEASURES = COUNT_MEASURES + RATE_MEASURES


def shown(cell):
    """A published cell's value, or None where it is hidden or has no value."""
    return None if cell.status else cell.value


TOTAL = "total"
ADDITIVE = ("children_with_card", "active_children", "checkins", "no_shows", "loans", "borrowers")
AUDITED = (*ADDITIVE, "offers_used")
BREAKDOWN_MEASURES = ("active_children", "checkins")
# What hiding a cell costs, per unit of its value: the headline is what the zones are for.
IMPORTANCE = {"children_with_card": 4.0, "active_children": 4.0, "checkins": 2.0}
HEADLINE = ("children_with_card", "active_children")
GRANT_IMPORTANCE = 2.0
TOTAL_COST = 10.0  # a municipality figure is hidden only when nothing cheaper protects
MONEY_CHILDREN = "money_children"  # children who used activity money (settled) in the period: protected like a count
MONEY_NOK = "money_nok"  # the kroner they used: hidden with the count (an amount over a price gives it back)
# Counts that can only grow when the period grows (a quarter's figure is at most its year's).
GROWS_WITH_PERIOD = (*AUDITED, MONEY_CHILDREN)


class ZoneCell(NamedTuple):
    zone: str
    measure: str


class CategoryCell(NamedTuple):
    by: str
    zone: str
    category: str
    measure: str


class GrantCell(NamedTuple):
    part: str
    key: str = ""
    sub: str = ""


class Eligible(NamedTuple):
    zone: str


class InPeriod(NamedTuple):
    period: str
    cell: tuple


CELL_TYPES = {t.__name__: t for t in (ZoneCell, CategoryCell, GrantCell)}


def cell_to_json(cell: tuple) -> list:
    """A published cell's key as stored with its publication (`["ZoneCell", "30010101", "active_children"]`)."""
    return [type(cell).__name__, *cell]


def cell_from_json(data: list) -> tuple | None:
    """The key back from its stored form (None for a form this version does not know)."""
    kind = CELL_TYPES.get(data[0]) if data else None
    try:
        return kind(*data[1:]) if kind else None
    except TypeError:
        return None


# Counts of events add up over the quarters to the year; counts of distinct children or offers do not (a child
# active in two quarters is one active child of the year): the year is at most their sum.
EVENTS = ("checkins", "no_shows", "loans")


# --- the zone tree ---------------------------------------------------------------------------

@dataclass
class Tree:
    """Zone levels (finest first) and, per level, the zones shown as its rows: the level's own zones and the zones
    below it that have no ancestor at it (an "uoppgitt" grunnkrets is a row of every level above it)."""

    levels: list[str]
    rows: dict[str, list]
    row_of: dict[str, dict[int, int]]  # level -> zone id -> the id of the row it is counted in
    by_id: dict


def zone_tree(zones: list) -> Tree:
    by_id = {z.id: z for z in zones}

    def chain(z):
        seen, node = [], z
        while node is not None and node.id not in {n.id for n in seen}:
            seen.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        return seen  # the zone, its parent, ...

    depth: dict[str, int] = {}
    for z in zones:
        depth[z.level] = max(depth.get(z.level, 0), len(chain(z)) - 1)
    levels = sorted(depth, key=lambda lv: (-depth[lv], lv))
    rows: dict[str, list] = {}
    row_of: dict[str, dict[int, int]] = {}
    for level in levels:
        mapping: dict[int, int] = {}
        for z in zones:
            if depth[z.level] < depth[level] or (depth[z.level] == depth[level] and z.level != level):
                continue
            up = chain(z)
            at = next((n for n in up if n.level == level), None)
            if at is None:  # no ancestor at this level: counted in its topmost ancestor below the level
                below = [n for n in up if depth[n.level] > depth[level]]
                at = below[-1] if below else None
            if at is not None:
                mapping[z.id] = at.id
        row_of[level] = mapping
        rows[level] = sorted({by_id[i] for i in mapping.values()}, key=lambda z: (z.level != level, z.code))
    return Tree(levels, rows, row_of, by_id)


# --- counts per level ------------------------------------------------------------------------

@dataclass
class LevelCounts:
    level: str
    zones: list
    per_zone: dict  # zone id -> measure -> count
    total: dict
    eligible: dict  # zone id -> eligible children (None: not known)
    eligible_total: float | None
    eligible_status: dict


# --- table families --------------------------------------------------------------------------

def _needs(system: System, key, value: int, *, min_count: int, tiny: bool, complement=None) -> None:
    """A primary cell's needs. 1..min-1: can reach min (in a tiny zone, where it cannot, it can be 0 instead).
    Hidden for a small complement (den - value): the complement can reach min too (not in a tiny zone, where no
    count can and every cell may be 0)."""
    if 0 < value < min_count:
        system.need(key, Need.down(key, 0) if tiny else Need.up(key, min_count))
    if complement is not None and not tiny:
        den_key, den = complement
        if 0 < den - value < min_count:
            system.need(key, Need(((den_key, 1), (key, -1)), 1, min_count))
    if key not in system.needs and value:
        system.need(key, Need.down(key, value - 1) if system.lower(key) < value else Need.up(key, value + 1))


def add_uptake(system: System, tree: Tree, counts: dict[str, LevelCounts], levels: list[str], min_count: int) -> set[str]:
    """The uptake and activity tables at the plan's levels with the municipality total. Returns the tiny rows: zones
    with 1..min-1 eligible children (SSB's figure is public), where every cell is hidden, zeros too."""
    tiny: set[str] = set()
    for level in [*levels, None]:
        c = counts[level or tree.levels[0]]
        for zone in c.zones if level else [None]:
            code = zone.code if zone else TOTAL
            if ZoneCell(code, "checkins") in system.values:
                continue  # a row of several levels (an orphan zone, the total): one set of cells
            row = c.per_zone[zone.id] if zone else c.total
            elig = c.eligible.get(zone.id) if zone else c.eligible_total
            is_tiny = elig is not None and 0 < elig < min_count
            if is_tiny:
                tiny.add(code)
            if elig is not None:
                system.add_fixed(Eligible(code), int(elig))
            for m in AUDITED:
                key, v = ZoneCell(code, m), row[m]
                # The complement rule protects a sensitive share: nearly every child of a zone (SSB's children
                # 6-17) holding a card says any child there is from a low-income family. Card holders who did not
                # use the card say nothing about anyone's income, so active children have no complement rule: 117
                # of 120 card holders active is shown (it hid the large zones' headline, and 0 of 120 was shown).
                den = int(elig) if m == "children_with_card" and elig is not None else None
                primary = is_tiny or primary_count(v, den, min_count)
                system.add(key, v, hidden=primary,
                           weight=IMPORTANCE.get(m, 1.0) * (1 + v) * (TOTAL_COST if code == TOTAL else 1))
                if m in HEADLINE:
                    system.rows[key] = code
                # a zero is hidden only in a tiny zone
                if is_tiny:
                    system.may_be_zero.add(key)
                if primary:
                    comp = (Eligible(code), int(elig)) if m == "children_with_card" and elig is not None else None
                    _needs(system, key, v, min_count=min_count, tiny=is_tiny, complement=comp)
            if elig is not None:
                system.at_most(ZoneCell(code, "children_with_card"), Eligible(code))
            system.at_most(ZoneCell(code, "active_children"), ZoneCell(code, "children_with_card"))
            system.at_most(ZoneCell(code, "active_children"), ZoneCell(code, "checkins"))
            system.at_most(ZoneCell(code, "offers_used"), ZoneCell(code, "checkins"))
            system.at_most(ZoneCell(code, "borrowers"), ZoneCell(code, "loans"))
    for m in ADDITIVE:
        _sums(system, tree, levels, lambda code, m=m: ZoneCell(code, m))
    return tiny


def add_money(system: System, tree: Tree, counts: dict[str, LevelCounts], levels: list[str], tiny: set[str],
              min_count: int) -> None:
    """The money table (children who used activity money) at the levels the plan publishes it and for the
    municipality: a count protected like the headline's, at most the row's children with a card, rows adding up."""
    for level in [*levels, None]:
        c = counts[level or tree.levels[0]]
        for zone in c.zones if level else [None]:
            code = zone.code if zone else TOTAL
            key = ZoneCell(code, MONEY_CHILDREN)
            if key in system.values:
                continue
            v = (c.per_zone[zone.id] if zone else c.total)[MONEY_CHILDREN]
            primary = code in tiny or primary_count(v, None, min_count)
            system.add(key, v, hidden=primary, weight=(1 + v) * (TOTAL_COST if code == TOTAL else 1))
            if code in tiny:
                system.may_be_zero.add(key)
            if primary:
                _needs(system, key, v, min_count=min_count, tiny=code in tiny)
            if ZoneCell(code, "children_with_card") in system.values:
                system.at_most(key, ZoneCell(code, "children_with_card"))
    _sums(system, tree, levels, lambda code: ZoneCell(code, MONEY_CHILDREN))


def _sums(system: System, tree: Tree, levels: list[str], cell) -> None:
    """Each level's rows add up to the total; each row of a level to the rows of the next finer level in it."""
    for i, level in enumerate(levels):
        system.equal(cell(TOTAL), [cell(z.code) for z in tree.rows[level]])
        if i == 0:
            continue
        finer = levels[i - 1]
        parts: dict[int, list] = {}
        for z in tree.rows[finer]:
            parts.setdefault(tree.row_of[level][z.id], []).append(z)
        for row in tree.rows[level]:
            kids = parts.get(row.id, [])
            if kids and [k.id for k in kids] != [row.id]:
                system.equal(cell(row.code), [cell(k.code) for k in kids])


def add_breakdown(system: System, tree: Tree, by: str, categories: list[str], levels: list[str],
                  counts: dict[str, tuple[dict, dict]], totals: dict[tuple[str, str], int], tiny: set[str],
                  min_count: int) -> None:
    """Active children and check-ins per category at the plan's levels and for the municipality. Each zone's
    categories add up to its figure in the uptake table; each category over the zones to its municipality figure."""
    for m in BREAKDOWN_MEASURES:
        for cat in categories:
            key = CategoryCell(by, TOTAL, cat, m)
            value = totals.get((cat, m), 0)
            system.add(key, value, hidden=primary_count(value, None, min_count), weight=(1.0 + value) * TOTAL_COST)
            if system.unknown(key):
                _needs(system, key, value, min_count=min_count, tiny=False)
        system.equal(ZoneCell(TOTAL, m), [CategoryCell(by, TOTAL, cat, m) for cat in categories])
    for level in levels:
        active, checkins = counts[level]
        for z in tree.rows[level]:
            if CategoryCell(by, z.code, categories[0], "checkins") in system.values:
                continue
            is_tiny = z.code in tiny
            for cat in categories:
                for m, src in (("active_children", active), ("checkins", checkins)):
                    key, v = CategoryCell(by, z.code, cat, m), src.get((z.id, cat), 0)
                    primary = is_tiny or primary_count(v, None, min_count)
                    system.add(key, v, hidden=primary, weight=1.0 + v)
                    if is_tiny:
                        system.may_be_zero.add(key)
                    if primary:
                        _needs(system, key, v, min_count=min_count, tiny=is_tiny)
                system.at_most(CategoryCell(by, z.code, cat, "active_children"), CategoryCell(by, z.code, cat, "checkins"))
            for m in BREAKDOWN_MEASURES:
                system.equal(ZoneCell(z.code, m), [CategoryCell(by, z.code, cat, m) for cat in categories])
    for cat in categories:
        system.at_most(CategoryCell(by, TOTAL, cat, "active_children"), CategoryCell(by, TOTAL, cat, "checkins"))
        for m in BREAKDOWN_MEASURES:
            _sums(system, tree, levels, lambda code, cat=cat, m=m: CategoryCell(by, code, cat, m))


def add_grant(system: System, grant: dict, min_count: int) -> None:
    """The grant report (a calendar year, the municipality): active children by age band x gender (adding up to
    the breakdowns' municipality figures), check-ins by offer category, loans."""

    def cell(key, v):
        hidden = primary_count(v, None, min_count)
        system.add(key, v, hidden=hidden, weight=GRANT_IMPORTANCE * (1 + v))
        if hidden:
            _needs(system, key, v, min_count=min_count, tiny=False)

    bg = []
    for band, gender, n in grant["by_band"]:
        cell(GrantCell("bg", band, gender), n)
        bg.append(GrantCell("bg", band, gender))
    system.equal(ZoneCell(TOTAL, "active_children"), bg)
    for band in sorted({k.key for k in bg}):
        system.equal(CategoryCell("age", TOTAL, band, "active_children"), [k for k in bg if k.key == band])
    for gender in sorted({k.sub for k in bg}):
        system.equal(CategoryCell("gender", TOTAL, gender, "active_children"), [k for k in bg if k.sub == gender])
    cats = []
    for category, n, _value in grant["by_cat"]:
        cell(GrantCell("cat", category), n)
        cats.append(GrantCell("cat", category))
    system.equal(ZoneCell(TOTAL, "checkins"), cats)
    cell(GrantCell("loans"), grant["loans"])
    system.equal(GrantCell("loans"), [ZoneCell(TOTAL, "loans")])


def _wrap(label: str):
    def wrap(k):
        return k if isinstance(k, Eligible) else InPeriod(label, k)
    return wrap


def merge_period(into: System, label: str, system: System) -> None:
    """One period's unprotected tables into a system of several periods, each cell marked with its period."""
    wrap = _wrap(label)
    for k, v in system.values.items():
        w = wrap(k)
        if k in system.fixed:
            into.add_fixed(w, v)
        elif k in system.latent:
            into.add_latent(w, v)
        else:
            into.add(w, v, hidden=k in system.hidden, weight=system.weights.get(k))
        if k in system.may_be_zero:
            into.may_be_zero.add(w)
        if k in system.rows:
            into.rows[w] = (label, system.rows[k])
        for need in system.needs.get(k, ()):
            into.need(w, Need(tuple((wrap(c), a) for c, a in need.expr), need.sense, need.target))
    into.equalities += [(wrap(t), tuple(wrap(p) for p in ps)) for t, ps in system.equalities]
    into.inequalities += [(wrap(a), wrap(b)) for a, b in system.inequalities]


def link_periods(system: System, year: str, quarters: list[str]) -> None:
    """What a reader of a year and its quarters can write down: each quarter's count is at most the year's; counts
    of events over the four quarters add up to the year's; any other count of the year is at most their sum."""
    cells = {k.cell for k in system.values if isinstance(k, InPeriod) and k.period == year
             and isinstance(k.cell, ZoneCell | CategoryCell) and k.cell.measure in GROWS_WITH_PERIOD}
    for cell in sorted(cells, key=repr):
        whole = InPeriod(year, cell)
        parts = [InPeriod(q, cell) for q in quarters if InPeriod(q, cell) in system.values]
        for part in parts:
            system.at_most(part, whole)
        if len(parts) != len(quarters):
            continue
        if cell.measure in EVENTS:
            system.equal(whole, parts)
        else:
            total = InPeriod("+".join(quarters), cell)
            system.add_latent(total, sum(system.values[p] for p in parts))
            system.equal(total, parts)
            system.at_most(whole, total)
