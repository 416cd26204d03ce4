"""Disclosure control on a real-shaped municipality: time, usefulness, information lost, and the audit.

The population is bench/population.py's (98 grunnkretser in 16 delområder, a parentless "uoppgitt" zone with three
children, about 3,000 children with cards and 7,000 check-ins over a year). For each seed it measures:

- cold protection of a year (the year and its four quarters, protected together, as the dashboard reads them):
  wall and CPU seconds, min/median/max over `--runs` runs, as a ratio to building the same tables with primary
  suppression only (the baseline, same process, same minute);
- usefulness: the share of zones with children with a card that show both cards and active children, per level;
- information lost: hidden cells weighted by their value, as a share of all published counts;
- the independent audit (tests/reports/test_disclosure_audit.py): hidden cells pinned, and hidden cells known to
  be 1-4;
- with `--alternatives`, the earlier choices on the same population: the previous plan (age and gender at every level, so also
  per grunnkrets) with the same optimiser, and the cell-key method on those grunnkrets breakdowns instead.

    python -m bench.disclosure_bench [--seeds 3 11 2026] [--runs 3] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from unittest import mock

import psutil


def _app(database: str):
    from opplevelseskort import create_app

    url = "sqlite://"
    if database == "postgresql":
        from bench.common import fresh_database

        url = fresh_database("bench_disclosure")
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SKIP_LOGGING_CONFIG": True, "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "bench", "INSTANCE_PATH": "/tmp/opplevelseskort-bench", "TESTING": True})


def _timed(fn) -> tuple[float, float]:
    proc = psutil.Process()
    cpu0, t0 = proc.cpu_times(), time.perf_counter()
    fn()
    cpu1 = proc.cpu_times()
    return time.perf_counter() - t0, (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)


def _spread(values) -> str:
    return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}"


def _usefulness(pub) -> dict[str, float]:
    out = {}
    for level, report in pub.reports.items():
        rows = [z for z in report.zones if z.level == level and report.cells[z.code]["children_with_card"].value]
        shown = [z for z in rows if not report.cells[z.code]["children_with_card"].status
                 and not report.cells[z.code]["active_children"].status]
        out[level] = len(shown) / max(1, len(rows))
    return out


def _loss(system, label: str) -> float:
    from opplevelseskort.reports.tables import InPeriod

    cells = [k for k in system.values if isinstance(k, InPeriod) and k.period == label and k not in system.fixed
             and k not in system.latent]
    hidden = sum(system.values[k] for k in cells if k in system.hidden)
    return hidden / max(1, sum(system.values[k] for k in cells))


def _audit(app, muni, period) -> tuple[int, int, int]:
    """The independent audit over the year, its quarters and months as stored, and a rebuild of them."""
    from opplevelseskort.reports import jobs as report_jobs
    from tests.reports.test_disclosure_audit import Reader, _audit, _whole_year

    report_jobs.build_and_store(muni, period)
    first, _truth = _whole_year(app, muni, Reader(muni, period.start.year))
    report_jobs.build_and_store(muni, period)  # a rebuild (another worker, another hour): the same figures
    reader = Reader(muni, period.start.year)
    known, truth = _whole_year(app, muni, reader)
    assert known == first, "a rebuild of the same data changed the figures"
    ranges, pinned, small = _audit(reader, known, truth)
    return len(ranges), len(pinned), len(small)


def _determinism(seed: int) -> str:
    """The same population built in fresh processes under three hash seeds and with a slowed solver: one digest."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    runner = Path(__file__).resolve().parents[1] / "tests" / "reports" / "build_in_process.py"
    digests = []
    for hash_seed, extra in (("1", []), ("2", []), ("3", []), ("4", ["--slow", "0.02"])):
        out = subprocess.run([sys.executable, str(runner), str(seed), "--full", *extra], capture_output=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout
        digests.append(hashlib.sha256(out).hexdigest()[:12])
    return f"{len(set(digests))} distinct output(s) over 3 hash seeds + slowed solver ({digests[0]})"


def _cell_key(pub, facts, seed: int) -> dict:
    """The cell-key method on the age breakdown per grunnkrets: each child a random record key; a cell's key is the
    sum of its children's keys mod 1; a perturbation table turns (value, key) into noise of at most 2 with mean 0
    that never gives 1-4 (a count 1-4 becomes 0 or 5 with the probabilities that keep its mean)."""
    from opplevelseskort.reports.services import age_band

    def key(n: int) -> float:
        return int(hashlib.sha256(f"{seed}-{n}".encode()).hexdigest()[:8], 16) / 2 ** 32

    cells: dict[tuple[int, str], list[int]] = {}
    for i, (zid, age, _gender) in enumerate(facts.first_visits):
        cells.setdefault((zid, age_band(age)), []).append(i)
    noise, exact = [], 0
    for members in cells.values():
        v, k = len(members), sum(key(i) for i in members) % 1.0
        if 0 < v < 5:
            out = 5 if k < v / 5 else 0
        else:
            out = v + (-2 if k < 0.05 else -1 if k < 0.25 else 0 if k < 0.75 else 1 if k < 0.95 else 2)
            out = out if out >= 5 else 5
        noise.append(abs(out - v))
        exact += out == v
    return {"cells": len(noise), "shown": 1.0, "exact": exact / max(1, len(noise)),
            "mean_abs_noise": sum(noise) / max(1, len(noise))}


def run(seed: int, runs: int, database: str, alternatives: bool = False) -> None:
    app = _app(database)
    from bench import population
    from opplevelseskort.core import municipalities
    from opplevelseskort.extensions import db
    from opplevelseskort.reports import disclosure, periods, plan, services

    with app.app_context():
        db.drop_all()
        db.create_all()
        muni = municipalities.get_or_create_municipality("3001", "Syntetisk")
        population.build(db, muni, seed=seed)
        db.session.commit()
        year = periods.parse_period("2026")

        def cold():
            disclosure._CACHE.clear()
            return services.build_publications(muni, year)[0]

        def primary_only():
            disclosure._CACHE.clear()
            with mock.patch("opplevelseskort.reports.disclosure.protect", lambda system, **kw: 0):
                return services.build_publications(muni, year)[0]

        times, base = [], []
        for _ in range(runs):
            base.append(_timed(primary_only))
            times.append(_timed(cold))
        pub = cold()
        wall = [t[0] for t in times]
        cpu = [t[1] for t in times]
        ratio = [t[0] / b[0] for t, b in zip(times, base, strict=True)]
        print(f"seed {seed} ({database}): cold year + quarters + months wall {_spread(wall)} s, CPU {_spread(cpu)} s; "
              f"primary only {_spread([b[0] for b in base])} s; ratio {_spread(ratio)}")
        outcome = pub.system.outcome
        print(f"  cells {len(pub.system.values)}, primary {len(pub.system.primary)}, hidden {len(pub.system.hidden)}, "
              f"needs checked {outcome.rounds}, integer programs {outcome.completions}, unmet {len(outcome.unmet)}")
        print("  shown (cards and active) per level: "
              + ", ".join(f"{lv} {share:.0%}" for lv, share in _usefulness(pub).items())
              + f"; information lost (hidden value share) {_loss(pub.system, year.label):.2%}")
        audited, pinned, small = _audit(app, muni, year)
        print(f"  audit (year, quarters, months, a rebuild): {audited} hidden cells solved, pinned {pinned}, "
              f"known to be 1-4 {small}")
        print(f"  determinism: {_determinism(seed)}")
        if not alternatives:
            return

        # the previous plan: breakdowns at every level (also per grunnkrets), same optimiser
        every = {name: plan.TableSpec(spec.name, spec.measures, plan.EVERY_LEVEL, spec.shorter, spec.label)
                 for name, spec in plan.SPECS.items() if name in ("age", "gender")}
        with mock.patch.dict(plan.SPECS, every), mock.patch.dict(app.config, {"REPORT_ZONE_MIN_CARDS": 0}):
            t = _timed(cold)
            old = cold()
        print(f"  previous plan (breakdowns per grunnkrets too): {t[0]:.2f} s; shown per level: "
              + ", ".join(f"{lv} {share:.0%}" for lv, share in _usefulness(old).items())
              + f"; information lost {_loss(old.system, year.label):.2%}")
        ckm = _cell_key(pub, services.period_facts(muni, year), seed)
        print(f"  cell-key method on the grunnkrets age breakdown instead: {ckm['cells']} cells, all shown, "
              f"{ckm['exact']:.0%} exact, mean |noise| {ckm['mean_abs_noise']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 11, 2026])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--alternatives", action="store_true",
                        help="also the previous plan (breakdowns per grunnkrets) and the cell-key method")
    args = parser.parse_args()
    for seed in args.seeds:
        run(seed, args.runs, args.database, args.alternatives)


if __name__ == "__main__":
    main()
