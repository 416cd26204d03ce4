"""Audit: every table published for a period, solved together as a reader would, pins no suppressed cell.

The population is seeded and random: three bydeler, 30 delområder, 300 grunnkretser, most with a handful of
children, so most cells are small. The reader's knowledge is built here from the published outputs and the
public zone hierarchy only (not from the protection code): zones add up to their parent and to the total,
categories add up to the zone, the grant report's age x gender cells add up to the breakdowns' municipality
figures, active <= with card <= eligible, active <= check-ins (also per category), offers used <= check-ins.
Every suppressed cell's smallest and largest whole-number value is then solved (scipy's HiGHS, LP then MILP);
none may be a single value unless that value is 0 forced by published zeros (a structural zero).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from opplevelseskort.cards.models import Card, Channel, Child, Gender
from opplevelseskort.checkin.models import CheckIn, CheckinSource
from opplevelseskort.core.models import Zone
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners
from opplevelseskort.reports import services
from opplevelseskort.reports.models import ZoneIndicator

from ..factories import offer_values

scipy_optimize = pytest.importorskip("scipy.optimize")
sparse = pytest.importorskip("scipy.sparse")

YEAR = 2026
LEVELS = ["bydel", "delomrade", "grunnkrets"]
ADDITIVE = ["children_with_card", "active_children", "checkins", "no_shows", "loans", "borrowers"]
AUDITED = ADDITIVE + ["offers_used"]
MAY_BE_ZERO = {"children_with_card", "active_children"}  # hidden also by the complement rule


def _population(muni, users, seed: int):
    rng = random.Random(seed)
    offers = [partners.save_offer(users["partner"], offer_values(title=c, category=c, price_nok=100), {})
              for c in ("sport", "culture", "outdoor")]
    zones: list[Zone] = []
    leaves = []
    for b in range(3):
        bydel = Zone(municipality_id=muni.id, code=f"B{b}", name=f"Bydel {b}", level="bydel")
        db.session.add(bydel)
        zones.append(bydel)
        db.session.flush()
        for d in range(10):
            delo = Zone(municipality_id=muni.id, code=f"D{b}{d}", name=f"Delområde {b}{d}", level="delomrade",
                        parent_id=bydel.id)
            db.session.add(delo)
            db.session.flush()
            for g in range(10):
                leaf = Zone(municipality_id=muni.id, code=f"G{b}{d}{g}", name=f"Krets {b}{d}{g}",
                            level="grunnkrets", parent_id=delo.id)
                db.session.add(leaf)
                leaves.append(leaf)
    db.session.flush()
    genders = [Gender.GIRL, Gender.BOY, Gender.BOY, Gender.GIRL, Gender.OTHER, None]
    n = 0
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    checkins = []
    for leaf in leaves:
        size = rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 12, 20])
        with_card = 0
        for _ in range(size):
            n += 1
            child = Child(municipality_id=muni.id, birth_year=YEAR - rng.randint(4, 17), gender=rng.choice(genders),
                          zone_id=leaf.id, channel=Channel.NAV, eligible_from=date(YEAR, 1, 1),
                          eligible_until=date(YEAR, 12, 31))
            db.session.add(child)
            db.session.flush()
            if rng.random() < 0.85:
                with_card += 1
                card = Card(child_id=child.id, municipality_id=muni.id, qr_token=f"q{n}", short_code=f"S{n}",
                            family_token=f"f{n}", valid_from=date(YEAR, 1, 1), valid_until=date(YEAR, 12, 31))
                db.session.add(card)
                db.session.flush()
                if rng.random() < 0.55:
                    zone = leaf
                    for _v in range(rng.choice([1, 1, 2, 3, 5])):
                        if rng.random() < 0.03:  # the family moved: later visits carry the new zone
                            zone = rng.choice(leaves)
                        offer = rng.choice(offers)
                        at = start + timedelta(days=rng.randint(0, 360), hours=rng.randint(8, 20))
                        checkins.append(CheckIn(
                            card_id=card.id, child_id=child.id, offer_id=offer.id, partner_id=offer.partner_id,
                            municipality_id=muni.id, at=at, source=CheckinSource.TYPED, zone_id=zone.id,
                            age=YEAR - child.birth_year, birth_year=child.birth_year,
                            gender=child.gender.value if child.gender else None, value_nok=100))
        db.session.add(ZoneIndicator(zone_id=leaf.id, key=services.ELIGIBLE_KEY, year=YEAR,
                                     value=with_card + rng.choice([0, 1, 2, 3, 6, 15, 30])))
    db.session.add_all(checkins)
    db.session.flush()
    return zones + leaves


def _tables(muni, period):
    """Everything published for the period, as a reader downloads it: {key: number or ':'}.

    The period's publication is what `uptake_report`, `breakdown_report` and `grant_report` hand out."""
    pub = services.publication(muni, period)
    out = {}
    for level in LEVELS:
        for zone, cells in pub.reports[level].rows():
            code = zone.code if zone else f"total@{level}"
            for m in AUDITED:
                out[("u", code, m)] = ":" if cells[m].status else int(cells[m].value)
        for by in ("age", "gender"):
            for (code, cat, m), cell in pub.breakdowns[(level, by)]["cells"].items():
                out[("b", by, code, cat, m)] = ":" if cell.suppressed else int(cell.value)
    g = pub.grant
    out[("g", "reached")] = g["children_reached"]
    out[("g", "checkins")] = g["checkins"]
    out[("g", "loans")] = g["loans"]
    for b, gen, v in g["by_band_gender"]:
        out[("g", "bg", b, gen)] = v
    for c, v, _value in g["by_category"]:
        out[("g", "cat", c)] = v
    return out


