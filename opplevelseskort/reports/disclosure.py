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

log = logging.getLogger(__name__)

Key = Hashable
TOL = 1e-6
# The solver's limit is work, not time: branch-and-bound nodes per integer program. The same system gives the same
# answer on any machine, however busy; an integer program that reaches the limit is not used (its best answer so
# far may not be the cheapest one a quieter run would find), and the need is met the safe way (`_hide_around`).
NODE_LIMIT = 20000
DEAR = 2000.0  # a completion costing more than this is compared with one found a step further out
SAME_ROW = 0.25  # the cost of hiding a cell in a row that already has a hidden cell, relative to its own


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


# --- relations, indexed by cell ----------------------------------------------------------------

@dataclass
class _Rel:
    coefs: dict  # key -> coefficient; sum(coef * value) == 0 (eq) or <= 0 (ub)
    eq: bool


class _Index:
    """The system's relations as rows, with the rows each cell is in (so nothing scans every relation per cell)."""

    def __init__(self, system: System):
        self.system = system
        self.rels: list[_Rel] = []
        # in a canonical order (the relations' text), so that the programs built from them, and the solver's answers,
        # do not depend on the order the tables were added in or on hash order
        for total, parts in sorted(((t, tuple(sorted(ps, key=repr))) for t, ps in set(system.equalities)), key=repr):
            coefs: dict = {}
            for p in parts:
                coefs[p] = coefs.get(p, 0) + 1
            coefs[total] = coefs.get(total, 0) - 1
            self.rels.append(_Rel(coefs, True))
        for small, big in sorted(set(system.inequalities), key=repr):
            self.rels.append(_Rel({small: 1, big: -1}, False))
        self.of: dict[Key, list[int]] = {}
        for i, rel in enumerate(self.rels):
            for k in rel.coefs:
                self.of.setdefault(k, []).append(i)

    def slack(self, rel: _Rel) -> float:
        """How far the true values are inside an inequality (0 for an equality)."""
        return -sum(a * self.system.values[k] for k, a in rel.coefs.items())

    def component(self, start: Iterable[Key], unknown) -> set[Key]:
        """The unknown cells linked to `start` through relations (each relation joins all its unknown members)."""
        seen = {k for k in start if unknown(k)}
        todo = list(seen)
        while todo:
            k = todo.pop()
            for r in self.of.get(k, ()):
                for m in self.rels[r].coefs:
                    if m not in seen and unknown(m):
                        seen.add(m)
                        todo.append(m)
        return seen

    def components(self, keys: Iterable[Key], unknown) -> list[set[Key]]:
        out, done = [], set()
        for k in keys:
            if k not in done and unknown(k):
                comp = self.component([k], unknown)
                done |= comp
                out.append(comp)
        return out


# --- the reader's linear program over one group of hidden cells --------------------------------

class _Reader:
    """The reader's view of one connected group of hidden cells, in deviations z = value - truth.

    Rows: the relations touching the group; for every cell in them, z <= U*x and -z <= L*x, where x is 1 for a
    hidden cell and 0 for a published one. Writing the bounds as rows (not variable bounds) gives each cell's
    dual price, which makes the cut for the master problem.
    """

    def __init__(self, index: _Index, group: set[Key], extra: Iterable[Key] = ()):
        system = index.system
        self.index, self.group = index, group
        rows = sorted({r for k in group for r in index.of.get(k, ())})
        keys = set(group) | set(extra)
        for r in rows:
            keys.update(index.rels[r].coefs)
        self.keys = sorted(keys, key=repr)
        self.col = {k: i for i, k in enumerate(self.keys)}
        self.eq_rows = [index.rels[r] for r in rows if index.rels[r].eq]
        self.ub_rows = [index.rels[r] for r in rows if not index.rels[r].eq]
        cap = system.cap
        self.upper = {k: max(cap - system.values[k], 0) for k in self.keys}
        self.lower = {k: max(system.values[k] - system.lower(k), 0) for k in self.keys}

    def solve(self, expr: dict, sense: int, unknown, *, integer: bool = False):
        """max (sense=+1) or -min (sense=-1) of the expression's deviation; None when the solver fails twice."""
        import numpy as np
        from scipy.optimize import linprog, milp
        from scipy.sparse import coo_matrix

        n, col = len(self.keys), self.col
        c = np.zeros(n)
        for k, a in expr.items():
            c[col[k]] -= sense * a
        data, r, cc, rhs = [], [], [], []
        for rel in self.ub_rows:
            for k, a in rel.coefs.items():
                data.append(a), r.append(len(rhs)), cc.append(col[k])
            rhs.append(self.index.slack(rel))
        for k in self.keys:
            x = 1.0 if unknown(k) else 0.0
            data.append(1.0), r.append(len(rhs)), cc.append(col[k])
            rhs.append(self.upper[k] * x)
            data.append(-1.0), r.append(len(rhs)), cc.append(col[k])
            rhs.append(self.lower[k] * x)
        a_ub = coo_matrix((data, (r, cc)), shape=(len(rhs), n)).tocsr()
        b_ub = np.array(rhs)
        a_eq = b_eq = None
        if self.eq_rows:
            data, r, cc = [], [], []
            for i, rel in enumerate(self.eq_rows):
                for k, a in rel.coefs.items():
                    data.append(a), r.append(i), cc.append(col[k])
            a_eq = coo_matrix((data, (r, cc)), shape=(len(self.eq_rows), n)).tocsr()
            b_eq = np.zeros(len(self.eq_rows))
        if integer:
            from scipy.optimize import Bounds, LinearConstraint

            cons = [LinearConstraint(a_ub, -np.inf, b_ub)]
            if a_eq is not None:
                cons.append(LinearConstraint(a_eq, 0, 0))
            for options in ({}, {"presolve": False}):
                res = milp(c, constraints=cons, integrality=np.ones(n), bounds=Bounds(-np.inf, np.inf),
                           options=options)
                if res.status == 0 and res.x is not None:
                    return -res.fun, res
            return None, None
        for options in ({}, {"presolve": False}):
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(None, None), method="highs",
                          options=options)
            if res.status == 0:
                return -res.fun, res
        return None, None


