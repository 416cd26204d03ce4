"""Secondary suppression as an optimisation over every table published for a period. Pure functions, no database.

The tables of a period are one system of published numbers. A reader knows equalities (zones add up to their
parent and to the total, categories to their zone), inequalities (active <= with card <= eligible, ...) and that
a hidden cell is at least 1 (zeros are shown) unless a rule that also hides zeros could have hidden it.

Each primary (sensitive) cell carries a *need*: a bound the reader's best estimate must be able to reach. A count
from 1 to 4 must be able to be at least the threshold (5), so nobody can tell it is "small but not zero"; a count
hidden because its complement is small must let the complement reach the threshold; a hidden cell that may be 0
and can never reach the threshold (a zone with 3 eligible children) must be able to be 0.

`protect` meets the needs one after another, each time by the cheapest completion: one integer program (HiGHS,
through scipy) over the cells near the need chooses which shown cells to hide (the cost of hiding a cell grows with
its value and its importance) together with a whole-number deviation from the true values that every relation
allows and that moves the protected expression as far as the need asks. That deviation is a solution the reader
cannot rule out, so the need is met for certain, and hiding more for a later need only widens what the reader
must allow. This is a cost-minimising heuristic in the spirit of tau-ARGUS's "modular" method (each need solved
optimally in its neighbourhood) rather than one global optimum (Fischetti and Salazar's "optimal", tried here with
cuts from the reader's dual: 60 rounds, 75 s and still open on the synthetic municipality). A need that a known
reader's solution (a witness) already meets costs nothing; one met by what an earlier need hid, one linear program.

A hidden cell that is not a primary and that the published cells pin to one value protects nothing: it is shown.
A solver answer contradicted by the true values (they are always feasible) is retried with other settings and
otherwise met by hiding more; it never reaches the user.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from .programs import TOL, Index, Reader, completion_milp, fractional, integral

log = logging.getLogger(__name__)


Key = Hashable


NODE_LIMIT = 20000


DEAR = 2000.0  # a completion costing more than this is compared with one found a step further out


@dataclass(frozen=True)
class Need:
    """The reader's best bound on sum(coef * cell) must reach `target`: at least it (sense +1), at most (sense -1)."""

    expr: tuple[tuple[Key, int], ...]
    sense: int
    target: int

    @classmethod
    def up(cls, key: Key, target: int) -> Need:
        return cls(((key, 1),), 1, target)

    @classmethod
    def down(cls, key: Key, target: int) -> Need:
        return cls(((key, 1),), -1, target)


