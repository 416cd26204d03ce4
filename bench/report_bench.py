"""Reports on PostgreSQL: what a request costs now that publications are stored, what a build costs, whether the
report statements keep their plan on a long-lived connection, and CSV export memory.

1. Served: `published.uptake_report` as a page, export or API call runs it (the stored publication read and shaped),
   as a ratio to hand-written SQL for one level (a GROUP BY over check-ins and one over cards), min/median/max of
   `--runs` each, interleaved.
2. Built: the publication job (`reports.jobs.build_and_store`: every table of the year and its quarters counted and
   protected, then stored), cold.
3. Plan stability: the build's statements run `--repeat` times on one connection (a long-lived worker's); psycopg
   prepares a statement after five runs and PostgreSQL may then switch to a generic plan. Reported as last/first
   (goal <= 1.2), with custom plans (what the build asks for) and without (PostgreSQL's default).
4. CSV export memory at `--small` and at `--checkins` check-ins (flat).

    python -m bench.report_bench [--cards 20000] [--checkins 500000] [--small 50000] [--runs 5] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import sqlalchemy as sa

from bench.common import fresh_database, generate, make_app


def _spread(values) -> str:
    v = sorted(values)
    return f"{v[0]:.3f}/{statistics.median(v):.3f}/{v[-1]:.3f}"


def _export_peak(report_fn) -> int:
    from opplevelseskort.reports import formats

    tracemalloc.start()
    report = report_fn()
    for _chunk in formats.csv_rows(report):
        pass
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def _stability(db, muni, period, repeat: int, custom: bool) -> list[float]:
    """The build's SQL `repeat` times on one fresh connection, one transaction each (the solve is remembered)."""
    from opplevelseskort.reports import services

    services.CUSTOM_PLANS = custom
    db.session.remove()
    db.engine.dispose()  # a new connection: nothing prepared on it yet
    times, pids = [], set()
    try:
        for _ in range(repeat):
            pids.add(db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar())
            t = time.perf_counter()
            services.build_publications(muni, period)
            times.append(time.perf_counter() - t)
            db.session.commit()
    finally:
        services.CUSTOM_PLANS = True
    assert len(pids) == 1, "the runs must share one connection"
    return times


def run(cards: int, checkins: int, name: str, runs: int, repeat: int, full: bool):
    url = fresh_database(name)
    app = make_app(url)
    from opplevelseskort.extensions import db
    from opplevelseskort.reports import jobs, periods, published

    with app.app_context():
        t0 = time.perf_counter()
        data = generate(db, cards, 50, checkins)
        db.session.commit()
        gen = time.perf_counter() - t0
        muni = published.municipality_for(None, data["municipality"])
        period = periods.parse_period(str(data["year"]))
        out = {"gen": gen}

        def served():
            db.session.expire_all()
            return published.uptake_report(muni, period, "delomrade")

        def hand_written():
            db.session.execute(sa.text(
                "SELECT z.parent_id, count(DISTINCT c.child_id), count(*), count(DISTINCT c.offer_id), sum(c.value_nok)"
                " FROM checkin c JOIN zone z ON z.id = c.zone_id WHERE c.at >= :s AND c.at < :e AND c.voided_at IS NULL"
                " GROUP BY z.parent_id"), {"s": period.start_dt, "e": period.end_dt}).all()
            db.session.execute(sa.text(
                "SELECT z.parent_id, count(DISTINCT k.child_id) FROM card k JOIN child ch ON ch.id = k.child_id"
                " JOIN zone z ON z.id = ch.zone_id WHERE k.valid_from < :e2 AND k.valid_until >= :s2"
                " GROUP BY z.parent_id"), {"s2": period.start, "e2": period.end}).all()

        if full:
            from opplevelseskort.reports import disclosure

            disclosure._CACHE.clear()
            t = time.perf_counter()
            jobs.build_and_store(muni, period)
            db.session.commit()
            out["build"] = time.perf_counter() - t
            served()
            app_t, base_t = [], []
            for _ in range(runs):
                t = time.perf_counter()
                served()
                app_t.append(time.perf_counter() - t)
                t = time.perf_counter()
                hand_written()
                base_t.append(time.perf_counter() - t)
            out["served"], out["hand"] = app_t, base_t
            out["ratio"] = [a / b for a, b in zip(app_t, base_t, strict=True)]
            out["custom"] = _stability(db, muni, period, repeat, custom=True)
            out["generic"] = _stability(db, muni, period, repeat, custom=False)
        else:
            jobs.build_and_store(muni, period)
            db.session.commit()
        out["peak"] = _export_peak(served)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=20000)
    ap.add_argument("--checkins", type=int, default=500000)
    ap.add_argument("--small", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args(argv)
    big = run(args.cards, args.checkins, "ok_bench_report", args.runs, args.repeat, full=True)
    print(f"data: {args.cards} cards, {args.checkins} check-ins (generated in {big['gen']:.1f}s)")
    print(f"built and stored by the job (year and quarters, protected from scratch): {big['build']:.2f} s")
    print(f"served from the stored publication (s, min/median/max of {args.runs}): {_spread(big['served'])}")
    print(f"hand-written GROUP BY for one level (check-ins + cards):               {_spread(big['hand'])}")
    print(f"ratio served/hand-written: {_spread(big['ratio'])} (target <= 1.5)")
    for label in ("custom", "generic"):
        t = big[label]
        head, tail = statistics.median(t[:5]), statistics.median(t[-5:])
        print(f"plan stability, {args.repeat} builds on one connection, {label} plans: first {t[0]:.2f} s, "
              f"last {t[-1]:.2f} s, max {max(t):.2f} s; last/first {t[-1] / t[0]:.2f}, median of the last five / "
              f"of the first five {tail / head:.2f}"
              + (" (goal <= 1.2)" if label == "custom" else " (PostgreSQL's default, for comparison)"))
    small = run(args.cards, args.small, "ok_bench_report_small", args.runs, args.repeat, full=False)
    print(f"CSV export peak memory: {small['peak'] / 1024:.0f} KiB at {args.small} check-ins, "
          f"{big['peak'] / 1024:.0f} KiB at {args.checkins} (ratio {big['peak'] / max(small['peak'], 1):.2f}, "
          "target: flat)")


if __name__ == "__main__":
    main()
