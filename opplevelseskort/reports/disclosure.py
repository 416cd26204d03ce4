"""Secondary suppression over every table published for one period, checked with linear programming.

The tables of a period (the uptake table at each zone level with its total row, the age and gender breakdowns
at each level, and for a calendar year the grant report) are one system of published numbers. A reader knows:

- equalities: a parent zone's count is the sum of its child zones', each level adds up to the total, a zone's
  categories add up to the zone's figure, the grant report's age x gender cells add up to the age and gender
  totals of the breakdowns;
- inequalities: active children <= children with a card <= eligible children, active <= check-ins (also per
  category), borrowers <= loans, offers used <= check-ins;
- bounds: every suppressed cell is at least 1 (zeros are shown), except counts whose complement can hide a zero
  (no active children among 3 with a card), which are at least 0.

A suppressed cell is *disclosed* when those relations leave it exactly one integer value (other than a zero that
published zeros force, which tells nothing the zeros did not). `protect` hides more
cells (the smallest shown non-zero cell in a relation with a disclosed cell) and checks again, until no
suppressed cell is disclosed. The check solves, per connected group of suppressed cells, the smallest and
largest value each cell can take (scipy's HiGHS); cells that random objectives already move are not solved one
by one. Pure functions, no database.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

Key = Hashable


@dataclass
class System:
    """Cells with their true values, which of them are hidden, and the relations a reader can use.

    `latent` keys are sums nobody publishes (e.g. a category's total over the municipality when no table shows
    it): unknowns for the reader, never audited themselves. `fixed` keys are published elsewhere and can never
    be hidden (the eligible children from SSB).
    """

    values: dict[Key, int] = field(default_factory=dict)
    hidden: set[Key] = field(default_factory=set)
    latent: set[Key] = field(default_factory=set)
    fixed: set[Key] = field(default_factory=set)
    may_be_zero: set[Key] = field(default_factory=set)  # hidden by a rule that also hides zeros
    # totals the secondary search does not pick (the same number stands in several tables: hiding one copy
    # frees nothing and the rest would follow)
    anchors: set[Key] = field(default_factory=set)
    equalities: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)  # total == sum(parts)
    inequalities: list[tuple[Key, Key]] = field(default_factory=list)  # small <= big

    def add(self, key: Key, value: int, *, hidden: bool = False) -> None:
        self.values[key] = int(value)
        if hidden:
            self.hidden.add(key)

    def add_latent(self, key: Key, value: int) -> None:
        self.values[key] = int(value)
        self.latent.add(key)

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


def quick_pass(system: System) -> int:
    """Cheap rule before the solver: an equality with exactly one unknown gives it away; hide another member."""
    added, changed = 0, True
    while changed:
        changed = False
        for total, parts in system.equalities:
            members = (total, *parts)
            unknown = [k for k in members if system.unknown(k)]
            if len(unknown) != 1 or unknown[0] in system.latent:
                continue
            pick = _smallest_shown(system, parts)  # a total is left to the breaker, which looks wider first
            if pick is not None:
                system.hidden.add(pick)
                added += 1
                changed = True
    return added


def propagated(system: System, sweeps: int = 60) -> list[Key]:
    """Hidden cells that interval reasoning alone pins (each relation tightens its members' bounds in turn).

    The bounds are outer bounds: a cell pinned here is certainly given away; one left open still needs the
    solver. Much cheaper than the solver, so it runs first.
    """
    cap = system.cap
    lo: dict[Key, int] = {}
    hi: dict[Key, int] = {}
    for k, v in system.values.items():
        if system.unknown(k):
            lo[k] = 0 if k in system.latent or k in system.may_be_zero else 1
            hi[k] = cap
        else:
            lo[k] = hi[k] = v
    eqs = [(t, ps) for t, ps in system.equalities if system.unknown(t) or any(system.unknown(p) for p in ps)]
    ineqs = [(a, b) for a, b in system.inequalities if system.unknown(a) or system.unknown(b)]
    for _ in range(sweeps):
        changed = False
        for total, parts in eqs:
            slo, shi = sum(lo[p] for p in parts), sum(hi[p] for p in parts)
            if slo > lo[total]:
                lo[total], changed = slo, True
            if shi < hi[total]:
                hi[total], changed = shi, True
            for p in parts:
                plo, phi = lo[total] - (shi - hi[p]), hi[total] - (slo - lo[p])
                if plo > lo[p]:
                    slo += plo - lo[p]
                    lo[p], changed = plo, True
                if phi < hi[p]:
                    shi -= hi[p] - phi
                    hi[p], changed = phi, True
        for small, big in ineqs:
            if hi[big] < hi[small]:
                hi[small], changed = hi[big], True
            if lo[small] > lo[big]:
                lo[big], changed = lo[small], True
        if not changed:
            break
    return [k for k in system.hidden if lo[k] == hi[k] and system.values[k] != 0]


def _smallest_shown(system: System, keys: Iterable[Key]) -> Key | None:
    shown = [k for k in keys if not system.unknown(k) and k not in system.fixed and k not in system.anchors
             and system.values[k] > 0]
    return min(shown, key=lambda k: (system.values[k], repr(k))) if shown else None


def _relations(system: System):
    """Every relation as (coefficients by key, kind, constant): sum(coef * x) (== or <=) 0."""
    for total, parts in system.equalities:
        coefs: dict[Key, float] = {}
        for p in parts:
            coefs[p] = coefs.get(p, 0) + 1
        coefs[total] = coefs.get(total, 0) - 1
        yield coefs, "eq"
    for small, big in system.inequalities:
        yield {small: 1.0, big: -1.0}, "ub"


def _components(system: System):
    """Groups of unknown cells linked by relations, each with the relations that touch it."""
    parent: dict[Key, Key] = {}

    def find(k):
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    rels = []
    for coefs, kind in _relations(system):
        unknown = [k for k in coefs if system.unknown(k)]
        if not unknown:
            continue
        rels.append((coefs, kind, unknown))
        for k in unknown[1:]:
            parent[find(k)] = find(unknown[0])
        find(unknown[0])
    groups: dict[Key, tuple[list, list]] = {}
    for rel in rels:
        root = find(rel[2][0])
        groups.setdefault(root, ([], []))[1].append(rel)
    for k in list(parent):
        groups.setdefault(find(k), ([], []))[0].append(k)
    return [g for g in groups.values() if g[0]]


def ranges(system: System, *, seed: int = 7) -> dict[Key, tuple[float, float]]:
    """The smallest and largest value each hidden cell can take given what is published.

    Only cells that might be pinned are solved exactly; for the rest the returned range is a proven sub-range
    (at least one unit wide), which is all the caller needs. A cell in no relation ranges from 1 upwards.
    """
    rng = random.Random(seed)
    out: dict[Key, tuple[float, float]] = {}
    for keys, rels in _components(system):
        out.update(_component_ranges(system, keys, rels, rng))
    for k in system.hidden:
        out.setdefault(k, (1.0, math.inf))
    return out


class _Component:
    """One group of unknown cells as a linear program: A_eq x = b_eq, A_ub x <= b_ub, bounds.

    `lo`/`hi` hold the range of each audited cell over the whole-number solutions found so far; a solution
    with fractional values proves nothing about whole numbers and is set aside.
    """

    def __init__(self, system: System, keys: list, rels: list):
        import numpy as np
        from scipy.sparse import csr_matrix

        self.keys = keys
        index = {k: i for i, k in enumerate(keys)}
        n = len(keys)
        rows = {"eq": ([], [], [], []), "ub": ([], [], [], [])}  # data, row, col, rhs
        for coefs, kind, _unknown in rels:
            data, r, c, rhs = rows[kind]
            row, const = len(rhs), 0.0
            for k, a in coefs.items():
                if k in index:
                    data.append(a)
                    r.append(row)
                    c.append(index[k])
                else:
                    const += a * system.values[k]
            rhs.append(-const)
        mats = {}
        for kind, (data, r, c, rhs) in rows.items():
            mats[kind] = (csr_matrix((data, (r, c)), shape=(len(rhs), n)), np.array(rhs)) if rhs else (None, None)
        (self.a_eq, self.b_eq), (self.a_ub, self.b_ub) = mats["eq"], mats["ub"]
        self.bounds = [(0 if k in system.latent or k in system.may_be_zero else 1, system.cap) for k in keys]
        self.truth = np.array([system.values[k] for k in keys], dtype=float)
        # a hidden zero that stays zero tells nothing the published zeros did not: not audited
        self.audited = [i for i, k in enumerate(keys) if k in system.hidden and system.values[k] != 0]
        self.lo = {i: self.truth[i] for i in self.audited}
        self.hi = {i: self.truth[i] for i in self.audited}

    def _absorb(self, x) -> bool:
        import numpy as np

        if x is None or np.any(np.abs(x - np.round(x)) > 1e-6):
            return False
        for i in self.audited:
            v = round(x[i])
            self.lo[i], self.hi[i] = min(self.lo[i], v), max(self.hi[i], v)
        return True

    def solve(self, c) -> None:
        """A vertex of the continuous problem (fast); kept if it is whole-numbered, else solved in integers."""
        from scipy.optimize import linprog

        res = linprog(c, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq, b_eq=self.b_eq, bounds=self.bounds,
                      method="highs")
        if res.status != 0:
            raise RuntimeError(f"disclosure check failed: {res.message}")
        if not self._absorb(res.x):
            self.solve_integer(c)

    def solve_integer(self, c) -> None:
        import numpy as np
        from scipy.optimize import Bounds, LinearConstraint, milp

        cons = []
        if self.a_eq is not None:
            cons.append(LinearConstraint(self.a_eq, self.b_eq, self.b_eq))
        if self.a_ub is not None:
            cons.append(LinearConstraint(self.a_ub, -np.inf, self.b_ub))
        box = Bounds(np.array([b[0] for b in self.bounds], float), np.array([b[1] for b in self.bounds], float))
        res = milp(c, constraints=cons, bounds=box, integrality=np.ones(len(self.keys)))
        if res.status != 0:
            raise RuntimeError(f"disclosure check failed: {res.message}")
        self._absorb(res.x)

    def open(self, i) -> bool:
        return self.hi[i] - self.lo[i] >= 1


def _component_ranges(system, keys, rels, rng):
    """Push all undecided cells up together (random weights), then down, keeping whatever moved by a unit or
    more; only cells no batch moves are solved one by one."""
    import numpy as np

    comp = _Component(system, keys, rels)
    n = len(keys)
    undecided = set(comp.audited)
    for sign in (-1.0, 1.0):  # minimising -x pushes cells up, then +x pushes them down
        for _ in range(40):
            if not undecided:
                break
            c = np.zeros(n)
            for i in undecided:
                c[i] = sign * rng.uniform(0.5, 1.5)
            comp.solve(c)
            moved = {i for i in undecided if comp.open(i)}
            if not moved:
                break
            undecided -= moved
    for i in sorted(undecided):
        for sign in (-1.0, 1.0):
            if comp.open(i):
                break
            c = np.zeros(n)
            c[i] = sign
            comp.solve(c)
    return {keys[i]: (comp.lo[i], comp.hi[i]) for i in comp.audited}


def disclosed(system: System, **kw) -> list[Key]:
    """Hidden non-zero cells the published relations pin to one whole number."""
    return [k for k, (lo, hi) in ranges(system, **kw).items()
            if hi == lo and system.values[k] != 0]


def protect(system: System, *, max_rounds: int = 200) -> int:
    """Hide cells until no hidden cell is disclosed. Returns how many cells were hidden beyond the primary ones."""
    before = len(system.hidden)
    for _ in range(max_rounds):
        quick_pass(system)
        pinned = propagated(system) or disclosed(system)
        if not pinned:
            break
        progress = False
        touched: set[Key] = set()  # cells in a relation with something hidden this round: check again first
        for key in sorted(pinned, key=repr):
            if key in touched:
                continue
            pick = _breaker(system, key)
            if pick is not None and pick not in system.hidden:
                system.hidden.add(pick)
                touched |= _neighbours(system, pick)
                progress = True
        if not progress:  # only fixed or zero cells pin what is left: nothing more to hide
            break
    return len(system.hidden) - before


_CACHE: OrderedDict[str, frozenset] = OrderedDict()
_CACHE_SIZE = 64


def protect_cached(system: System) -> int:
    """`protect`, remembered by the exact cells, values and relations (the same tables give the same answer,
    so a dashboard reloaded while nothing changed does not solve again)."""
    fingerprint = hashlib.sha256(repr((
        sorted(system.values.items(), key=repr), sorted(system.hidden, key=repr), sorted(system.latent, key=repr),
        sorted(system.may_be_zero, key=repr), sorted(system.fixed, key=repr), system.equalities,
        system.inequalities)).encode()).hexdigest()
    before = len(system.hidden)
    if fingerprint in _CACHE:
        _CACHE.move_to_end(fingerprint)
        system.hidden = set(_CACHE[fingerprint])
    else:
        protect(system)
        _CACHE[fingerprint] = frozenset(system.hidden)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return len(system.hidden) - before


def _neighbours(system: System, key: Key) -> set[Key]:
    out: set[Key] = set()
    for total, parts in system.equalities:
        if key == total or key in parts:
            out.update((total, *parts))
    for small, big in system.inequalities:
        if key in (small, big):
            out.update((small, big))
    return out


def _breaker(system: System, key: Key) -> Key | None:
    """The shown cell to hide next to a disclosed one: the smallest non-zero cell in an equality with it (hiding
    a small cell costs the reader least), else in an inequality with it, else in the equalities of the unknown
    cells it is linked to."""
    eq_keys = [k for total, parts in system.equalities if key == total or key in parts for k in (total, *parts)]
    ineq_keys = [k for pair in system.inequalities if key in pair for k in pair]
    pick = _smallest_shown(system, eq_keys) or _smallest_shown(system, ineq_keys)
    if pick is not None:
        return pick
    linked = {k for k in eq_keys + ineq_keys if system.unknown(k) and k != key}
    second = [k for total, parts in system.equalities if linked.intersection((total, *parts))
              for k in (total, *parts)]
    return _smallest_shown(system, second)
