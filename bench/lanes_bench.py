"""Fair lanes under load (issue 37, item 2): how long another caseworker's one-row import waits behind one
caseworker's two big dry-run uploads, with a real two-thread `opplevelseskort worker` on PostgreSQL + Redis.

For each run: caseworker A queues two big household files (`--rows` rows each), then caseworker B one row; the
worker starts; B's delay is from queueing to done. Baseline in the same run: the same with lanes off (the
big-upload threshold set above the files' size). Min/median/max over `--runs`; CPU of the worker process (psutil)
beside wall time.

    python -m bench.lanes_bench [--runs 3] [--rows 40000]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

QUEUE = "redis://127.0.0.1:6379/13"


def _spread(values) -> str:
    return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}"


def one_run(rows: int, lanes: bool) -> tuple[float, float, float]:
    import redis
    import sqlalchemy as sa

    from bench.common import fresh_database, make_app
    from opplevelseskort.cards import jobs as card_jobs
    from opplevelseskort.core import files, jobs, municipalities
    from opplevelseskort.core.models import JobRun, Role
    from opplevelseskort.extensions import db
    from opplevelseskort.partners.services import create_staff_user
    from tests.cards.test_applications_import import HEADER, _row

    redis.Redis.from_url(QUEUE).flushdb()
    url = fresh_database("bench_lanes")
    threshold = 1_000_000 if lanes else 10 ** 12
    app = make_app(url, JOBS_IMMEDIATE=False, JOBS_URL=QUEUE, JOBS_BIG_UPLOAD_BYTES=threshold,
                   JOBS_EMBEDDED_WORKER=False)
    big = "\n".join([HEADER, *[_row(given_name=f"Barn{i}") for i in range(rows)]]).encode()
    small = "\n".join([HEADER, _row()]).encode()
    with app.app_context():
        db.create_all()
        muni = municipalities.get_or_create_municipality("3001", "Benk")
        from opplevelseskort.zones import imports as zones

        zones.import_zones_csv(muni, "code;name;level;parent\n30010101;Sone;grunnkrets;\n")
        a = create_staff_user("a@bench.no", "benk og bord 42", Role.CASEWORKER, municipality_id=muni.id)
        b = create_staff_user("b@bench.no", "benk og bord 42", Role.CASEWORKER, municipality_id=muni.id)
        db.session.commit()
        runs = []
        for i, (user, body) in enumerate(((a, big), (a, big), (b, small))):
            key = f"household-import/{user.id}/bench{i}"
            files.put(key, body, "text/csv")
            db.session.commit()
            runs.append(jobs.start(card_jobs.household_import, actor=user, municipality_id=muni.id, upload=key,
                                   dry_run=True).id)
        env = {**os.environ, "DATABASE_URL": url, "JOBS_URL": QUEUE, "JOBS_BIG_UPLOAD_BYTES": str(threshold),
               "SECRET_KEY": "bench", "JOBS_EMBEDDED_WORKER": "false", "OPPLEVELSESKORT_ENV": "development",
               "LOG_LEVEL": "WARNING"}
        script = Path(sys.executable).with_name("opplevelseskort")
        started = time.monotonic()
        worker = subprocess.Popen([str(script), "worker", "--workers", "2", "--no-schedule"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        proc = psutil.Process(worker.pid)
        b_wait = None
        try:
            while time.monotonic() - started < 900:
                with db.engine.connect() as conn:
                    status = dict(conn.execute(sa.select(JobRun.id, JobRun.status).where(JobRun.id.in_(runs))).all())
                if b_wait is None and str(status[runs[2]]) == "done":
                    b_wait = time.monotonic() - started
                if all(str(s) in ("done", "failed") for s in status.values()):
                    break
                time.sleep(0.05)
            cpu = proc.cpu_times()
            all_done = time.monotonic() - started
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(60)
        db.session.remove()
    return b_wait or float("nan"), all_done, cpu.user + cpu.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=40000)
    args = parser.parse_args()
    results = {True: [], False: []}
    for _run in range(args.runs):
        for lanes in (True, False):  # interleaved: both see the same machine
            results[lanes].append(one_run(args.rows, lanes))
    from tests.cards.test_applications_import import HEADER, _row

    size = len("\n".join([HEADER, *[_row(given_name=f"Barn{i}") for i in range(args.rows)]]).encode()) / 1024 ** 2
    print(f"two dry runs of {args.rows} rows (about {size:.0f} MB each) by one caseworker, then one row by another; "
          f"{args.runs} runs, min/median/max")
    for lanes in (True, False):
        waits = [r[0] for r in results[lanes]]
        total = [r[1] for r in results[lanes]]
        cpu = [r[2] for r in results[lanes]]
        print(f"  lanes {'on ' if lanes else 'off'}: one-row import done after {_spread(waits)} s; all three done "
              f"after {_spread(total)} s; worker CPU {_spread(cpu)} s")
    ratio = [on[0] / off[0] for on, off in zip(results[True], results[False], strict=True)]
    print(f"  one-row wait, lanes on / off: {_spread(ratio)}")


if __name__ == "__main__":
    main()
