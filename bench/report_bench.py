"""Uptake report on PostgreSQL: time as a ratio to hand-written SQL, and CSV export memory.

A report is one table of the period's publication: every zone level, the age and gender breakdowns and (for a
year) the grant report are built and protected together. Three times are measured in one run: the report with
disclosure control solved from scratch, the same report when the identical tables were protected before (the
protection is remembered), and hand-written SQL for one level (a GROUP BY over check-ins and over cards).

    python -m bench.report_bench [--cards 20000] [--checkins 500000] [--small 50000]

The issue's full scale is 200,000 cards and 5,000,000 check-ins (--cards 200000 --checkins 5000000); the
generator writes in bulk SQL, so that scale takes minutes on two cores rather than seconds.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import sqlalchemy as sa

from bench.common import fresh_database, generate, make_app


def _timed(fn, repeat=3):
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        d = time.perf_counter() - t
        best = d if best is None else min(best, d)
    return best


def _export_peak(db, report_fn) -> int:
    from opplevelseskort.reports import formats

    tracemalloc.start()
    report = report_fn()
    for _chunk in formats.csv_rows(report):
        pass
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def run(cards: int, checkins: int, name: str):
    url = fresh_database(name)
    app = make_app(url)
    from opplevelseskort.extensions import db
    from opplevelseskort.reports import services

    with app.app_context():
        t0 = time.perf_counter()
        data = generate(db, cards, 50, checkins)
        gen = time.perf_counter() - t0
        muni = services.municipality_for(None, data["municipality"])
        period = services.parse_period(str(data["year"]))

        def app_report():
            return services.uptake_report(muni, period, "delomrade")

        def cold_report():
            from opplevelseskort.reports import disclosure

            disclosure._CACHE.clear()
            return app_report()

        def hand_written():
            db.session.execute(sa.text(
                "SELECT z.parent_id, count(DISTINCT c.child_id), count(*), count(DISTINCT c.offer_id), sum(c.value_nok)"
                " FROM checkin c JOIN zone z ON z.id = c.zone_id WHERE c.at >= :s AND c.at < :e AND c.voided_at IS NULL"
                " GROUP BY z.parent_id"), {"s": period.start_dt, "e": period.end_dt}).all()
            db.session.execute(sa.text(
                "SELECT z.parent_id, count(DISTINCT k.child_id) FROM card k JOIN child ch ON ch.id = k.child_id"
                " JOIN zone z ON z.id = ch.zone_id WHERE k.valid_from < :e2 AND k.valid_until >= :s2"
                " GROUP BY z.parent_id"), {"s2": period.start, "e2": period.end}).all()

        app_report()
        t_cold = _timed(cold_report)
        t_app = _timed(app_report)
        t_base = _timed(hand_written)
        peak = _export_peak(db, app_report)
    return gen, (t_cold, t_app), t_base, peak


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=20000)
    ap.add_argument("--checkins", type=int, default=500000)
    ap.add_argument("--small", type=int, default=50000)
    args = ap.parse_args(argv)
    gen, (t_cold, t_app), t_base, peak_big = run(args.cards, args.checkins, "ok_bench_report")
    print(f"data: {args.cards} cards, {args.checkins} check-ins (generated in {gen:.1f}s)")
    print(f"report, every table of the period protected from scratch: {t_cold * 1000:.0f} ms")
    print(f"report, protection remembered:                           {t_app * 1000:.0f} ms")
    print(f"hand-written GROUP BY for one level (check-ins + cards):  {t_base * 1000:.0f} ms")
    print(f"ratio remembered/hand-written = {t_app / t_base:.2f} (target <= 1.5); "
          f"from scratch/hand-written = {t_cold / t_base:.2f}")
    _g, _a, _b, peak_small = run(args.cards, args.small, "ok_bench_report_small")
    print(f"CSV export peak memory: {peak_small / 1024:.0f} KiB at {args.small} check-ins, "
          f"{peak_big / 1024:.0f} KiB at {args.checkins} (ratio {peak_big / max(peak_small, 1):.2f}, target: flat)")


if __name__ == "__main__":
    main()