@dataclass
class System:
    """Cells with their true values, which of them are hidden, and the relations a reader can use.

    `latent` keys are sums nobody publishes: unknowns for the reader, never audited themselves. `fixed` keys are
    published elsewhere and never hidden (eligible children from SSB). `keep` cells are hidden only when a primary
    rule hides them (the tables use none: a municipality total is dear to hide instead). `needs` hold each primary
    cell's protection (see `Need`); a hidden cell without one gets the default rule.
    """

    values: dict[Key, int] = field(default_factory=dict)
    hidden: set[Key] = field(default_factory=set)
    latent: set[Key] = field(default_factory=set)
    fixed: set[Key] = field(default_factory=set)
    may_be_zero: set[Key] = field(default_factory=set)
    keep: set[Key] = field(default_factory=set)
    weights: dict[Key, float] = field(default_factory=dict)
    needs: dict[Key, list[Need]] = field(default_factory=dict)
    equalities: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)  # total == sum(parts)
    inequalities: list[tuple[Key, Key]] = field(default_factory=list)  # small <= big
    threshold: int = 5
    primary: frozenset = frozenset()  # the hidden cells before protection (set by `protect`)
    moves: dict = field(default_factory=dict)  # hidden secondary cell -> a range it was shown to move in
    outcome: object = None  # what the last `protect` did (an `Outcome`)
    # cell -> the row it is shown in (a zone's headline): a second hidden cell in a row already hidden costs less,
    # since a reader has lost that row's figure anyway
    rows: dict = field(default_factory=dict)

    def add(self, key: Key, value: int, *, hidden: bool = False, weight: float | None = None) -> None:
        """A published (or primary hidden) cell; hiding it costs `weight`, by default 1 + its value (hide the
        least information)."""
        self.values[key] = int(value)
        self.weights[key] = 1.0 + abs(int(value)) if weight is None else weight
        if hidden:
            self.hidden.add(key)

    def add_latent(self, key: Key, value: int) -> None:
        self.values[key] = int(value)
        self.latent.add(key)

    def add_fixed(self, key: Key, value: int) -> None:
        self.values[key] = int(value)
        self.fixed.add(key)

    def need(self, key: Key, need: Need) -> None:
        self.needs.setdefault(key, []).append(need)

    def equal(self, total: Key, parts: Iterable[Key]) -> None:
        """Record total == sum(parts), if it holds for the true values (a relation that does not hold only
        misleads a reader; it cannot disclose anything)."""
        parts = tuple(p for p in parts if p in self.values)
        if total in self.values and parts and self.values[total] == sum(self.values[p] for p in parts):
            self.equalities.append((total, parts))

    def at_most(self, small: Key, big: Key) -> None:
        if small in self.values and big in self.values and self.values[small] <= self.values[big]:
            self.inequalities.append((small, big))

    @property
    def cap(self) -> int:
        """A bound far above any count: stands in for "no upper bound", so every direction has an optimum."""
        return 10 * max([1, *self.values.values()]) + 1000

    def unknown(self, key: Key) -> bool:
        return key in self.hidden or key in self.latent

    def lower(self, key: Key) -> int:
        return 0 if key in self.latent or key in self.may_be_zero else 1

    def fingerprint(self) -> str:
        return hashlib.sha256(repr((
            sorted(self.values.items(), key=repr), sorted(self.hidden, key=repr), sorted(self.latent, key=repr),
            sorted(self.may_be_zero, key=repr), sorted(self.fixed, key=repr), sorted(self.keep, key=repr),
            sorted(self.weights.items(), key=repr), sorted(self.needs.items(), key=repr), self.equalities,
            self.inequalities, self.threshold)).encode()).hexdigest()


def needs_of(system: System, keys: Iterable[Key] | None = None) -> list[tuple[Key, Need]]:
    """Every primary cell's needs (or those of `keys`): its own, or the default rule for a hidden cell.

    Default: a count from 1 to threshold-1 must be able to reach the threshold; any other non-zero hidden cell
    must be able to move by one (down where its lower bound allows, else up).
    """
    out = []
    for k in sorted(system.primary or system.hidden if keys is None else keys, key=repr):
        if k in system.needs:
            out += [(k, n) for n in system.needs[k]]
            continue
        v = system.values[k]
        if v == 0:
            continue
        if v < system.threshold:
            out.append((k, Need.up(k, system.threshold)))
        else:
            out.append((k, Need.down(k, v - 1) if system.lower(k) < v else Need.up(k, v + 1)))
    return out


def _shortfall(system: System, need: Need) -> float:
    """How far the need's target is from the expression's true value, in the direction it asks (> 0)."""
    truth = sum(a * system.values[k] for k, a in need.expr)
    return need.sense * (need.target - truth)


@dataclass
class Outcome:
    """What `protect` did: needs checked, linear programs (readers) and integer programs (completions) solved,
    needs it could not meet (logged), hidden cells shown again because they were pinned anyway."""

    rounds: int = 0
    completions: int = 0
    readers: int = 0
    unmet: list = field(default_factory=list)
    shown_again: int = 0


