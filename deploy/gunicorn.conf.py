"""gunicorn settings for an app node (used by the Dockerfile): workers from WEB_WORKERS, and Prometheus
multiprocess bookkeeping so a dead worker's latency series are dropped."""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
# Sync workers are safe only behind a buffering proxy: nginx (deploy/nginx.conf) reads each request body whole, at the
# client's pace, before it passes the request on, so a slow upload holds nginx, not one of these workers. Never expose
# gunicorn directly: six clients uploading at 20 KB/s would hold four workers for minutes (and /healthz with them).
workers = int(os.environ.get("WEB_WORKERS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))  # a request the app has whole never takes this long
accesslog = None  # the app logs each request itself, as JSON, by endpoint (never the path)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
