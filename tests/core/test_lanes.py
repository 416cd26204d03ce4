"""Fair lanes (issue 37, items 2 and 8): one caseworker's two big uploads do not hold another caseworker's one-row
import; a person's second big job waits for their first; a worker never gives all its threads to big jobs. Against
a real `opplevelseskort worker` (two threads) on PostgreSQL + Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from opplevelseskort.cards import jobs as card_jobs
from opplevelseskort.core import files, jobs
from opplevelseskort.core.models import JobRun, JobStatus, Role
from opplevelseskort.extensions import db
from opplevelseskort.partners.services import create_staff_user

from ..cards.test_applications_import import HEADER, _row
from ..conftest import PASSWORD

QUEUE = "redis://127.0.0.1:6379/12"


def test_lane_rules(app, muni, users):
    big = JobRun(kind="household_import", actor_id=users["caseworker"].id, municipality_id=muni.id,
                 params={}, context={jobs.BIG: True}, status=JobStatus.RUNNING)
    db.session.add(big)
    db.session.flush()
    mine = JobRun(kind="household_import", actor_id=users["caseworker"].id, municipality_id=muni.id,
                  params={}, context={jobs.BIG: True}, status=JobStatus.QUEUED)
    theirs = JobRun(kind="household_import", actor_id=users["admin"].id, municipality_id=muni.id,
                    params={}, context={jobs.BIG: True}, status=JobStatus.QUEUED)
    small = JobRun(kind="household_import", actor_id=users["caseworker"].id, municipality_id=muni.id, params={},
                   status=JobStatus.QUEUED)
    db.session.add_all([mine, theirs, small])
    db.session.flush()
    jobs._THREADS[0] = 3
    try:
        assert jobs.lane_wait(mine) > 0  # my second big job waits for my first
        assert jobs.lane_wait(theirs) == 0  # another person's big job may run beside it
        assert jobs.lane_wait(small) == 0  # small jobs never wait
        app.config["JOBS_BIG_PER_MUNICIPALITY"] = 1
        assert jobs.lane_wait(theirs) > 0  # the municipality's share of big jobs is taken
        app.config["JOBS_BIG_PER_MUNICIPALITY"] = 2
        jobs._BIG_HERE.update({901: None, 902: None})  # two of this process's three threads on big jobs: the
        assert jobs.lane_wait(theirs) > 0 and jobs.lane_wait(small) == 0  # last stays free
    finally:
        jobs._BIG_HERE.pop(901, None)
        jobs._BIG_HERE.pop(902, None)
        jobs._THREADS[0] = 1


def _worker(env: dict) -> subprocess.Popen:
    script = Path(sys.executable).with_name("opplevelseskort")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "opplevelseskort.cli"]
    return subprocess.Popen([*command, "worker", "--workers", "2", "--no-schedule"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.pg
def test_a_one_row_import_does_not_wait_behind_anothers_two_big_uploads(make_app, app, committing, muni, zone_set,
                                                                         db_url):
    import redis

    redis.Redis.from_url(QUEUE).flushdb()
    db.session.commit()  # the municipality and its zones, for the worker's connections
    worker_app = make_app(JOBS_IMMEDIATE=False, JOBS_URL=QUEUE, JOBS_BIG_UPLOAD_BYTES=100_000)
    big = "\n".join([HEADER, *[_row(given_name=f"Barn{i}") for i in range(6000)]]).encode()
    small = "\n".join([HEADER, _row()]).encode()
    try:
        with worker_app.app_context():
            a = create_staff_user("a@test.no", PASSWORD, Role.CASEWORKER, municipality_id=muni.id)
            b = create_staff_user("b@test.no", PASSWORD, Role.CASEWORKER, municipality_id=muni.id)
            db.session.commit()
            runs = []
            for user, body in ((a, big), (a, big), (b, small)):
                key = f"household-import/{user.id}/{len(runs)}x"
                files.put(key, body, "text/csv")
                runs.append(jobs.start(card_jobs.household_import, actor=user, municipality_id=muni.id, upload=key,
                                       dry_run=True).id)
            queued = time.monotonic()
        env = {**os.environ, "DATABASE_URL": db_url, "JOBS_URL": QUEUE, "JOBS_BIG_UPLOAD_BYTES": "100000",
               "SECRET_KEY": "lanes", "JOBS_EMBEDDED_WORKER": "false", "OPPLEVELSESKORT_ENV": "development"}
        worker = _worker(env)
        try:
            small_done = None
            end = time.monotonic() + 180
            while time.monotonic() < end:
                with db.engine.connect() as conn:
                    status = dict(conn.execute(sa.select(JobRun.id, JobRun.status).where(JobRun.id.in_(runs))).all())
                if small_done is None and status[runs[2]] in (JobStatus.DONE, "done"):
                    small_done = time.monotonic() - queued
                if all(str(s) == "done" for s in status.values()):
                    break
                time.sleep(0.1)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        with db.engine.connect() as conn:
            done = {r.id: r for r in conn.execute(sa.select(JobRun).where(JobRun.id.in_(runs)))}
        assert all(str(r.status) == "done" for r in done.values()), {k: r.errors for k, r in done.items()}
        first, second, one_row = (done[i] for i in runs)
        # A's two big jobs ran one after the other, never side by side
        assert second.started_at >= first.finished_at or first.started_at >= second.finished_at
        # B's one row finished while A's files were still being read, within seconds of the worker starting
        assert one_row.finished_at <= min(first.finished_at, second.finished_at), \
            [(r.started_at, r.finished_at) for r in (first, second, one_row)]
        assert small_done is not None and small_done < 15, small_done
    finally:
        jobs.init_app(app)


def test_a_big_job_this_process_just_started_counts_before_the_database_says_running(app, muni, users):
    """The lane is taken under a lock when the run is picked, not when its "running" is committed: two threads
    picking the same person's two big files at once do not both start."""
    mine = JobRun(kind="household_import", actor_id=users["caseworker"].id, municipality_id=muni.id,
                  params={}, context={jobs.BIG: True}, status=JobStatus.QUEUED)
    db.session.add(mine)
    db.session.flush()
    jobs._THREADS[0] = 4
    try:
        assert jobs.lane_wait(mine) == 0
        jobs._BIG_HERE[990] = users["caseworker"].id  # the other thread took the first file a moment ago
        assert jobs.lane_wait(mine) > 0
    finally:
        jobs._BIG_HERE.pop(990, None)
        jobs._THREADS[0] = 1