class _Witnesses:
    """Whole-number deviations from the true values that the reader cannot rule out. Hiding more only widens what
    the reader must allow, so a witness found once stays valid, and a need it already moves far enough is met
    without solving anything."""

    def __init__(self):
        self.up: dict = {}
        self.down: dict = {}
        self.all: list[dict] = []
        self.of: dict = {}

    def add(self, keys, x) -> None:
        z = {k: round(v) for k, v in zip(keys, x, strict=True) if abs(v) > 0.5}
        if not z:
            return
        for k, v in z.items():
            self.up[k] = max(self.up.get(k, 0), v)
            self.down[k] = min(self.down.get(k, 0), v)
            self.of.setdefault(k, []).append(len(self.all))
        self.all.append(z)

    def meet(self, need: Need, short: float) -> bool:
        if len(need.expr) == 1:
            (k, a), = need.expr
            best = self.up.get(k, 0) if a * need.sense > 0 else -self.down.get(k, 0)
            return best * abs(a) >= short - TOL
        for i in {i for k, _a in need.expr for i in self.of.get(k, ())}:
            z = self.all[i]
            if need.sense * sum(a * z.get(k, 0) for k, a in need.expr) >= short - TOL:
                return True
        return False


def protect(system: System, *, node_limit: int = NODE_LIMIT, seed: int = 7) -> int:
    """Hide cells until every need is met, each time at the least cost. Returns how many cells were hidden beyond
    the primary ones; `system.outcome` says how it went."""
    before = len(system.hidden)
    outcome = Outcome()
    system.outcome = outcome
    index = Index(system)
    forced = set(system.hidden)
    system.primary = frozenset(forced)
    needs = [(k, n) for k, n in needs_of(system) if _shortfall(system, n) > 0]
    witnesses = _Witnesses()
    _push_groups(system, needs, witnesses, index, outcome, random.Random(seed))
    for key, need in needs:
        outcome.rounds += 1
        if witnesses.meet(need, _shortfall(system, need)):
            continue
        added = _cheapest_completion(system, index, need, outcome, witnesses, node_limit=node_limit)
        if added is None:
            added = _hide_around(system, index, need, outcome)
        if added is None:
            outcome.unmet.append(key)
            log.warning("disclosure: a need cannot be met by hiding more: %r", need)
        else:
            system.hidden |= added
    outcome.shown_again = _show_pinned(system, index, forced)
    return len(system.hidden) - before


def _push_groups(system: System, needs: list, witnesses: _Witnesses, index: Index, outcome: Outcome, rng) -> None:
    """Push the needy cells of each hidden group up at once (random weights), then down, again for the cells whose
    need no witness meets yet, while that still helps: one linear program moves many cells, and each whole-number
    answer is a witness."""
    single: dict[int, dict] = {1: {}, -1: {}}
    for _k, need in needs:
        if len(need.expr) == 1:
            (cell, a), = need.expr
            sense = need.sense if a > 0 else -need.sense
            single[sense][cell] = max(single[sense].get(cell, 0.0), _shortfall(system, need) / abs(a))
    cells_all = set(single[1]) | set(single[-1])
    for group in index.components(sorted(cells_all, key=repr), system.unknown):
        reader = Reader(index, group)
        for sense in (1, -1):
            todo = sorted((k for k in group if k in single[sense]), key=repr)
            for _ in range(12):
                todo = [k for k in todo if not witnesses.meet(Need(((k, 1),), sense, 0), single[sense][k])]
                if not todo:
                    break
                outcome.readers += 1
                _best, res = reader.solve({k: rng.uniform(0.5, 1.5) for k in todo}, sense, system.unknown)
                if not integral(res):
                    break
                witnesses.add(reader.keys, res.x)
                if not any(witnesses.meet(Need(((k, 1),), sense, 0), single[sense][k]) for k in todo):
                    break


def _hide_around(system: System, index: Index, need: Need, outcome: Outcome) -> set | None:
    """When no integer program answers (the solver failed on a system the true values satisfy): hide every shown
    cell in the relations around the need, a step wider each time, until the reader's program says it is met."""
    expr = dict(need.expr)
    short = _shortfall(system, need)
    before = set(system.hidden)
    for hops in (1, 2, 4, 8):
        around = _neighbourhood(index, index.component(expr, system.unknown) | set(expr), hops)
        system.hidden |= {k for k in around if not system.unknown(k) and k not in system.fixed
                          and k not in system.keep and system.values[k] > 0}
        outcome.readers += 1
        reader = Reader(index, index.component(expr, system.unknown), extra=expr)
        best, res = reader.solve(expr, need.sense, system.unknown)
        if best is not None and best >= short - TOL and not integral(res):  # a whole-number answer is proof
            best, res = reader.solve(expr, need.sense, system.unknown, integer=True)
        if best is not None and best >= short - TOL:
            added = system.hidden - before
            system.hidden = before
            log.warning("disclosure: solver failed; met a need by hiding %s cells around it", len(added))
            return added
    system.hidden = before
    return None