def _eligible_published(muni):
    """SSB's children 6-17 per grunnkrets (public), summed up the zone hierarchy and to the total."""
    zones = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=muni.id)))
    by_id = {z.id: z for z in zones}
    out: dict[str, int] = {}
    for zid, value in db.session.execute(db.select(ZoneIndicator.zone_id, ZoneIndicator.value)
                                         .where(ZoneIndicator.key == services.ELIGIBLE_KEY)):
        node = by_id[zid]
        for lv in LEVELS:
            out[f"total@{lv}"] = out.get(f"total@{lv}", 0) + int(value)
        while node is not None:
            out[node.code] = out.get(node.code, 0) + int(value)
            node = by_id.get(node.parent_id)
    return out


def _reader_relations(muni, tables, eligible):
    """Equalities and inequalities a reader can write down from the published tables and the zone map."""
    zones = list(db.session.scalars(db.select(Zone).filter_by(municipality_id=muni.id)))
    by_id = {z.id: z for z in zones}
    kids: dict[str, list[str]] = {}
    for z in zones:
        if z.parent_id:
            kids.setdefault(by_id[z.parent_id].code, []).append(z.code)
    at_level = {lv: [z.code for z in zones if z.level == lv] for lv in LEVELS}
    cats = {"age": services.AGE_CATEGORIES, "gender": services.GENDER_CATEGORIES}
    eq, ub = [], []  # eq: (total, parts); ub: (small, big)
    for lv in LEVELS:
        for m in ADDITIVE:
            eq.append((("u", f"total@{lv}", m), [("u", c, m) for c in at_level[lv]]))
            eq.append((("u", "total@grunnkrets", m), [("u", f"total@{lv}", m)]))
    for parent, children in kids.items():
        for m in ADDITIVE:
            eq.append((("u", parent, m), [("u", c, m) for c in children]))
        for by in cats:
            for cat in cats[by]:
                for m in ("active_children", "checkins"):
                    eq.append((("b", by, parent, cat, m), [("b", by, c, cat, m) for c in children]))
    codes = [z.code for z in zones] + [f"total@{lv}" for lv in LEVELS]
    for code in codes:
        ub += [(("u", code, "active_children"), ("u", code, "children_with_card")),
               (("u", code, "active_children"), ("u", code, "checkins")),
               (("u", code, "offers_used"), ("u", code, "checkins")),
               (("u", code, "borrowers"), ("u", code, "loans"))]
        if code in eligible:
            ub.append((("u", code, "children_with_card"), eligible[code]))
    for by, categories in cats.items():
        for z in zones:
            for m in ("active_children", "checkins"):
                eq.append((("u", z.code, m), [("b", by, z.code, cat, m) for cat in categories]))
            for cat in categories:
                ub.append((("b", by, z.code, cat, "active_children"), ("b", by, z.code, cat, "checkins")))
        for cat in categories:  # unpublished municipality figure per category, the same from every level
            for m in ("active_children", "checkins"):
                for lv in LEVELS:
                    eq.append((("bt", by, cat, m), [("b", by, c, cat, m) for c in at_level[lv]]))
        for m in ("active_children", "checkins"):
            eq.append((("u", "total@grunnkrets", m), [("bt", by, cat, m) for cat in categories]))
    bg = [k for k in tables if k[:2] == ("g", "bg")]
    eq.append((("g", "reached"), bg))
    eq.append((("g", "reached"), [("u", "total@grunnkrets", "active_children")]))
    for b in services.AGE_CATEGORIES:
        eq.append((("bt", "age", b, "active_children"), [k for k in bg if k[2] == b]))
    for gen in services.GENDER_CATEGORIES:
        eq.append((("bt", "gender", gen, "active_children"), [k for k in bg if k[3] == gen]))
    eq.append((("g", "checkins"), [k for k in tables if k[:2] == ("g", "cat")]))
    eq.append((("g", "checkins"), [("u", "total@grunnkrets", "checkins")]))
    eq.append((("g", "loans"), [("u", "total@grunnkrets", "loans")]))
    return eq, ub


