"""The public catalogue's body, rendered once per question and shared by every family who asks it.

In the busiest hour a hundred families page through the same catalogue; its body (the filter form and the offer
cards) is the same for all of them and costs the door's workers CPU. It is kept per process, keyed by the
municipality, its `catalogue_version`, the day (offers end), the language and the filters. Every service that
changes what the catalogue shows (an offer, a partner, a zone) moves the version on in its own transaction
(`core.municipalities.catalogue_changed`), so no node serves a page older than the data, and nothing has to be told
to forget. The page around the body (the
menu, the language form with its per-session CSRF token, flashes) is rendered for each request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

MAX_ENTRIES = 512
_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()


def body(key: tuple, render: Callable[[], str]) -> str:
    """The cached body for `key`, or `render()` kept for the next family."""
    with _lock:
        found = _entries.get(key)
        if found is not None:
            _entries.move_to_end(key)
            return found
    html = render()
    with _lock:
        _entries[key] = html
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return html


def clear() -> None:
    with _lock:
        _entries.clear()