def _neighbourhood(index: Index, start: set, hops: int, widest: int | None = None) -> set:
    """The cells within `hops` relations of `start`, stepping only through relations of at most `widest` cells (a
    municipality total over a hundred zones is a constraint of the neighbourhood, not a way into all of them)."""
    out, frontier = set(start), set(start)
    for _ in range(hops):
        new = set()
        for k in frontier:
            for r in index.of.get(k, ()):
                if widest is None or len(index.rels[r].coefs) <= widest:
                    new.update(index.rels[r].coefs)
        frontier = new - out
        out |= frontier
        if not frontier:
            break
    return out


def _cheapest_completion(system: System, index: Index, need: Need, outcome: Outcome, witnesses: _Witnesses, *,
                         node_limit: int) -> set | None:
    """The cheapest set of shown cells to hide so that the need is met, found as one integer program over the cells
    near it: a whole-number deviation z from the true values that every relation allows, that moves the protected
    expression as far as the need asks, and that moves only hidden cells (x = 1). Such a z is a reader's solution,
    so the need is then met for certain; hiding more later only widens what the reader must allow.

    The neighbourhood grows (two steps through small relations, three through larger ones, then the whole system)
    until a solution exists; a need already met (often by what an earlier need hid) is a solution of cost 0 in the
    smallest one. Returns the cells to hide (empty when none are needed), or None when nothing may be hidden."""
    expr = dict(need.expr)
    short = _shortfall(system, need)
    total = len(system.values)
    # Small neighbourhoods first: what to hide is nearly always next to the cell; cells outside stay at their true
    # values in the reader's solution, which keeps it a valid one.
    best: tuple[float, set] | None = None
    for hops, widest in ((2, 30), (3, 120), (None, None)):
        keys = set(system.values) if hops is None else _neighbourhood(index, set(expr), hops, widest)
        # whole-number choices of what to hide, with the deviation continuous (fast); a fractional deviation is then
        # solved again in whole numbers, and the presolve switched off if the solver still finds nothing
        for whole, options in ((False, {}), (True, {}), (True, {"presolve": False})):
            outcome.completions += 1
            answer = completion_milp(system, index, keys, expr, need.sense, short, node_limit, options, whole)
            if answer is None:
                continue
            added, zkeys, z = answer
            if not whole and fractional(z):
                continue
            cost = sum(system.weights.get(k, 1.0) for k in added)
            if best is None or cost < best[0]:
                witnesses.add(zkeys, z)
                best = (cost, added)
            break
        # a dear answer (a municipality total, a large zone) may have a cheap one a step further out
        if len(keys) >= total or (best is not None and best[0] <= DEAR):
            break
    return None if best is None else best[1]
    return None


def _show_pinned(system: System, index: Index, forced: set) -> int:
    """Show hidden cells that protect nothing: secondary cells (and primaries whose need is about their complement)
    that what is published pins to one value anyway. Showing a pinned cell tells the reader nothing new, so the
    other cells' ranges stay as they are."""
    candidates = [k for k in system.hidden if system.values[k] != 0
                  and (k not in forced or (k in system.needs and all(dict(n.expr) != {k: 1} for n in system.needs[k])))]
    if not candidates:
        return 0
    rng = random.Random(7)
    shown = 0
    for group in index.components(sorted(candidates, key=repr), system.unknown):
        ranges = _group_ranges(system, index, group, sorted((k for k in group if k in candidates), key=repr), rng)
        for k, (lo, hi) in ranges.items():
            if hi - lo < 0.5:
                system.hidden.discard(k)
                shown += 1
            else:
                system.moves[k] = (lo, hi)
    return shown


