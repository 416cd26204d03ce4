"""The deployment files agree with the app (issue 37, item 7): nginx takes the largest upload the app takes,
buffers request bodies, and gunicorn says why its sync workers are safe behind it."""

from __future__ import annotations

import re
from pathlib import Path

from opplevelseskort.config import load_config

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _size(text: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", text)
    assert m, text
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[m.group(2).lower()]


def test_nginx_takes_the_largest_upload_the_app_takes_and_buffers_it(tmp_path):
    conf = (DEPLOY / "nginx.conf").read_text()
    limit = _size(re.search(r"client_max_body_size\s+(\S+);", conf).group(1))
    assert limit >= load_config(str(tmp_path))["MAX_CONTENT_LENGTH"]
    assert not re.search(r"proxy_request_buffering\s+off", conf) and "proxy_request_buffering on" in conf


def test_gunicorn_documents_why_its_sync_workers_are_safe():
    conf = (DEPLOY / "gunicorn.conf.py").read_text()
    assert "buffering proxy" in conf and "worker_class" not in conf  # sync workers, behind nginx
