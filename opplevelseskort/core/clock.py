"""Time as the platform sees it: stored in UTC, lived in Norway. The one definition of Oslo's time zone, of
"today" and of a timestamp's local date (a server's own clock may run on UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from . import types
from .errors import DomainError

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


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """A month typed as YYYY-MM, as the UTC instants of its first and of the next month's first Norwegian midnight
    (a partner's statement, a settlement); anything else is refused with the reason."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = date(year, mon, 1)
    except (ValueError, TypeError):
        raise DomainError("month_invalid", _("Måned må skrives som ÅÅÅÅ-MM, for eksempel 2026-03.")) from None
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    return tuple(datetime(d.year, d.month, d.day, tzinfo=OSLO).astimezone(UTC) for d in (start, end))
