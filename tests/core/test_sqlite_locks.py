"""The embedded SQLite database under a busy worker (the first run's caseworker got a 503 while the schedule rebuilt
the reports): a request that changes data waits for the worker's write instead of failing, a page that only reads
is never blocked by it, and a job's write does not wait for a reader. Real threads on a real database file, as
`opplevelseskort run` has them (the PostgreSQL side is tests/test_concurrency.py)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from opplevelseskort import create_app
from opplevelseskort.core import jobs
from opplevelseskort.core.models import JobRun, Municipality
from opplevelseskort.extensions import db

from ..conftest import TEST_CONFIG

pytestmark = pytest.mark.sqlite  # SQLite's locks; PostgreSQL has row locks (tests/test_concurrency.py)

HOLD = 0.8  # seconds the other side holds its transaction open


@pytest.fixture
def embedded(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/embedded.sqlite",
                      "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        db.create_all()
        db.session.add(Municipality(number="3001", name="Halden"))
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _hold_a_write(app, started: threading.Event, errors: list, *, as_job: bool) -> None:
    """What the worker does: write early in a transaction, keep it open for a while, then commit."""
    with app.app_context():
        try:
            if as_job:
                jobs.mark_job_thread()
            db.session.execute(sa.update(Municipality).values(name="Halden kommune"))
            started.set()
            time.sleep(HOLD)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported to the test's thread
            errors.append(exc)
            started.set()
        finally:
            db.session.remove()


def _beside(app, fn, *, as_job: bool = True):
    started, errors = threading.Event(), []
    other = threading.Thread(target=_hold_a_write, args=(app, started, errors), kwargs={"as_job": as_job})
    other.start()
    assert started.wait(5)
    try:
        return fn()
    finally:
        other.join(10)
        assert not errors, errors


def test_the_embedded_database_writes_ahead(embedded):
    with embedded.app_context():
        assert db.session.scalar(sa.text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(sa.text("PRAGMA busy_timeout")) >= 10_000


def test_a_request_that_reads_then_writes_waits_for_the_workers_write(embedded):
    def post():
        with embedded.test_request_context("/barn/import", method="POST"):
            embedded.preprocess_request()  # the request's hooks, as for every request
            name = db.session.scalar(sa.select(Municipality.name))  # read while the worker holds its write
            db.session.add(JobRun(kind="card_links", params={}, context={}))
            db.session.commit()
            db.session.remove()
            return name

    # The request began after the worker's write: it waited for the commit and read what was committed.
    assert _beside(embedded, post) == "Halden kommune"
    with embedded.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 1


def test_a_page_that_only_reads_is_not_held_up_by_the_workers_write(embedded):
    def get():
        with embedded.test_request_context("/rapporter/", method="GET"):
            embedded.preprocess_request()
            t0 = time.monotonic()
            name = db.session.scalar(sa.select(Municipality.name))
            waited = time.monotonic() - t0
            db.session.remove()
            return name, waited

    name, waited = _beside(embedded, get)
    assert name == "Halden"  # the last committed state, without waiting for the worker
    assert waited < HOLD / 2


def test_a_job_that_reads_then_writes_waits_for_a_requests_write(embedded):
    def job():
        with embedded.app_context():
            jobs.mark_job_thread()
            before = db.session.scalar(sa.select(Municipality.name))
            db.session.add(JobRun(kind="publications", params={}, context={}))
            db.session.commit()
            db.session.remove()
            return before

    # the other side is a request here: it writes without marking itself as a job
    assert _beside(embedded, job, as_job=False) == "Halden kommune"


def test_a_workers_commit_does_not_wait_for_an_open_page(embedded):
    with embedded.test_request_context("/rapporter/", method="GET"):
        assert db.session.scalar(sa.select(Municipality.name)) == "Halden"  # a read transaction stays open
        started, errors = threading.Event(), []
        t0 = time.monotonic()
        _hold_a_write(embedded, started, errors, as_job=True)
        assert not errors, errors
        assert time.monotonic() - t0 < HOLD + 2  # the write committed while the page's transaction was open
        assert db.session.scalar(sa.select(Municipality.name)) == "Halden"  # the page still reads its snapshot
        db.session.remove()


def test_another_session_in_a_writing_request_does_not_wait_for_the_requests_own_lock(embedded):
    """The first job a process starts starts the embedded worker from inside the request, in an app context of its
    own (it reads the runs a dead worker left): that session must not ask for the write lock its request holds."""
    with embedded.test_request_context("/barn/import", method="POST"):
        embedded.preprocess_request()
        db.session.add(JobRun(kind="card_links", params={}, context={}))
        db.session.flush()  # the request holds the write lock
        t0 = time.monotonic()
        with embedded.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0
            db.session.commit()
            db.session.remove()
        assert time.monotonic() - t0 < 2
        db.session.commit()
