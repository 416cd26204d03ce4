"""The public catalogue's body, rendered once per question and shared by every family who asks it.

In the busiest hour a hundred families page through the same catalogue; its body (the filter form and the offer
cards) is the same for all of them and costs the door's workers CPU. It is kept per process, keyed by the
municipality, its `catalogue_version`, the day (offers end), the language and the filters. Every change to what
the catalogue shows moves the version on in the same transaction (an offer, a partner, a zone: a flush listener),
so no node serves a page older than the data, and nothing has to be told to forget. The page around the body (the
menu, the language form with its per-session CSRF token, flashes) is rendered for each request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..core.models import Municipality
from ..zones.models import Zone
from .models import Offer, Partner

MAX_ENTRIES = 512
_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()
WATCHED = (Offer, Partner, Zone)


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


def _changed_municipalities(session: Session, _context, _instances) -> None:
    touched = session.info.setdefault("catalogue_touched", set())
    for obj in list(session.new) + list(session.deleted) + [o for o in session.dirty if session.is_modified(o)]:
        if isinstance(obj, WATCHED) and getattr(obj, "municipality_id", None) is not None:
            touched.add(obj.municipality_id)


def _move_versions_on(session: Session, _context) -> None:
    touched = session.info.pop("catalogue_touched", None)
    if touched:
        session.connection().execute(sa.update(Municipality.__table__).where(Municipality.__table__.c.id.in_(
            sorted(touched))).values(catalogue_version=Municipality.__table__.c.catalogue_version + 1))


def init_app(_app) -> None:
    """Listen to every flush (once per process, however many apps are built)."""
    if not event.contains(Session, "before_flush", _changed_municipalities):
        event.listen(Session, "before_flush", _changed_municipalities)
        event.listen(Session, "after_flush", _move_versions_on)