def _integral(res) -> bool:
    import numpy as np

    return res is not None and res.x is not None and bool(np.all(np.abs(res.x - np.round(res.x)) <= TOL))


# --- the needs ---------------------------------------------------------------------------------

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


# --- protection ---------------------------------------------------------------------------------

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
    index = _Index(system)
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


def _push_groups(system: System, needs: list, witnesses: _Witnesses, index: _Index, outcome: Outcome, rng) -> None:
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
        reader = _Reader(index, group)
        for sense in (1, -1):
            todo = sorted((k for k in group if k in single[sense]), key=repr)
            for _ in range(12):
                todo = [k for k in todo if not witnesses.meet(Need(((k, 1),), sense, 0), single[sense][k])]
                if not todo:
                    break
                outcome.readers += 1
                _best, res = reader.solve({k: rng.uniform(0.5, 1.5) for k in todo}, sense, system.unknown)
                if not _integral(res):
                    break
                witnesses.add(reader.keys, res.x)
                if not any(witnesses.meet(Need(((k, 1),), sense, 0), single[sense][k]) for k in todo):
                    break


def _hide_around(system: System, index: _Index, need: Need, outcome: Outcome) -> set | None:
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
        reader = _Reader(index, index.component(expr, system.unknown), extra=expr)
        best, res = reader.solve(expr, need.sense, system.unknown)
        if best is not None and best >= short - TOL and not _integral(res):  # a whole-number answer is proof
            best, res = reader.solve(expr, need.sense, system.unknown, integer=True)
        if best is not None and best >= short - TOL:
            added = system.hidden - before
            system.hidden = before
            log.warning("disclosure: solver failed; met a need by hiding %s cells around it", len(added))
            return added
    system.hidden = before
    return None


def _neighbourhood(index: _Index, start: set, hops: int, widest: int | None = None) -> set:
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


