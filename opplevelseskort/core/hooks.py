"""The two real plug-in points, each with a provider per part, filled by the app factory:

- "metric_counts": each part counts its own rows for /metrics (core.ops);
- "demo_data": each part adds its demo data (core.demo), in the order the factory wires them.

Nothing else goes through here: where a page needs several parts, it lives in the part above them (the family's
pages in `portal`, an occasion's no-shows in `checkin`, a staff user's partner tie in `partners`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

_KEY = "opplevelseskort.hooks"
NAMES = ("metric_counts", "demo_data")


def provide(app: Flask, name: str, fn: Callable) -> None:
    """Add a provider for `name` (a hook may have several, e.g. one per part)."""
    if name not in NAMES:
        raise ValueError(f"{name!r} is no plug-in point: a page that needs several parts lives in the part above them")
    app.extensions.setdefault(_KEY, {}).setdefault(name, []).append(fn)


def providers(name: str) -> list[Callable]:
    return list(current_app.extensions.get(_KEY, {}).get(name, []))


def collect(name: str, *args) -> list:
    """Every provider's list for `name`, joined (an empty list when no part provides it)."""
    out: list = []
    for fn in providers(name):
        out.extend(fn(*args))
    return out
