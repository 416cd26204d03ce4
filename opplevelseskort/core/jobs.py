"""Work that does not belong inside a request: a job queue (Huey) with an embedded default.

- Embedded default (the README's two commands, no Redis): the queue is an SQLite file in the instance folder;
  `opplevelseskort worker` consumes it, or a worker thread the web process starts with its first job.
- Production: `JOBS_URL=redis://...`; `opplevelseskort worker` runs as its own process on any number of nodes.
- Tests: `JOBS_IMMEDIATE=1` runs each job at once, inside the request that queued it.

A request queues a job with `start(fn, ...)`, naming the job's function (go-to-definition reaches it): a `job_run` row
sent after that commit. The worker runs the job in an app context, in one transaction: the job's writes and its
`done` status are committed together, or rolled back together and the run marked `failed` with its errors.
Progress goes to the queue's store (`progress`/`progress_of`), so the page can show it while the job's own
transaction is still open. Each part defines its jobs in its `jobs.py` with `@job("kind", title=...)`, which
registers the function under the kind its rows keep (the worker reads the kind back from the row). A run's `params`
are exactly the function's keyword arguments; how it runs (language, address, lane, retries, the page's own keys)
is its `context`.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, after_this_request, current_app, g, has_app_context, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from ..extensions import db
from . import files, locks, outbox
from .clock import utcnow
from .errors import DomainError, NotFound
from .exports import csv_writer
from .i18n import current_locale_code, force_locale
from .models import STAFF, JobRun, JobStatus, Role
from .permissions import can_access_municipality
from .types import Actor
from .uploads import USER_UPLOADS

log = logging.getLogger(__name__)


queue = Huey("opplevelseskort", storage_class=MemoryStorage, results=False, utc=True)


_JOBS: dict[str, Callable] = {}


_APP: list[Flask] = []  # the app the worker runs jobs in (set by init_app)


def init_app(app: Flask) -> None:
    """Point the queue at this app's store: Redis when JOBS_URL says so, else an SQLite file in the instance."""
    url = app.config.get("JOBS_URL") or ""
    immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    if immediate:
        queue.storage_class, queue.storage_kwargs = MemoryStorage, {}
    elif url.startswith(("redis://", "rediss://", "unix://")):
        queue.storage_class, queue.storage_kwargs = RedisStorage, {"url": url}
    else:
        path = Path(url.removeprefix("sqlite:///")) if url else Path(app.instance_path) / "jobs.sqlite3"
        queue.storage_class, queue.storage_kwargs = SqliteStorage, {"filename": str(path)}
    queue.storage = queue.create_storage()
    queue.immediate = immediate
    if immediate:
        queue.storage = MemoryStorage(queue.name)
    _APP[:] = [app]
    app.extensions["opplevelseskort.jobs"] = queue


def job(kind: str, *, title=None):
    """Declare a job: `fn(run: JobRun, **params)` runs in the worker in one transaction; it returns the result
    (JSON-ready) or raises a DomainError whose message, or ImportFailed whose errors, the run keeps. `title` is
    what its progress page is headed."""

    def register(fn: Callable) -> Callable:
        known = _JOBS.get(kind)  # the same function declared again (a module imported twice) replaces itself
        if known is not None and (known.__module__, known.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"two jobs named {kind!r}")
        _JOBS[kind] = fn
        fn.job_kind, fn.job_title = kind, title
        return fn

    return register


def title_of(run: JobRun):
    """The heading of a run's page: its job's title, else "Job"."""
    fn = _JOBS.get(run.kind)
    return getattr(fn, "job_title", None) or _("Jobb")


@queue.task()
def _run_job(run_id: int) -> None:
    if has_app_context():  # run at once (JOBS_IMMEDIATE): in the caller's session and transaction
        execute(run_id)
        return
    with _APP[0].app_context():
        try:
            with _LANE_LOCK:  # two threads deciding at once would both see a free lane
                run = db.session.get(JobRun, run_id)
                wait = lane_wait(run)
                if not wait and _is_big(run):
                    _BIG_HERE[run_id] = run.actor_id
            if wait:
                _run_job.schedule((run_id,), delay=wait)  # its turn comes: back in the queue, a thread freed
                return
            try:
                execute(run_id)
            finally:
                _BIG_HERE.pop(run_id, None)
        finally:
            db.session.remove()


