"""Time as the platform sees it: stored in UTC, lived in Norway. The one definition of Oslo's time zone, of
"today" and of a timestamp's local date (a server's own clock may run on UTC)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import types

OSLO = ZoneInfo("Europe/Oslo")


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return types.utcnow()


def today() -> date:
    """Today's date in Norway: the one "today" every part uses."""
    return local_date(types.utcnow())


def local_date(value: datetime | None) -> date | None:
    """The calendar date in Norway of a UTC timestamp."""
    return value.astimezone(OSLO).date() if value is not None else None


def local_now() -> datetime:
    """Now, on Norway's wall clock."""
    return types.utcnow().astimezone(OSLO)
