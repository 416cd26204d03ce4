"""Build a year's publications in a fresh process and print them as JSON (for the determinism test).

    python tests/reports/build_in_process.py SEED [--slow SECONDS]

Builds bench/population.py's municipality (a smaller shape, seeded) on an in-memory SQLite database and prints
every stored publication of the year (the year, its quarters and months) sorted by period. `--slow` makes every
solver call sleep first, as on a machine too busy to give it CPU: the output must not change.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SHAPE = dict(grunnkretser=40, delomrader=8, children=1200, checkins=2800, small_zones=5, tiny_zones=2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seed", type=int)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--full", action="store_true", help="the benchmark's real-shaped population")
    args = parser.parse_args()
    if args.slow:
        import scipy.optimize

        for name in ("milp", "linprog"):
            real = getattr(scipy.optimize, name)

            def slowed(*a, _real=real, **kw):
                time.sleep(args.slow)
                return _real(*a, **kw)

            setattr(scipy.optimize, name, slowed)

    from bench import population
    from opplevelseskort import create_app
    from opplevelseskort.core import municipalities
    from opplevelseskort.extensions import db
    from opplevelseskort.reports import periods, services, store

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SKIP_LOGGING_CONFIG": True, "TESTING": True,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "determinism", "REPORT_ZONE_MIN_CARDS": 10,
                      "INSTANCE_PATH": "/tmp/opplevelseskort-determinism", "JOBS_EMBEDDED_WORKER": False})
    with app.app_context():
        db.create_all()
        muni = municipalities.get_or_create_municipality("3001", "Testby")
        population.build(db, muni, seed=args.seed, shape=population.REAL if args.full else population.Shape(**SHAPE))
        db.session.commit()
        pubs = services.build_publications(muni, periods.parse_period("2026"))
        out = {p.period.label: store.dump(p) for p in pubs}
        json.dump(out, sys.stdout, sort_keys=True, ensure_ascii=False)


if __name__ == "__main__":
    main()