BIG = "big"  # in a run's context: its upload is large (JOBS_BIG_UPLOAD_BYTES or more)


_BIG_HERE: dict[int, int | None] = {}  # the big runs this process is executing now -> who started each


_LANE_LOCK = threading.Lock()


_THREADS: list[int] = [1]  # job threads of this process (set by run_worker)


def _is_big(run: JobRun | None) -> bool:
    return run is not None and bool((run.context or {}).get(BIG))


def lane_wait(run: JobRun | None) -> int:
    """Seconds a queued run should wait before it may start (0: now), so that big jobs share the worker fairly:
    one person's second big job waits for their first (on any node); a municipality runs at most
    JOBS_BIG_PER_MUNICIPALITY big jobs at once; and a process never gives all its threads to big jobs, so the
    schedule (outbox, reminders) and small imports always find one free. Small and scheduled jobs never wait."""
    if not _is_big(run) or run.status != JobStatus.QUEUED:
        return 0
    cfg = current_app.config
    if len(_BIG_HERE) >= max(1, _THREADS[0] - 1) or (run.actor_id is not None and
                                                     run.actor_id in _BIG_HERE.values()):
        return 2
    running = db.session.scalars(sa.select(JobRun).where(JobRun.status == JobStatus.RUNNING,
                                                         JobRun.id != run.id)).all()
    big = [r for r in running if _is_big(r)]
    if run.actor_id is not None and any(r.actor_id == run.actor_id for r in big):
        return 2
    if run.municipality_id is not None and \
            sum(r.municipality_id == run.municipality_id for r in big) >= cfg["JOBS_BIG_PER_MUNICIPALITY"]:
        return 2
    return 0


def at_once() -> bool:
    """Jobs run at once, inside the request that starts them (JOBS_IMMEDIATE): this app's setting, never the
    process's queue, which the last app made in the process points at its own store."""
    return has_app_context() and bool(current_app.config.get("JOBS_IMMEDIATE"))


def mark_job_thread() -> None:
    """This app context runs a job: on SQLite its transactions take the write lock when they begin (see
    `opplevelseskort._sqlite_transactions`), so a job that reads, then writes never fails on a request's commit."""
    g.job_thread = True


def is_job_thread() -> bool:
    return has_app_context() and g.get("job_thread", False)


def execute(run_id: int) -> JobRun | None:
    """Run one queued job now (the worker's task body; also what a test or the CLI calls)."""
    if not at_once():
        mark_job_thread()  # the worker's app context is the job's alone
    run = db.session.get(JobRun, run_id)
    if run is None or run.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return run
    run.status, run.started_at = JobStatus.RUNNING, utcnow()
    fn = _JOBS[run.kind]
    immediate = at_once()
    _RUNNING.add(run_id)
    beat(run_id)
    try:
        return _execute(run, run_id, fn, immediate)
    finally:
        _RUNNING.discard(run_id)
        queue.get(f"heartbeat:{run_id}")  # taken out of the store: the run is no longer anyone's


