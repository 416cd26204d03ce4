"""The programs behind disclosure control: the relations between published cells indexed by cell, the reader's
linear program (how far a hidden cell can move given what is shown), and the integer program that finds the
cheapest cells to hide beside one that needs protection. Deterministic: the same relations in the same order
give the same answer; a solver stopped by its node limit gives none."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .disclosure import System

Key = Hashable  # a published cell (disclosure.Key)

TOL = 1e-6


SAME_ROW = 0.25  # the cost of hiding a cell in a row that already has a hidden cell, relative to its own


@dataclass
class Rel:
    coefs: dict  # key -> coefficient; sum(coef * value) == 0 (eq) or <= 0 (ub)
    eq: bool


class Index:
    """The system's relations as rows, with the rows each cell is in (so nothing scans every relation per cell)."""

    def __init__(self, system: System):
        self.system = system
        self.rels: list[Rel] = []
        # in a canonical order (the relations' text), so that the programs built from them, and the solver's answers,
        # do not depend on the order the tables were added in or on hash order
        for total, parts in sorted(((t, tuple(sorted(ps, key=repr))) for t, ps in set(system.equalities)), key=repr):
            coefs: dict = {}
            for p in parts:
                coefs[p] = coefs.get(p, 0) + 1
            coefs[total] = coefs.get(total, 0) - 1
            self.rels.append(Rel(coefs, True))
        for small, big in sorted(set(system.inequalities), key=repr):
            self.rels.append(Rel({small: 1, big: -1}, False))
        self.of: dict[Key, list[int]] = {}
        for i, rel in enumerate(self.rels):
            for k in rel.coefs:
                self.of.setdefault(k, []).append(i)

    def slack(self, rel: Rel) -> float:
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


class Reader:
    """The reader's view of one connected group of hidden cells, in deviations z = value - truth.

    Rows: the relations touching the group; for every cell in them, z <= U*x and -z <= L*x, where x is 1 for a
    hidden cell and 0 for a published one. Writing the bounds as rows (not variable bounds) gives each cell's
    dual price, which makes the cut for the master problem.
    """

    def __init__(self, index: Index, group: set[Key], extra: Iterable[Key] = ()):
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


def integral(res) -> bool:
    import numpy as np

    return res is not None and res.x is not None and bool(np.all(np.abs(res.x - np.round(res.x)) <= TOL))


def fractional(x) -> bool:
    import numpy as np

    return bool(np.any(np.abs(x - np.round(x)) > TOL))


class Rows:
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


def completion_milp(system, index, keys, expr, sense, short, node_limit, options, whole=True):
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
    rows = Rows()
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


def _hiding_costs(system, cands: list, zcol: dict, row_col: dict, up, down, rows: Rows, n: int):
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

