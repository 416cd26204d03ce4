"""Operations: health and readiness for a load balancer, a request id on every request and log line, structured
JSON logs without personal data, and Prometheus metrics.

- `/healthz`: the process answers (no database).
- `/readyz`: the database answers, Redis answers (when it holds the rate limits), and the schema is at the
  newest migration; 503 with what is wrong otherwise.
- Logs: one JSON object a line (`LOG_FORMAT=json`, the default in production) with the request id; requests are
  logged by endpoint name, never by path (a path can hold a family's secret link).
- `/metrics`: request latency per endpoint, and from the database at scrape time the check-ins and loans
  recorded and the outbox backlog (so every node and worker reports the same truth). With gunicorn, set
  `PROMETHEUS_MULTIPROC_DIR` so the workers' latency histograms are added up.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid

from flask import Blueprint, Response, abort, current_app, g, has_request_context, jsonify, request

from ..extensions import db
from . import hooks
from .models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
access_log = logging.getLogger("opplevelseskort.access")
bp = Blueprint("ops", __name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and the access fields)."""

    FIELDS = ("method", "endpoint", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
               "level": record.levelname, "logger": record.name, "message": record.getMessage(),
               "request_id": getattr(record, "request_id", "-")}
        for name in self.FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            # The exception's type and where it happened; messages of database errors carry no parameters
            # (hide_parameters), and no local variables are ever logged.
            out["error"] = self.formatException(record.exc_info).splitlines()[-1][:500]
        return json.dumps(out, ensure_ascii=False)


def logging_config(level: str, fmt: str) -> dict:
    formatter = {"()": JsonFormatter} if fmt == "json" else {
        "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"main": formatter},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                "formatter": "main", "filters": ["request_id"]}},
        "root": {"level": level, "handlers": ["stdout"]},
    }


# --- metrics ---------------------------------------------------------------------------------------------

_metrics: dict = {}
_metrics_lock = threading.Lock()  # the first requests of threads started together must not register it twice


def _latency():
    if "latency" in _metrics:
        return _metrics["latency"]
    with _metrics_lock:
        if "latency" not in _metrics:
            from prometheus_client import Histogram

            _metrics["latency"] = Histogram(
                "opplevelseskort_request_seconds", "Request latency by endpoint", ["endpoint", "method", "status"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10))
    return _metrics["latency"]


DB_METRICS_TTL = 30.0  # seconds
_DB_METRICS_KEY = "opplevelseskort.db_metrics"


def _monotonic() -> float:
    return time.monotonic()


class DatabaseCollector:
    """Figures read from the database at scrape time: the same on every node and worker."""

    def __init__(self, app):
        self.app = app

    def _read(self) -> tuple[dict, list] | None:
        """The figures, read from the database at most every DB_METRICS_TTL seconds per process (a scrape under
        load must stay cheap; counts a few seconds old are fine for a dashboard)."""
        cached = self.app.extensions.get(_DB_METRICS_KEY)
        now = _monotonic()
        if cached is not None and now - cached[0] < DB_METRICS_TTL:
            return cached[1]
        with self.app.app_context():
            try:
                counts = dict(hooks.collect("metric_counts"))  # each part counts its own rows
                backlog = db.session.execute(
                    db.select(OutboxMessage.status, db.func.count()).group_by(OutboxMessage.status)
                    .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED,
                                                       OutboxStatus.UNCERTAIN]))).all()
            except Exception:  # noqa: BLE001 - a scrape must not fail because the database is away
                log.warning("metrics: database unavailable")
                return None
            finally:
                db.session.remove()
        figures = (counts, [tuple(row) for row in backlog])
        self.app.extensions[_DB_METRICS_KEY] = (now, figures)
        return figures

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        figures = self._read()
        if figures is None:
            return
        counts, backlog = figures
        checkins = CounterMetricFamily("opplevelseskort_checkins", "Check-ins recorded (voided included)")
        checkins.add_metric([], counts.get("checkin", 0))
        loans = CounterMetricFamily("opplevelseskort_loans", "Units lent (loan lines)")
        loans.add_metric([], counts.get("loan_line", 0))
        queue = GaugeMetricFamily("opplevelseskort_outbox_messages", "Outbox messages not sent", labels=["status"])
        found = dict(backlog)
        for status in ("pending", "failed", "uncertain"):
            queue.add_metric([status], found.get(status, 0))
        yield from (checkins, loans, queue)


def _registry(app):
    from prometheus_client import REGISTRY, CollectorRegistry

    if "registry" in _metrics:
        return _metrics["registry"]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    _metrics["registry"] = registry
    return registry


# --- readiness ---------------------------------------------------------------------------------------------

def readiness() -> dict[str, str]:
    """Each dependency's state: "ok" or what is wrong."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(db.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"unreachable ({type(exc).__name__})"
        db.session.rollback()
    storage = current_app.config.get("RATELIMIT_STORAGE_URI", "")
    if storage.startswith(("redis://", "rediss://")):
        try:
            import redis

            redis.Redis.from_url(storage, socket_timeout=2, socket_connect_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"unreachable ({type(exc).__name__})"
    if checks["database"] == "ok":
        checks["migrations"] = _migration_state()
    return checks


def _migration_state() -> str:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory


    directory = current_app.extensions["migrate"].directory
    heads = set(ScriptDirectory(directory).get_heads())
    current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    if not current and current_app.config.get("TESTING"):
        return "ok"  # the test suite builds its schema with create_all, not migrations
    return "ok" if current == heads else f"at {sorted(current) or 'none'}, head is {sorted(heads)}"


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks = readiness()
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), (200 if ok else 503)


@bp.get("/metrics")
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    token = current_app.config.get("METRICS_TOKEN")
    if not token and current_app.config["PRODUCTION"]:
        abort(404)  # private in production: without a token configured, there is nothing here
    if token and request.headers.get("Authorization", "") != f"Bearer {token}":
        return Response("unauthorized\n", status=401, mimetype="text/plain")
    registry = _registry(current_app)
    body = generate_latest(registry)
    from prometheus_client import CollectorRegistry

    extra = CollectorRegistry()
    extra.register(DatabaseCollector(current_app._get_current_object()))
    body += generate_latest(extra)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


for _view in (healthz, readyz, metrics):
    _view.public = True


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start():
        wanted = request.headers.get("X-Request-ID", "")
        g.request_id = wanted if _REQUEST_ID.match(wanted) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("started")
        if started is not None and request.endpoint not in ("ops.metrics", "ops.healthz", "static"):
            elapsed = time.perf_counter() - started
            endpoint = request.endpoint or "unmatched"
            _latency().labels(endpoint, request.method, f"{response.status_code // 100}xx").observe(elapsed)
            access_log.info("%s %s %s %.1f ms", request.method, endpoint, response.status_code, elapsed * 1000,
                            extra={"method": request.method, "endpoint": endpoint, "status": response.status_code,
                                   "duration_ms": round(elapsed * 1000, 1)})
        return response