def _zone(key):
    return key[1] if key[0] == "u" else (key[2] if key[0] == "b" else None)


def _solve_ranges(tables, truth, eq, ub, tiny):
    """Smallest and largest whole-number value of every suppressed cell, given everything published."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    unknown = sorted({k for k, v in tables.items() if v == ":"} |
                     {k for rel in eq for k in (rel[0], *rel[1]) if k[0] == "bt"}, key=repr)
    index = {k: i for i, k in enumerate(unknown)}
    n = len(unknown)

    def row(coefs):
        cols, vals, const = [], [], 0.0
        for k, a in coefs:
            if isinstance(k, int | float):
                const += a * k
            elif k in index:
                cols.append(index[k])
                vals.append(a)
            else:
                const += a * tables[k]
        return cols, vals, -const

    def matrix(rows, equal):
        data, r, c, rhs = [], [], [], []
        for cols, vals, b in rows:
            if not cols:  # only published cells: the relation must hold between them
                assert abs(b) < 1e-9 if equal else b >= -1e-9, "a published relation does not hold"
                continue
            r += [len(rhs)] * len(cols)
            c += cols
            data += vals
            rhs.append(b)
        return sparse.csr_matrix((data, (r, c)), shape=(len(rhs), n)), np.array(rhs, dtype=float)

    a_eq, b_eq = matrix([row([(total, -1.0)] + [(p, 1.0) for p in parts]) for total, parts in eq], True)
    # an inequality that does not hold for the true values only misleads the reader: leave it out
    held = [(a, b) for a, b in ub if (truth[a] if not isinstance(a, int) else a) <=
            (truth[b] if not isinstance(b, int) else b)]
    a_ub, b_ub = matrix([row([(small, 1.0), (big, -1.0)]) for small, big in held], False)
    cap = 10.0 * max(v for v in truth.values()) + 1000
    lower = np.array([0.0 if k[0] == "bt" or (k[0] == "u" and k[2] in MAY_BE_ZERO) or _zone(k) in tiny else 1.0
                      for k in unknown])
    x_true = np.array([truth[k] for k in unknown], dtype=float)
    assert np.allclose(a_eq @ x_true, b_eq) and np.all(a_ub @ x_true <= b_ub + 1e-9) and np.all(x_true >= lower)

    cons = [LinearConstraint(a_eq, b_eq, b_eq), LinearConstraint(a_ub, -np.inf, b_ub)]
    box = Bounds(lower, np.full(n, cap))
    lo, hi = x_true.copy(), x_true.copy()

    def solve(c):
        """A whole-number solution for objective c: the LP vertex when it is whole, else the MILP's."""
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=list(zip(lower, [cap] * n, strict=True)),
                      method="highs")
        assert res.status == 0, res.message
        x = res.x
        if np.any(np.abs(x - np.round(x)) > 1e-6):
            res = milp(c, constraints=cons, bounds=box, integrality=np.ones(n))
            assert res.status == 0, res.message
            x = res.x
        x = np.round(x)
        np.minimum(lo, x, out=lo)
        np.maximum(hi, x, out=hi)

    # a hidden zero pinned at zero is a structural zero; every other hidden cell must be able to move
    audited = {i for i, k in enumerate(unknown) if k[0] != "bt" and x_true[i] != 0}
    rng = np.random.default_rng(1)
    undecided = set(audited)
    for sign in (-1.0, 1.0):
        while undecided:
            c = np.zeros(n)
            for i in undecided:
                c[i] = sign * rng.uniform(0.5, 1.5)
            solve(c)
            moved = {i for i in undecided if hi[i] > lo[i]}
            if not moved:
                break
            undecided -= moved
    for i in undecided:
        for sign in (-1.0, 1.0):
            c = np.zeros(n)
            c[i] = sign
            solve(c)
    return {unknown[i]: (lo[i], hi[i]) for i in audited}


