"""Partner commands (and the partner part's demo data)."""

from __future__ import annotations

from flask import Flask

from . import demo as _demo  # noqa: F401  (registers the demo hooks)


def register(app: Flask) -> None:
    return None