def _execute(run: JobRun, run_id: int, fn: Callable, immediate: bool) -> JobRun:
    if not immediate:
        db.session.commit()  # "running" is seen by the page while the job's own transaction is open
    savepoint = db.session.begin_nested() if immediate and run.kind not in _OWN_TRANSACTIONS else None
    errors: list[str] = []
    context = run.context or {}
    g.public_base_url = context.get("base_url") or ""
    with force_locale(context.get("locale") or "nb"):  # messages in the starter's language
        try:
            result = fn(run, **(run.params or {}))
        except DomainError as exc:
            errors = list(getattr(exc, "errors", None) or [exc.message])
            log.info("job %s (%s) refused: %s problems", run_id, run.kind, len(errors))
        except Exception:
            errors = [_unexpected(run_id)]
            log.exception("job %s (%s) failed", run_id, run.kind)
    if errors:  # all or nothing: the job's writes go, its failed run stays
        if savepoint is not None:
            savepoint.rollback()
        else:
            db.session.rollback()
            run = db.session.get(JobRun, run_id)
        run.status, run.finished_at, run.errors = JobStatus.FAILED, utcnow(), _bounded(run, errors)
        upload = (run.params or {}).get("upload")
        if isinstance(upload, str) and upload.startswith(USER_UPLOADS):
            files.delete(upload)  # a failed import's file (children's data) goes now, not after 24 hours
    else:
        if savepoint is not None:
            savepoint.commit()
        run.status, run.finished_at, run.result = JobStatus.DONE, utcnow(), result or {}
    if not immediate:
        try:
            db.session.commit()
        except Exception:  # the database refused the job's writes at the end: the run fails, never stays "running"
            db.session.rollback()
            log.exception("job %s could not be saved", run_id)
            run = db.session.get(JobRun, run_id)
            run.status, run.finished_at = JobStatus.FAILED, utcnow()
            run.errors = [_unexpected(run_id)]
            db.session.commit()
    if run.status == JobStatus.DONE:
        total = (progress_of(run.id) or (1, 1))[1]
        progress(run.id, total, total)
    return run


def _unexpected(run_id: int) -> str:
    return _("Jobben stoppet på grunn av en uventet feil, og ingenting ble lagret. Prøv igjen, eller si fra til "
             "kommunens IT (jobb %(id)s).", id=run_id)


ERRORS_KEPT = 1000  # a failed run keeps this many problems on its page; the whole list is a CSV beside it