@pytest.mark.parametrize("seed", [11, 2026])
def test_no_suppressed_cell_is_pinned_by_all_published_tables_together(app, muni, users, seed):
    _population(muni, users, seed)
    period = services.parse_period(str(YEAR))
    published = _tables(muni, period)
    app.config.update(SUPPRESS_MIN_COUNT=1, SUPPRESS_MIN_DENOMINATOR=1)  # the same tables without suppression
    try:
        truth = _tables(muni, period)
    finally:
        app.config.update(SUPPRESS_MIN_COUNT=5, SUPPRESS_MIN_DENOMINATOR=10)
    assert ":" not in truth.values()
    eligible = _eligible_published(muni)
    hidden = [k for k, v in published.items() if v == ":"]
    assert len(hidden) > 300, "the population should give many small cells to protect"
    # published cells carry their true values; nothing from 1 to 4 is shown
    for k, v in published.items():
        if v != ":":
            assert v == truth[k]
            assert not 0 < v < 5, k
    truth_all = dict(truth)
    eq, ub = _reader_relations(muni, published, eligible)
    for total, parts in eq:  # the reader's unpublished category totals take their true values
        if total[0] == "bt":
            truth_all.setdefault(total, sum(truth[p] for p in parts))
    # the published rule: in a zone with 1-4 eligible children every cell is hidden, zeros too
    tiny = {code for code, n in eligible.items() if 0 < n < 5}
    ranges = _solve_ranges(published, truth_all, eq, ub, tiny)
    pinned = {k: r for k, r in ranges.items() if r[0] == r[1]}
    assert not pinned, f"{len(pinned)} suppressed cells are given away, e.g. {list(pinned.items())[:5]}"
    # and the rule is not "hide everything": most of the cells a reader wants are still there
    # (this population is built to be hard: most grunnkretser have 0-6 children, split by 6 ages and 4 genders)
    assert sum(v != ":" for v in published.values()) > 0.4 * len(published)
    for m in ("children_with_card", "active_children", "checkins"):
        assert published[("u", "total@grunnkrets", m)] != ":"
        assert all(published[("u", f"B{b}", m)] != ":" for b in range(3))