def _cheapest_completion(system: System, index: _Index, need: Need, outcome: Outcome, witnesses: _Witnesses, *,
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
            answer = _completion_milp(system, index, keys, expr, need.sense, short, node_limit, options, whole)
            if answer is None:
                continue
            added, zkeys, z = answer
            if not whole and _fractional(z):
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


def _fractional(x) -> bool:
    import numpy as np

    return bool(np.any(np.abs(x - np.round(x)) > TOL))


class _Rows:
    """Sparse constraint rows `low <= sum(a * x[j]) <= high`, in the order added (the solver's input, and so its
    answer, depends on it: the order is part of what makes a build deterministic)."""

    def __init__(self):
        self.data, self.r, self.c, self.lo, self.hi = [], [], [], [], []

    def add(self, coefs: dict, low, high) -> None:
        for j, a in coefs.items():
            self.data.append(a)
            self.r.append(len(self.lo))
            self.c.append(j)
        self.lo.append(low)
        self.hi.append(high)

    def constraint(self, n: int):
        import numpy as np
        from scipy.optimize import LinearConstraint
        from scipy.sparse import coo_matrix

        a = coo_matrix((self.data, (self.r, self.c)), shape=(len(self.lo), n)).tocsr()
        return LinearConstraint(a, np.array(self.lo), np.array(self.hi))


def _completion_milp(system, index, keys, expr, sense, short, node_limit, options, whole=True):
    """The cheapest set of candidate cells to hide so that `expr` can move by `short` (as `sense` says) within the
    relations: one integer program over the cells' moves (one column per cell), whether each candidate is hidden
    (one per candidate) and whether each row newly loses a cell (one per row). None when the solver stops at its
    node limit (a partial answer is never used)."""
    import numpy as np
    from scipy.optimize import Bounds, milp

    zkeys = sorted(keys, key=repr)
    zcol = {k: i for i, k in enumerate(zkeys)}
    cands = [k for k in zkeys if not system.unknown(k) and k not in system.fixed and k not in system.keep
             and system.values[k] > 0]
    # A row (a zone's headline) is lost to the reader once any of its cells is hidden: each newly hidden row costs
    # its dearest cell, a cell in a row that is hidden anyway a share of its own cost.
    hidden_rows = {system.rows[k] for k in system.hidden if k in system.rows}
    new_rows = sorted({system.rows[k] for k in cands if k in system.rows} - hidden_rows, key=repr)
    nz, nc = len(zkeys), len(cands)
    n = nz + nc + len(new_rows)
    up, down, lo, hi = _completion_bounds(system, zkeys, cands, n)
    rows = _Rows()
    for ri in sorted({ri for k in zkeys for ri in index.of.get(k, ())}):
        rel = index.rels[ri]
        coefs = {zcol[k]: a for k, a in rel.coefs.items() if k in zcol}
        rows.add(coefs, 0.0, 0.0) if rel.eq else rows.add(coefs, -np.inf, index.slack(rel))
    cost = _hiding_costs(system, cands, zcol, {row_: nz + nc + i for i, row_ in enumerate(new_rows)}, up, down, rows, n)
    rows.add({zcol[k]: sense * a for k, a in expr.items() if k in zcol}, short, np.inf)
    integrality = np.concatenate([np.full(nz, 1 if whole else 0), np.ones(nc + len(new_rows))])
    res = milp(cost, constraints=[rows.constraint(n)], integrality=integrality, bounds=Bounds(lo, hi),
               options={"node_limit": node_limit, "mip_rel_gap": 0.02, **options})
    if res.x is None or res.status != 0:  # a limit reached: no partial answer is used
        return None
    return {cands[j] for j in range(len(cands)) if res.x[nz + j] > 0.5}, zkeys, res.x[:nz]


def _completion_bounds(system, zkeys: list, cands: list, n: int):
    """How far each cell may move up (to the cap) and down (to its lower bound), and the columns' bounds: a
    hidden or candidate cell moves within them, a shown one not at all; the 0/1 columns lie in 0..1."""
    import numpy as np

    up = np.array([system.cap - system.values[k] for k in zkeys], float)
    down = np.array([max(system.values[k] - system.lower(k), 0) for k in zkeys], float)
    lo, hi = np.zeros(n), np.ones(n)
    candidates = set(cands)
    for i, k in enumerate(zkeys):
        if system.unknown(k) or k in candidates:
            lo[i], hi[i] = -down[i], up[i]
        else:
            lo[i] = hi[i] = 0.0
    return up, down, lo, hi


def _hiding_costs(system, cands: list, zcol: dict, row_col: dict, up, down, rows: _Rows, n: int):
    """The cost of each 0/1 column, with the rows that tie them: a candidate moves only when hidden; hiding a
    cell of a row not yet hidden marks the row (its dearest cell's share), a row's other cells cost a share."""
    import numpy as np

    nz = len(zcol)
    cost = np.zeros(n)
    for j, k in enumerate(cands):
        i = zcol[k]
        rows.add({i: 1.0, nz + j: -up[i]}, -np.inf, 0.0)
        rows.add({i: -1.0, nz + j: -down[i]}, -np.inf, 0.0)
        weight = system.weights.get(k, 1.0 + system.values[k])
        if k not in system.rows:
            cost[nz + j] = weight
            continue
        cost[nz + j] = SAME_ROW * weight
        if system.rows[k] in row_col:
            col = row_col[system.rows[k]]
            rows.add({nz + j: 1.0, col: -1.0}, -np.inf, 0.0)
            cost[col] = max(cost[col], (1 - SAME_ROW) * weight)
    return cost


def _show_pinned(system: System, index: _Index, forced: set) -> int:
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


def _group_ranges(system: System, index: _Index, group: set, audited: list, rng) -> dict:
    """Whole-number ranges of the audited cells of one group: pushed together in random directions, then one by one
    for the cells no batch moved. A cell whose range cannot be computed is reported open (kept hidden)."""
    reader = _Reader(index, group)
    truth = {k: 0.0 for k in audited}
    lo, hi = dict(truth), dict(truth)
    unknown = system.unknown

    def absorb(res):
        if res is None or res.x is None or not _integral(res):
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
    index = _Index(system)
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
    index = _Index(system)
    out = []
    for k, need in needs_of(system):
        short = _shortfall(system, need)
        if short <= 0:
            continue
        expr = dict(need.expr)
        reader = _Reader(index, index.component(expr, system.unknown), extra=expr)
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