def _group_ranges(system: System, index: Index, group: set, audited: list, rng) -> dict:
    """Whole-number ranges of the audited cells of one group: pushed together in random directions, then one by one
    for the cells no batch moved. A cell whose range cannot be computed is reported open (kept hidden)."""
    reader = Reader(index, group)
    truth = {k: 0.0 for k in audited}
    lo, hi = dict(truth), dict(truth)
    unknown = system.unknown

    def absorb(res):
        if res is None or res.x is None or not integral(res):
            return False
        for k in audited:
            v = res.x[reader.col[k]]
            lo[k], hi[k] = min(lo[k], round(v)), max(hi[k], round(v))
        return True

    def push(expr, sense):
        best, res = reader.solve(expr, sense, unknown)
        if best is None:
            return False
        if not absorb(res):
            best, res = reader.solve(expr, sense, unknown, integer=True)
            if best is None:
                return False
            absorb(res)
        return True

    undecided = set(audited)
    for sense in (1, -1):
        for _ in range(20):
            if not undecided:
                break
            push({k: rng.uniform(0.5, 1.5) for k in sorted(undecided, key=repr)}, sense)
            moved = {k for k in undecided if hi[k] - lo[k] >= 1}
            if not moved:
                break
            undecided -= moved
    failed = set()
    for k in sorted(undecided, key=repr):
        for sense in (1, -1):
            if hi[k] - lo[k] >= 1:
                break
            if not push({k: 1}, sense):
                failed.add(k)
    return {k: (system.values[k] + lo[k], system.values[k] + hi[k] + (1 if k in failed else 0)) for k in audited}


def ranges(system: System, *, seed: int = 7) -> dict[Key, tuple[float, float]]:
    """The smallest and largest value each hidden cell can take given what is published (a proven sub-range for
    cells that move: at least one unit wide, which is all a caller needs). A cell in no relation ranges from its
    lower bound upwards."""
    index = Index(system)
    rng = random.Random(seed)
    out: dict[Key, tuple[float, float]] = {}
    for group in index.components(sorted(system.hidden, key=repr), system.unknown):
        audited = sorted((k for k in group if k in system.hidden), key=repr)
        out.update(_group_ranges(system, index, group, audited, rng))
    for k in system.hidden:
        out.setdefault(k, (float(system.lower(k)), math.inf))
    return out


def disclosed(system: System, **kw) -> list[Key]:
    """Hidden non-zero cells the published relations pin to one whole number."""
    return sorted((k for k, (lo, hi) in ranges(system, **kw).items() if hi == lo and system.values[k] != 0), key=repr)


def unmet(system: System) -> list[tuple[Key, Need]]:
    """Needs the published tables do not meet, checked in whole numbers (for tests and the benchmark)."""
    index = Index(system)
    out = []
    for k, need in needs_of(system):
        short = _shortfall(system, need)
        if short <= 0:
            continue
        expr = dict(need.expr)
        reader = Reader(index, index.component(expr, system.unknown), extra=expr)
        best, _res = reader.solve(expr, need.sense, system.unknown, integer=True)
        if best is None or best < short - TOL:
            out.append((k, need))
    return out


_CACHE: OrderedDict[str, tuple] = OrderedDict()


_CACHE_SIZE = 64


def protect_cached(system: System) -> int:
    """`protect`, remembered by the exact cells, values, needs and relations (the same tables give the same answer,
    so a dashboard reloaded while nothing changed does not solve again)."""
    fingerprint = system.fingerprint()
    before = len(system.hidden)
    if fingerprint in _CACHE:
        _CACHE.move_to_end(fingerprint)
        hidden, system.primary, moves, system.outcome = _CACHE[fingerprint]
        system.hidden, system.moves = set(hidden), dict(moves)
    else:
        protect(system)
        _CACHE[fingerprint] = (frozenset(system.hidden), system.primary, dict(system.moves), system.outcome)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return len(system.hidden) - before

