"""gunicorn settings for an app node (used by the Dockerfile): workers from WEB_WORKERS, and Prometheus
multiprocess bookkeeping so a dead worker's latency series are dropped."""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "4"))
accesslog = None  # the app logs each request itself, as JSON, by endpoint (never the path)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