def _bounded(run: JobRun, errors: list[str]) -> list[str]:
    """The problems a failed run keeps: all of them when they are few; else the first ERRORS_KEPT and a line with
    the total, the whole list stored as a CSV file the job's page links to (`errors_file`)."""
    if len(errors) <= ERRORS_KEPT:
        return errors
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([_("Problem")])
    writer.writerows([e] for e in errors)
    key = f"joberrors/{run.id}.csv"
    files.put(key, ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8")
    run.result = {**(run.result or {}), "errors_total": len(errors), "errors_file": key}
    return [*errors[:ERRORS_KEPT], _("… og %(n)d problemer til (%(total)d i alt). Last ned hele listen (CSV).",
                                     n=len(errors) - ERRORS_KEPT, total=len(errors))]


def errors_csv(run: JobRun) -> bytes | None:
    """The whole list of a failed run's problems, when it was too long for its page."""
    key = (run.result or {}).get("errors_file")
    stored = files.get(key) if key else None
    return stored.content if stored is not None else None


def start(fn: Callable, /, *, actor: Actor | None, municipality_id: int | None, back: str | None = None,
          page: dict | None = None, **params) -> JobRun:
    """Queue job `fn` (a function declared with `@job`) with `params`, its keyword arguments, as they are: its row
    now (in the caller's transaction), its queue entry once that transaction commits. `back` is the endpoint its
    page leads back to; `page` what the starting page keeps about the run (in `run.context`, never passed on)."""
    kind = getattr(fn, "job_kind", None)
    if kind is None or _JOBS.get(kind) is not fn:
        raise TypeError(f"{fn!r} is not a job: declare it with @jobs.job(kind)")
    context = dict(page or {})
    if back:
        context["back"] = back
    if has_request_context():
        context["locale"] = current_locale_code()
        context["base_url"] = request.url_root.rstrip("/")  # links built in the job point here
    size = files.size(params["upload"]) if isinstance(params.get("upload"), str) else None
    if size is not None and size >= current_app.config["JOBS_BIG_UPLOAD_BYTES"]:
        context[BIG] = True
    run = JobRun(kind=kind, actor_id=actor.id if actor else None, municipality_id=municipality_id, params=params,
                 context=context)
    db.session.add(run)
    db.session.flush()
    run_id = run.id
    if at_once():  # in the caller's transaction; what goes wrong is raised here, never swallowed by the queue
        execute(run_id)
        return run
    _ensure_embedded_worker()
    if has_request_context():
        @after_this_request
        def _enqueue(response):  # after the boundary's commit: the worker must find the row
            if response.status_code < 400:
                _run_job(run_id)
            return response
    else:
        db.session.commit()
        _run_job(run_id)
    return run


def progress(run_id: int, done: int, total: int) -> None:
    """How far a running job is (kept in the queue's store, outside the job's transaction)."""
    queue.put(f"progress:{run_id}", (int(done), int(total)))


def progress_of(run_id: int) -> tuple[int, int] | None:
    value = queue.get(f"progress:{run_id}", peek=True)
    return tuple(value) if value else None


def reporter(run: JobRun) -> Callable[[int, int], None]:
    """A progress callback for a service (`progress(done, total)`), written at most every 1 % of the way."""
    last = [-1]

    def report(done: int, total: int) -> None:
        step = max(total // 100, 1)
        if done == total or done - last[0] >= step:
            last[0] = done
            progress(run.id, done, total)

    return report


_EMBEDDED: list = []


def _ensure_embedded_worker() -> None:
    """The embedded default (no JOBS_URL, not production): a worker thread inside this process, started with the
    first job, so `opplevelseskort run` alone runs imports. Production runs `opplevelseskort worker` instead."""
    app = _APP[0] if _APP else None
    if _EMBEDDED or app is None or not app.config.get("JOBS_EMBEDDED_WORKER"):
        return
    with app.app_context():
        recover()
    _start_heartbeat()
    consumer = queue.create_consumer(workers=1, periodic=True, worker_type="thread")
    consumer.scheduler.start()  # started by hand: Consumer.start() would install signal handlers (main thread only)
    for _name, thread in consumer.worker_threads:
        thread.start()
    _EMBEDDED.append(consumer)
    log.info("embedded job worker started")


def run_worker(app: Flask, *, workers: int = 1, periodic: bool = True) -> None:
    """The consumer: runs queued jobs (and the schedule) until stopped. On start it takes over from a worker that
    died (`recover`) and runs the every-minute jobs (the outbox) at once rather than at the next minute."""
    init_app(app)
    if workers > 1 and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite has one writer: two job threads that both read, then write, make one fail at once ("database is
        # locked"). The embedded default runs one job at a time; PostgreSQL runs as many as asked.
        log.warning("SQLite database: the worker runs one job at a time (asked for %s)", workers)
        workers = 1
    _THREADS[0] = workers
    with app.app_context():
        recover()
    _start_heartbeat()
    consumer = queue.create_consumer(workers=workers, periodic=periodic, worker_type="thread")
    if periodic:
        for name, item in SCHEDULE.items():
            if item.minute == "*" and item.hour == "*":
                _SCHEDULED_TASKS[name]()
        # the runs a worker that died just now left: ended once they are stale, not at the next minute
        _SCHEDULED_TASKS["reaper"].schedule(delay=app.config["JOBS_STALE_SECONDS"] + 1)
    consumer.run()


_RUNNING: set[int] = set()  # the runs this process is executing now


_SCHEDULED_TASKS: dict[str, Callable] = {}


def beat(run_id: int) -> None:
    queue.put(f"heartbeat:{run_id}", time.time())


def _start_heartbeat() -> None:
    """A thread that keeps this process's running jobs alive in the queue's store (never the app's database, where
    a long import's transaction would hold it up)."""
    if any(t.name == "job-heartbeat" for t in threading.enumerate()):
        return

    def loop() -> None:
        while True:
            for run_id in list(_RUNNING):
                try:
                    beat(run_id)
                except Exception:  # noqa: BLE001 - the store away for a moment: the next beat tries again
                    log.warning("job heartbeat for %s failed", run_id)
            time.sleep(_APP[0].config["JOBS_HEARTBEAT_SECONDS"] if _APP else 10)

    threading.Thread(target=loop, name="job-heartbeat", daemon=True).start()


def recover(now: datetime | None = None) -> dict:
    """Take over from a worker that died: the queue locks an earlier version left (Huey's, without expiry) are
    cleared, and a run left "running" that no worker has beaten for JOBS_STALE_SECONDS is ended: a job people started,
    all or nothing, is queued once more (its writes were rolled back with its worker); a second death, or a
    scheduled job (the schedule runs it again), is marked failed with the reason."""
    for name in SCHEDULE:  # Huey's lock of an earlier version (no expiry): nothing takes it any more
        queue.storage.delete_data(f"{queue.name}.lock.scheduled:{name}")
    now = now or utcnow()
    retried, failed = [], []
    for run in db.session.scalars(db.select(JobRun).where(JobRun.status == JobStatus.RUNNING)):
        if run.id in _RUNNING:
            continue
        heard = queue.get(f"heartbeat:{run.id}", peek=True)
        seen = heard if heard is not None else (run.started_at or run.created_at).timestamp()
        if now.timestamp() - float(seen) < current_app.config["JOBS_STALE_SECONDS"]:
            continue
        attempts = int((run.context or {}).get("attempts", 0))
        if run.kind not in SCHEDULE and run.kind not in _OWN_TRANSACTIONS and attempts < 1:
            run.status, run.started_at = JobStatus.QUEUED, None
            run.context = {**(run.context or {}), "attempts": attempts + 1}
            retried.append(run.id)
        else:
            run.status, run.finished_at = JobStatus.FAILED, now
            run.errors = [_("Jobben stoppet fordi arbeideren som kjørte den, stoppet (for eksempel en omstart). "
                            "Ingenting av den ble lagret halvveis. Start den på nytt.")]
            failed.append(run.id)
    db.session.commit()
    for run_id in retried:
        _run_job(run_id)
    if retried or failed:
        log.warning("jobs of a worker that died: %s queued again, %s failed", retried, failed)
    return {"retried": retried, "failed": failed}


def run_of(run_id: int, *, actor: Actor, job: Callable | None = None) -> JobRun:
    """A run (of job function `job`, when given) its own starter may follow (an admin of its municipality too);
    anyone else's is not found."""
    run = db.session.get(JobRun, run_id)
    if run is None or (job is not None and run.kind != job.job_kind) or not (
            run.actor_id == actor.id or (actor.role == Role.ADMIN and run.municipality_id is not None
                                         and can_access_municipality(actor, run.municipality_id))):
        raise NotFound("job_not_found", _("Fant ikke jobben."))
    return run


def status_of(run: JobRun) -> dict:
    """What the progress page polls: the status and how far the job is."""
    done, total = progress_of(run.id) or (0, 0)
    return {"id": run.id, "status": str(run.status), "done": done, "total": total,
            "finished": run.status in (JobStatus.DONE, JobStatus.FAILED)}


_OWN_TRANSACTIONS: set[str] = set()  # jobs that commit as they go (a delivery loop), not all or nothing


def every(name: str, *, minute: str = "*", hour: str = "*", what: str = "", own_transactions: bool = False):
    """A scheduled job: `fn()` runs when the crontab fields (UTC) say, in the worker, on one node at a time (a
    queue lock), in its own transaction; its runs are kept as `job_run` rows of kind `name` for the admin page.
    Every scheduled function is idempotent: running it twice does its work once."""

    def register(fn: Callable) -> Callable:
        @queue.periodic_task(crontab(minute=minute, hour=hour), name=name)
        def scheduled() -> None:
            with _APP[0].app_context():
                try:
                    with locks.held(f"scheduled:{name}") as mine:
                        if mine:
                            run_scheduled(name)
                        else:
                            log.info("scheduled job %s is running elsewhere; this run is skipped", name)
                finally:
                    db.session.remove()

        _SCHEDULED_TASKS[name] = scheduled

        SCHEDULE[name] = Scheduled(name, minute, hour, what, fn)
        if own_transactions:
            _OWN_TRANSACTIONS.add(name)
        _JOBS[name] = lambda run: fn()
        return fn

    return register


@dataclass(frozen=True)
class Scheduled:
    name: str
    minute: str
    hour: str
    what: str  # for the admin page
    fn: Callable


SCHEDULE: dict[str, Scheduled] = {}


def run_scheduled(name: str) -> JobRun:
    """One run of a scheduled job, recorded (what the worker's schedule calls; an admin may also run one now)."""
    run = JobRun(kind=name, params={}, context={})
    db.session.add(run)
    if at_once():
        db.session.flush()
    else:
        db.session.commit()
    return execute(run.id)


def next_run(item: Scheduled, after: datetime) -> datetime | None:
    """When the schedule next runs a job after `after` (UTC, to the minute; None if not within two days)."""
    due = crontab(minute=item.minute, hour=item.hour)
    at = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _minute in range(2 * 24 * 60):
        if due(at.replace(tzinfo=None)):
            return at
        at += timedelta(minutes=1)
    return None


def schedule_overview() -> list[dict]:
    """For the admin page: each scheduled job with its timing, last run and failures in the last day."""
    since = utcnow() - timedelta(days=1)
    out = []
    for item in sorted(SCHEDULE.values(), key=lambda s: s.name):
        last = db.session.scalar(db.select(JobRun).where(JobRun.kind == item.name).order_by(JobRun.id.desc()).limit(1))
        failures = db.session.scalar(db.select(db.func.count(JobRun.id)).where(
            JobRun.kind == item.name, JobRun.status == JobStatus.FAILED, JobRun.created_at >= since)) or 0
        out.append({"name": item.name, "what": item.what, "when": f"{item.minute} {item.hour} * * *", "last": last,
                    "next": next_run(item, utcnow()), "failures": failures})
    return out


def _runs_seen_by(actor: Actor, *where, order, limit: int) -> list[tuple[JobRun, str]]:
    """Runs for the admin page, in the admin's municipality (every one for an admin without one), each with the
    e-mail of who started it."""
    query = (db.select(JobRun, STAFF.c.email).outerjoin(STAFF, STAFF.c.id == JobRun.actor_id).where(*where)
             .order_by(order).limit(limit))
    if actor.municipality_id is not None:
        query = query.where(JobRun.municipality_id == actor.municipality_id)
    return [(run, email or "") for run, email in db.session.execute(query).all()]


def recent_failures(actor: Actor, *, days: int = 7, limit: int = 50) -> list[tuple[JobRun, str]]:
    """For the admin page: the jobs people started (imports, link sendings, builds) that failed lately, newest
    first."""
    return _runs_seen_by(actor, JobRun.status == JobStatus.FAILED, JobRun.kind.not_in(list(SCHEDULE)),
                         JobRun.created_at >= utcnow() - timedelta(days=days), order=JobRun.id.desc(), limit=limit)


def running_now(actor: Actor) -> list[tuple[JobRun, str, bool]]:
    """For the admin page: the runs going on now, and whether each is big (it takes a lane of its own)."""
    return [(run, email, _is_big(run)) for run, email in _runs_seen_by(
        actor, JobRun.status.in_([JobStatus.RUNNING, JobStatus.QUEUED]), order=JobRun.id, limit=100)]


def backlog() -> int:
    """Jobs waiting in the queue (all kinds); -1 when the queue's store cannot be asked."""
    try:
        return int(queue.pending_count())
    except Exception:  # noqa: BLE001 - the admin page must not fail because the queue's store is away
        return -1


@every("outbox", minute="*", what=_l("Sender e-post og SMS fra utboksen"), own_transactions=True)
def deliver_outbox() -> dict:
    """Queued e-mail and SMS go out; failures stay queued for a later try (claimed rows: safe on several nodes)."""
    sent, failed = outbox.deliver_pending(500)
    return {"sent": sent, "failed": failed}


@every("reaper", minute="*", what=_l("Avslutter jobber som en stoppet arbeider etterlot som «kjører»"),
       own_transactions=True)
def reap_stale_runs() -> dict:
    """A worker that died mid-job on another node: its runs are ended here within a minute or two."""
    return recover()

