"""Named extension points, filled explicitly by the app factory (the one place that knows every part).

A lower part that needs something only a higher part knows (core's user form needs the partners to choose from;
partners' no-show list needs who checked in; the family's card page lists bookings and offers) asks for a hook
by name. The factory wires the providers in `opplevelseskort.create_app`; nothing registers itself at import,
and no part reads another part's tables through the shared metadata.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

_KEY = "opplevelseskort.hooks"


def provide(app: Flask, name: str, fn: Callable) -> None:
    """Add a provider for `name` (a hook may have several, e.g. one per part)."""
    app.extensions.setdefault(_KEY, {}).setdefault(name, []).append(fn)


def providers(name: str) -> list[Callable]:
    return list(current_app.extensions.get(_KEY, {}).get(name, []))


def collect(name: str, *args) -> list:
    """Every provider's list for `name`, joined (an empty list when no part provides it)."""
    out: list = []
    for fn in providers(name):
        out.extend(fn(*args))
    return out


def first(name: str, *args, default=None):
    """The single provider's answer for `name`, or `default` when no part provides it."""
    found = providers(name)
    return found[0](*args) if found else default
